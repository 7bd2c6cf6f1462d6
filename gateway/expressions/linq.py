"""LINQ and List<T> methods over sequences (lists, arrays, JArray items, dictionary pairs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.expressions.allowance import allocate_items, joined, texts
from gateway.expressions.coerce import Pair
from gateway.expressions.values import ExpressionError, JArray, JToken, to_text, unwrap

Func = Callable[..., Any]


def _first(items: list[object], predicate: Func | None, default: bool) -> object:
    for item in items:
        if predicate is None or predicate(item):
            return item
    if default:
        return None
    raise ExpressionError("the sequence contains no matching element")


def _key(function: Func | None) -> Func:
    return (lambda x: unwrap(function(x))) if function else unwrap


def _aggregate(items: list[object], function: Func | None, how: Callable[..., Any]) -> object:
    values = [unwrap(function(i) if function else i) for i in items]
    if not values and how is not sum:
        raise ExpressionError("the sequence contains no elements")
    return how(values)


def _add(items: Any, value: object) -> None:
    if not isinstance(items, list):
        raise ExpressionError("Add() needs a list")
    items.append(value)


METHODS: dict[str, Callable[..., object]] = {
    "Select": lambda items, f: [f(i) for i in items],
    "Where": lambda items, f: [i for i in items if f(i)],
    "First": lambda items, f=None: _first(items, f, default=False),
    "FirstOrDefault": lambda items, f=None: _first(items, f, default=True),
    "Last": lambda items, f=None: _first(list(reversed(items)), f, default=False),
    "LastOrDefault": lambda items, f=None: _first(list(reversed(items)), f, default=True),
    "Single": lambda items, f=None: _first(items, f, default=False),
    "SingleOrDefault": lambda items, f=None: _first(items, f, default=True),
    "Any": lambda items, f=None: any(f(i) for i in items) if f else bool(items),
    "All": lambda items, f: all(f(i) for i in items),
    "Count": lambda items, f=None: sum(1 for i in items if f(i)) if f else len(items),
    "Sum": lambda items, f=None: _aggregate(items, f, sum),
    "Max": lambda items, f=None: _aggregate(items, f, max),
    "Min": lambda items, f=None: _aggregate(items, f, min),
    "Average": lambda items, f=None: _aggregate(items, f, lambda v: sum(v) / len(v)),
    "OrderBy": lambda items, f=None: sorted(items, key=_key(f)),
    "OrderByDescending": lambda items, f=None: sorted(items, key=_key(f), reverse=True),
    "ThenBy": lambda items, f=None: items,
    "Reverse": lambda items: list(reversed(items)),
    "Skip": lambda items, n: items[int(unwrap(n)) :],
    "Take": lambda items, n: items[: int(unwrap(n))],
    "Distinct": lambda items: list(dict.fromkeys(items)),
    "Concat": lambda items, other: _concat(items, other),
    "Contains": lambda items, v: unwrap(v) in [unwrap(i) for i in items],
    "ToList": list,
    "ToArray": list,
    "AsEnumerable": list,
    "ElementAt": lambda items, n: items[int(unwrap(n))],
    "IndexOf": lambda items, v: next(
        (i for i, x in enumerate(items) if unwrap(x) == unwrap(v)), -1
    ),
    "Join": lambda items, sep: joined(texts(items), to_text(sep)),
    "Add": _add,
    "Clear": lambda items: items.clear(),
    "Remove": lambda items, v: items.remove(v) if v in items else None,
    "ToDictionary": lambda items, k, v=None: {to_text(k(i)): (v(i) if v else i) for i in items},
    "GroupBy": lambda items, k: _group(items, k),
}


def _concat(items: list[object], other: Any) -> list[object]:
    """A list doubled in a loop (`a = a.Concat(a).ToList()`) grows 2^n: charged first."""
    rest = list(other)
    allocate_items(len(items) + len(rest))
    return [*items, *rest]


def _group(items: list[object], key: Func) -> list[object]:
    groups: dict[object, list[object]] = {}
    for item in items:
        groups.setdefault(unwrap(key(item)), []).append(item)
    return [Pair(str(k), v) for k, v in groups.items()]


def call(target: object, name: str, args: list[object], type_args: tuple[str, ...]) -> object:
    items: Any = target.items if isinstance(target, JArray) else target
    if isinstance(items, tuple | set):
        items = list(items)
    method = METHODS.get(name)
    if method is None or not isinstance(items, list):
        kind = "JSON value" if isinstance(target, JToken) else "sequence"
        raise ExpressionError(f"a {kind} has no method {name}()")
    try:
        return method(items, *args)
    except TypeError as error:
        raise ExpressionError(f"{name}() was called with the wrong arguments ({error})") from None
