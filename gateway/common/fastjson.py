"""JSON on the request path: orjson's speed with the standard library's tolerance.

Every request parses the provider's response (for its usage) and writes an access-log line;
orjson does each in a fraction of the standard library's time. What orjson refuses and the
standard library reads (NaN and Infinity literals) is read by the standard library. One
difference is left: orjson (3.13) reads an integer beyond 64 bits as a float, keeping 17
significant digits, where the standard library keeps it exact. Looking for such numbers
first (a search for 20 digits in a row) cost three times orjson's parse of a chat completion,
and the figures the gateway reads (usage, prices) refuse any such value anyway.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def loads(data: bytes | str) -> Any:
    """Parse JSON text; raises ValueError (json.JSONDecodeError) when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        try:
            return json.loads(data)  # the rare form orjson refuses, or a true error to raise
        except RecursionError:  # nested deeper than Python's stack: a client's body can be
            raise ValueError("JSON nested too deeply to read") from None


def dumps(value: Any) -> str:
    """Compact JSON text (UTF-8 kept as is); values JSON has no form for are written as text."""
    return orjson.dumps(value, default=str).decode()
