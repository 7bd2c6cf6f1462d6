"""fastjson.loads: every body that is not JSON is a ValueError, whatever its shape."""

from __future__ import annotations

import math

import pytest

from gateway.common.fastjson import loads


def test_json_nested_deeper_than_the_stack_is_a_value_error_not_a_recursion_error() -> None:
    # orjson refuses past 1,024 levels and the standard library's parser, tried next, would
    # recurse until Python's stack ends: a client's 200 kB body would be a 500.
    with pytest.raises(ValueError, match="nested too deeply"):
        loads(b"[" * 100_000 + b"]" * 100_000)


def test_what_only_the_standard_library_reads_is_still_read() -> None:
    assert math.isnan(loads(b"[NaN]")[0])  # orjson refuses NaN; the standard library reads it
