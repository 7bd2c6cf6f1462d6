"""How `cache-store-value` keeps a policy value as bytes, and gets it back the same type.

Strings, numbers, booleans and JSON (JObject/JArray) round-trip; anything else is stored as
its text, as APIM stores the string form of types it cannot serialise.
"""

from __future__ import annotations

import json

from gateway.expressions.values import JToken, to_text, to_token


def encode(value: object) -> bytes:
    if isinstance(value, JToken):
        return json.dumps({"j": value.to_python()}, separators=(",", ":")).encode()
    if value is None or isinstance(value, str | bool | int | float):
        return json.dumps({"v": value}, separators=(",", ":")).encode()
    return json.dumps({"v": to_text(value)}, separators=(",", ":")).encode()


def decode(data: bytes) -> object:
    stored = json.loads(data)
    if "j" in stored:
        return to_token(stored["j"])
    return stored["v"]
