"""The typed configuration from checked gateway.yaml data, by the shapes derived from it.

The reader has checked the data and reported every mistake, leaving out what it could not read;
here each mapping becomes its dataclass. A key that is absent takes its declared default; an
entry without a required key that has no default is left out (the reader said why).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.common.diagnostics import Location
from gateway.config.reader import Path as KeyPath
from gateway.config.secrets import ConfigValue
from gateway.config.shapes import Field, Shape


def build(
    shape: Shape, data: Mapping[str, Any], base: Path, locations: Mapping[KeyPath, Location]
) -> Any:
    """The dataclass of `shape` from `data`; `base` is where relative secret files are."""
    return _Builder(base, locations).entry(shape, data, ())


class _Builder:
    def __init__(self, base: Path, locations: Mapping[KeyPath, Location]) -> None:
        self.base = base
        self.locations = locations

    def entry(
        self, shape: Shape, data: Mapping[str, Any], at: KeyPath, name: str | None = None
    ) -> object | None:
        values: dict[str, object] = {}
        for field_ in shape.fields:
            raw = data.get(field_.name)
            if raw is not None:
                values[field_.attribute] = self.value(field_, raw, (*at, field_.name))
        if shape.extra is not None:
            others = {k: v for k, v in data.items() if shape.get(k) is None and v is not None}
            values[shape.extra.attribute] = {
                k: self.scalar(shape.extra, v) for k, v in others.items()
            }
        if shape.entry_id is not None:
            values[shape.entry_id] = name
        if shape.position is not None:
            values[shape.position] = self.locations.get(at)
        for field_ in shape.fields:
            if field_.fallback is not None and field_.attribute not in values:
                values[field_.attribute] = values.get(field_.fallback)
        given = {k: v for k, v in values.items() if v is not None}  # None: the default
        if not shape.needs <= given.keys():
            return None
        return shape.cls(**given)

    def value(self, field_: Field, raw: Any, at: KeyPath) -> object | None:
        if field_.kind == "shape":
            assert field_.shape is not None
            return self.entry(field_.shape, raw, at)
        if field_.kind == "map":
            built = {k: self.item(field_, v, (*at, k), k) for k, v in raw.items()}
            return {k: v for k, v in built.items() if v is not None}
        if field_.kind == "list":
            built_items = (self.item(field_, v, (*at, i)) for i, v in enumerate(raw))
            return tuple(v for v in built_items if v is not None)
        return self.scalar(field_, raw)

    def item(self, field_: Field, raw: Any, at: KeyPath, name: str | None = None) -> object | None:
        if field_.shape is not None:
            return self.entry(field_.shape, raw, at, name)
        return self.scalar(field_, raw)

    def scalar(self, field_: Field, raw: object) -> object:
        return ConfigValue(str(raw), self.base) if field_.secret else raw
