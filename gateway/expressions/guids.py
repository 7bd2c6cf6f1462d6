"""System.Guid beyond `NewGuid`: `new Guid(byte[])` and `new Guid(string)`, `ToByteArray`, and
`ToString` in its four formats, with .NET's byte order (a Guid's first three groups are
stored little-endian, so `new Guid(bytes).ToString()` does not print the bytes in order)."""

from __future__ import annotations

import uuid

from gateway.expressions.coerce import to_bytes
from gateway.expressions.values import ExpressionError, to_text, unwrap


def make_guid(args: list[object]) -> uuid.UUID:
    """`new Guid(bytes)` reads .NET's order (the first three groups little-endian, as
    `ToByteArray` writes them); `new Guid(text)` parses."""
    if len(args) != 1:
        raise ExpressionError("new Guid(...) takes 16 bytes or a string")
    value = unwrap(args[0])
    if isinstance(value, str):
        return parse_guid(value)
    raw = to_bytes(value)
    if len(raw) != 16:
        raise ExpressionError(f"new Guid(bytes) needs 16 bytes, got {len(raw)}")
    return uuid.UUID(bytes_le=raw)


def parse_guid(text: object) -> uuid.UUID:
    try:
        return uuid.UUID(to_text(text))
    except ValueError:
        raise ExpressionError(f"'{to_text(text)}' is not a valid Guid") from None


def guid_method(guid: uuid.UUID, name: str, args: list[object]) -> object:
    if name == "ToByteArray":  # .NET's order: the first three groups little-endian
        return guid.bytes_le
    spec = to_text(args[0]).upper() if args else "D"
    forms = {"D": str(guid), "N": guid.hex, "B": f"{{{guid}}}", "P": f"({guid})"}
    if spec not in forms:
        raise ExpressionError(f"'{spec}' is not a Guid format (D, N, B or P)")
    return forms[spec]
