"""`context.A.B...` read with as little work per request as `library.member` allows.

`member(value, name)` decides on every read what kind of value it was given and whether the
name is one expressions may read. For a model object the answer depends only on its class,
so each step of a path remembers the classes it has already read `name` of, and reads those
with one `getattr`. Anything else (null, a string, a JSON value, a class not yet seen, a name
a class does not expose) goes through `member` itself: the same value, the same error.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions.library import member
from gateway.expressions.model import ModelObject

Reader = Callable[[object], object]


def member_reader(name: str) -> tuple[set[type], Reader]:
    """(the classes known to expose `name`, the slow read that learns them): `value.name` is
    `getattr(value, name)` when `type(value)` is in the set, else `learn(value)`."""
    known: set[type] = set()

    def learn(value: object) -> object:
        found = member(value, name)  # raises for what may not be read: nothing learnt
        if isinstance(value, ModelObject):
            known.add(type(value))
        return found

    return known, learn


def path_reader(path: tuple[str, ...]) -> Reader:
    """`value.A.B...` for the member names `path` (at least one): what `member` gives step by
    step, with each step's class check done once per class instead of once per read."""
    steps = [(name, *member_reader(name)) for name in path]
    if len(steps) == 1:
        ((first, known, learn),) = steps

        def read1(value: object) -> object:
            return getattr(value, first) if type(value) in known else learn(value)

        return read1
    if len(steps) == 2:
        (first, known1, learn1), (second, known2, learn2) = steps

        def read2(value: object) -> object:
            value = getattr(value, first) if type(value) in known1 else learn1(value)
            return getattr(value, second) if type(value) in known2 else learn2(value)

        return read2

    def read(value: object) -> object:
        for name, known, learn in steps:
            value = getattr(value, name) if type(value) in known else learn(value)
        return value

    return read
