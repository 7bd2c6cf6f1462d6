"""Per-request state that statements keep for themselves, one value per type.

A statement's own class is its key: what `cache-lookup` leaves for `cache-store` is a
`ResponsePlan`, found again by that type, so each statement pair owns its entry and its
entry's type, and no two statements can collide on a string.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

T = TypeVar("T")


class StatementState:
    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: dict[type, object] = {}

    def get(self, kind: type[T]) -> T | None:
        """The value of type `kind`, or None when no statement put one."""
        return cast("T | None", self._values.get(kind))

    def put(self, value: object) -> None:
        """Keep `value` under its own type (replacing the one before it)."""
        self._values[type(value)] = value

    def setdefault(self, kind: type[T], make: Callable[[], T] | None = None) -> T:
        """The value of type `kind`, made (by `make`, else `kind()`) when there is none."""
        found = self._values.get(kind)
        if found is None:
            found = self._values[kind] = (make or kind)()
        return cast("T", found)
