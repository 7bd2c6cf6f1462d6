"""gateway.yaml's shapes, derived from the typed configuration's declarations.

A `Shape` is a mapping with known keys (`Field`s); a field's `kind` says what its value is.
`gateway.config.reader` checks a YAML document against them, `gateway.config.build` turns the
checked data into the dataclasses, `gateway.config.json_schema` writes them as JSON Schema: all
from the one declaration of each key (`gateway.config.keys`), so none of them can drift.
"""

from __future__ import annotations

import inspect
import types
from dataclasses import MISSING, dataclass, fields, is_dataclass, replace
from functools import cache
from typing import Literal, NamedTuple, Union, get_args, get_origin, get_type_hints

from gateway.config.keys import METADATA, Key
from gateway.config.secrets import ConfigValue

_SCALARS: dict[object, str] = {
    str: "string",
    int: "int",
    float: "number",
    bool: "bool",
    ConfigValue: "string",
}


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # the YAML key
    attribute: str  # the dataclass field its value goes to
    # string | int | number | bool | duration | enum | url | path | status-range (scalars),
    # shape | map | list
    kind: str
    doc: str = ""
    required: bool = False
    default: object = None  # as YAML writes it, for JSON Schema; None: none to show
    choices: tuple[str, ...] = ()
    shape: Shape | None = None  # for kind "shape", and the item of "map"/"list" of shapes
    item_kind: str = "shape"  # for "map"/"list": the kind of each item
    minimum: float | None = None
    maximum: float | None = None
    secret: bool = False  # values are `ConfigValue`s: they may name a secret, resolved late
    fallback: str | None = None  # the attribute whose value this one takes when absent


@dataclass(frozen=True, slots=True)
class Shape:
    cls: type  # the dataclass built from a mapping of this shape
    fields: tuple[Field, ...]
    doc: str = ""
    shorthand: str | None = None  # a scalar in place of the mapping sets this key
    extra: Field | None = None  # any other key is read as this, into this attribute's map
    entry_id: str | None = None  # the attribute that gets the entry's name in its map
    position: str | None = None  # the attribute that gets where the entry is written
    needs: frozenset[str] = frozenset()  # attributes without a default: no entry without them

    def get(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.name == key), None)


class _Value(NamedTuple):
    kind: str
    shape: Shape | None = None
    choices: tuple[str, ...] = ()
    secret: bool = False


@cache
def shape_of(cls: type) -> Shape:
    """The shape of a configuration dataclass, from its fields' annotations and `key()`s.

    A class says its shorthand with `SHORTHAND: ClassVar[str]` (the key a bare scalar sets);
    its doc is its docstring's first paragraph."""
    hints = get_type_hints(cls)
    found: list[Field] = []
    extra: Field | None = None
    entry_id: str | None = None
    where: str | None = None
    needs: set[str] = set()
    for declared_field in fields(cls):
        attribute = declared_field.name
        declared = declared_field.metadata.get(METADATA)
        if not isinstance(declared, Key):
            raise TypeError(f"{cls.__name__}.{attribute} is not declared with key()")
        if declared.role == "id":
            entry_id = attribute
            continue
        if declared.role == "position":
            where = attribute
            continue
        if declared_field.default is MISSING and declared_field.default_factory is MISSING:
            needs.add(attribute)
        field_ = _field(attribute, declared, hints[attribute], declared_field.default)
        if declared.extra:  # a map of the other keys: each key is read as one of its items
            extra = replace(field_, kind=field_.item_kind, item_kind="shape")
        else:
            found.append(field_)
    shorthand = getattr(cls, "SHORTHAND", None)
    return Shape(cls, tuple(found), _doc(cls), shorthand, extra, entry_id, where, frozenset(needs))


def _field(attribute: str, declared: Key, hint: object, default: object) -> Field:
    hint = _without_none(hint)
    origin = get_origin(hint)
    if origin is dict or (origin is tuple and get_args(hint)[1:] == (Ellipsis,)):
        kind = "map" if origin is dict else "list"
        item = _value(get_args(hint)[-1 if origin is dict else 0], declared.kind)
    else:
        item = _value(hint, declared.kind)
        kind = item.kind
    return Field(
        name=declared.name or attribute.replace("_", "-"),
        attribute=attribute,
        kind=kind,
        doc=declared.doc,
        required=declared.required,
        default=None if declared.required or declared.fallback else _shown(default),
        choices=item.choices,
        shape=item.shape,
        item_kind=item.kind if kind in ("map", "list") else "shape",
        minimum=declared.minimum,
        maximum=declared.maximum,
        secret=item.secret,
        fallback=declared.fallback,
    )


def _value(hint: object, kind: str | None) -> _Value:
    secret = hint is ConfigValue
    if kind is not None:
        return _Value(kind, secret=secret)
    if hint in _SCALARS:  # before sections: a ConfigValue is a dataclass too
        return _Value(_SCALARS[hint], secret=secret)
    if isinstance(hint, type) and is_dataclass(hint):
        return _Value("shape", shape=shape_of(hint))
    if get_origin(hint) is Literal:
        return _Value("enum", choices=tuple(str(choice) for choice in get_args(hint)))
    raise TypeError(f"no gateway.yaml kind for {hint!r}: declare one with key(kind=...)")


def _without_none(hint: object) -> object:
    """`X | None` -> X: an absent key is what None stands for."""
    if get_origin(hint) in (Union, types.UnionType):
        args = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def _shown(default: object) -> object:
    """A default as gateway.yaml would write it; None when there is none worth showing
    (none at all, a fresh section or map, empty text)."""
    if isinstance(default, ConfigValue):
        return default.raw
    if isinstance(default, str | int | float) and default != "":
        return default
    return None


def _doc(cls: type) -> str:
    first = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0]
    return " ".join(first.split())
