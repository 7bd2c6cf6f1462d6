"""JSON Schema (draft 2020-12) for gateway.yaml, generated from the same shapes that check it."""

from __future__ import annotations

from typing import Any

from gateway.config.settings import GatewayConfig
from gateway.config.shapes import Field, Shape, shape_of

_REFERENCE = r"\$\{(env|file):[^}]+\}"
_SCALARS: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "path": {"type": "string"},
    "status-range": {"type": "string"},
    "int": {"type": "integer"},
    "number": {"type": "number"},
    "bool": {"type": "boolean"},
    "duration": {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": "^P"}]},
    "url": {"type": "string", "pattern": f"^(https?://|{_REFERENCE})"},
}


def _field(field_: Field) -> dict[str, Any]:
    if field_.kind == "shape":
        assert field_.shape is not None
        schema = _shape(field_.shape)
    elif field_.kind in ("map", "list"):
        if field_.shape and field_.item_kind == "shape":
            item = _shape(field_.shape)
        elif field_.item_kind == "enum":  # a list of choices: wildcard-operations' methods
            item = {"enum": list(field_.choices)}
        else:
            item = dict(_SCALARS[field_.item_kind])
        if field_.kind == "map":
            schema = {"type": ["object", "null"], "additionalProperties": item}
        else:
            schema = {"type": ["array", "null"], "items": item}
    elif field_.kind == "enum":
        schema = {"enum": list(field_.choices)}
    else:
        schema = dict(_SCALARS[field_.kind])
    if field_.minimum is not None:
        schema["minimum"] = field_.minimum
    if field_.maximum is not None:
        schema["maximum"] = field_.maximum
    if field_.default is not None:
        schema["default"] = field_.default
    if field_.doc:
        schema["description"] = field_.doc
    return schema


def _shape(shape: Shape) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {f.name: _field(f) for f in shape.fields},
        "additionalProperties": _field(shape.extra) if shape.extra else False,
    }
    required = [f.name for f in shape.fields if f.required]
    if required:
        schema["required"] = required
    if shape.doc:
        schema["description"] = shape.doc
    if shape.shorthand:
        shorthand = shape.get(shape.shorthand)
        assert shorthand is not None
        return {"anyOf": [schema, _field(shorthand)]}
    return schema


def json_schema() -> dict[str, Any]:
    schema = _shape(shape_of(GatewayConfig))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://aigw.dev/schemas/gateway.schema.json",
        "title": "aigw gateway.yaml",
        **schema,
    }
