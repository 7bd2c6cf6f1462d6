"""The header dictionary against a plain model of it: any lines, any names dropped, then any
writes and reads give what an index made the obvious way (one `setdefault` per line) gives,
in the same order, spelling and case."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.expressions.model import HeaderDictionary

# Few names, several spellings of each: repeated and differently written names are common.
NAMES = st.sampled_from(["a", "A", "b", "B", "ab", "Ab", "x-y", "X-Y", "X-y"])
LINES = st.lists(st.tuples(NAMES, st.text("vw,", max_size=2)), max_size=8)
DROPPED = st.frozensets(st.sampled_from(["a", "b", "ab", "x-y", "z"]), max_size=3)
VALUES = st.lists(st.text("vw", max_size=2), max_size=3)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["set", "append"]), NAMES, VALUES),
        st.tuples(st.sampled_from(["remove", "get", "joined"]), NAMES, st.just([])),
        st.tuples(st.sampled_from(["lines", "Keys", "Values", "Count"]), st.just(""), st.just([])),
    ),
    max_size=6,
)


class Model:
    """The dictionary's meaning: lines as they came until a write (or Keys, Values, Count)
    indexes them by lower-case name, each name's values together under its first spelling."""

    def __init__(self, lines: list[tuple[str, str]], dropped: frozenset[str]) -> None:
        self.lines_kept = [(n, v) for n, v in lines if n.lower() not in dropped]
        self.index: dict[str, tuple[str, list[str]]] | None = None

    def indexed(self) -> dict[str, tuple[str, list[str]]]:
        if self.index is None:
            self.index = {}
            for name, value in self.lines_kept:
                self.index.setdefault(name.lower(), (name, []))[1].append(value)
        return self.index

    def run(self, operation: str, name: str, values: list[str]) -> object:
        key = name.lower()
        if operation == "set":
            self.indexed()[key] = (name, list(values))
        elif operation == "append":
            spelling, current = self.indexed().get(key, (name, []))
            self.indexed()[key] = (spelling, current + values)
        elif operation == "remove":
            self.indexed().pop(key, None)
        elif operation in ("get", "joined"):
            if self.index is None:
                found = [v for n, v in self.lines_kept if n.lower() == key] or None
            else:
                found = self.index[key][1] if key in self.index else None
            return found if operation == "get" or found is None else ",".join(found)
        elif operation == "lines":
            if self.index is None:
                return list(self.lines_kept)
            return [(n, v) for n, listed in self.index.values() for v in listed]
        elif operation == "Keys":
            return [n for n, _ in self.indexed().values()]
        elif operation == "Values":
            return [listed for _, listed in self.indexed().values()]
        else:
            return len(self.indexed())
        return None


def _run(headers: HeaderDictionary, operation: str, name: str, values: list[str]) -> object:
    if operation in ("set", "append", "remove", "get", "joined"):
        method = getattr(headers, operation)
        return method(name, values) if operation in ("set", "append") else method(name)
    if operation == "lines":
        return headers.lines()
    return getattr(headers, operation)


@settings(max_examples=400, deadline=None)
@given(LINES, DROPPED, OPERATIONS)
def test_the_dictionary_behaves_as_its_model(
    lines: list[tuple[str, str]], dropped: frozenset[str], operations: list
) -> None:
    headers, model = HeaderDictionary.from_lines(lines, dropped), Model(lines, dropped)
    for operation, name, values in [*operations, ("lines", "", [])]:
        assert _run(headers, operation, name, values) == model.run(operation, name, values)


def test_lines_given_are_not_shared() -> None:
    """What `lines` returns is the caller's to change (the proxy adds its own headers)."""
    headers = HeaderDictionary.from_lines([("a", "1")])
    headers.lines().append(("b", "2"))
    assert headers.lines() == [("a", "1")]
