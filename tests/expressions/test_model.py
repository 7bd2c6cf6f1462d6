"""The header dictionary expressions read: a look-up before the lines are indexed finds what
the index would."""

from __future__ import annotations

from gateway.expressions.model import HeaderDictionary

LINES = [("X-Slow", "1"), ("x-fast", "2"), ("X-SLOW", "3"), ("Host", "h"), ("x-slo", "4")]


def test_a_look_up_of_unindexed_lines_finds_what_the_index_finds() -> None:
    for name in ("x-slow", "X-Slow", "x-fast", "host", "x-slo", "x-sl", "absent", ""):
        unindexed = HeaderDictionary.from_lines(LINES, frozenset({"x-fast"}))
        indexed = HeaderDictionary.from_lines(LINES, frozenset({"x-fast"}))
        indexed.set("other", ["o"])  # a write indexes the lines
        assert unindexed.get(name) == indexed.get(name), name
    assert HeaderDictionary.from_lines(LINES).get("x-SLOW") == ["1", "3"]
