"""How a gateway.yaml key is declared: once, on the dataclass field that holds its value.

    timeout: float = key(300.0, "Seconds to wait for response headers.", kind="duration")

The field's annotation says what the value is: a section (a dataclass), a map of named
entries (`dict[str, Entry]`), a list (`tuple[Item, ...]`), a scalar, an enum (`Literal[...]`),
a value that may name a secret (`ConfigValue`). `key()` adds what the type cannot say: the
default, the doc, a scalar kind, whether the key must be written, the range of a number.
`gateway.config.shapes` derives from these declarations what the reader checks, what
`gateway.config.build` builds and what JSON Schema says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING, dataclass, field
from typing import Any, Literal

METADATA = "aigw.key"  # where a field's `Key` is kept in its dataclass metadata


@dataclass(frozen=True, slots=True)
class Key:
    doc: str = ""
    name: str | None = None  # the YAML key; None: the field's name with "_" for "-"
    # A scalar kind the type does not say: duration (seconds or ISO 8601, read as seconds),
    # url (absolute http(s)), path (a URL suffix, read without its slashes), status-range
    # ("429" or "500-599", read as a (low, high) pair). For a map or a list: its items' kind.
    kind: str | None = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    fallback: str | None = None  # the field whose value this one takes when the key is absent
    extra: bool = False  # a map of every other key of the section (as stores' named stores)
    # id: the entry's name in its map; position: where the entry is written. Neither is a key.
    role: Literal["key", "id", "position"] = "key"


def key(
    default: object = MISSING,
    doc: str = "",
    *,
    name: str | None = None,
    kind: str | None = None,
    required: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    fallback: str | None = None,
    extra: bool = False,
) -> Any:
    """A gateway.yaml key. `default` may be a class (`dict`, a section): each value gets a
    fresh one. A required key may still have a default: what an entry keeps when the key is
    missing (the reader reports it), so one mistake does not hide the entry from the checks
    that follow; a required key without one leaves its entry out."""
    declared = Key(doc, name, kind, required, minimum, maximum, fallback, extra)
    metadata = {METADATA: declared}
    if default is MISSING:
        return field(metadata=metadata)
    if callable(default):
        factory: Callable[[], object] = default
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def entry_id() -> Any:
    """The entry's name: its key in the map it is declared under (`backends: {east: ...}`)."""
    return field(metadata={METADATA: Key(role="id")})


def position() -> Any:
    """Where the entry is written in gateway.yaml, for errors found after loading."""
    return field(default=None, metadata={METADATA: Key(role="position")})
