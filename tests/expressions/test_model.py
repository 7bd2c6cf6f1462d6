"""The header dictionary expressions read: a look-up before the lines are indexed finds what
the index would."""

from __future__ import annotations

from gateway.expressions.model import HeaderDictionary

LINES = [("X-Slow", "1"), ("x-fast", "2"), ("X-SLOW", "3"), ("Host", "h"), ("x-slo", "4")]


def test_a_look_up_of_unindexed_lines_finds_what_the_index_finds() -> None:
    for name in ("x-slow", "X-Slow", "x-fast", "host", "x-slo", "x-sl", "absent", ""):
        unindexed = HeaderDictionary.from_lines(LINES, frozenset({"x-fast"}))
        indexed = HeaderDictionary.from_lines(LINES, frozenset({"x-fast"}))
        assert indexed.Count >= 0  # Count indexes the lines
        assert unindexed.get(name) == indexed.get(name), name
    assert HeaderDictionary.from_lines(LINES).get("x-SLOW") == ["1", "3"]


def test_a_new_name_on_distinct_lines_is_added_without_an_index() -> None:
    headers = HeaderDictionary.from_lines([("Host", "h"), ("X-A", "1")], frozenset({"x-gone"}))
    headers.set("x-new", ["2"])
    headers.append("Set-Cookie", ["c1", "c2"])
    headers.remove("absent")
    assert headers._pending is not None  # still the lines: nothing made an index
    assert headers.lines() == [
        ("Host", "h"),
        ("X-A", "1"),
        ("x-new", "2"),
        ("Set-Cookie", "c1"),
        ("Set-Cookie", "c2"),
    ]
    # A name already there, or dropped, is the index's to change.
    for name in ("x-a", "X-GONE"):
        other = HeaderDictionary.from_lines([("Host", "h"), ("X-A", "1")], frozenset({"x-gone"}))
        other.set(name, ["3"])
        assert other._pending is None


def test_lines_that_repeat_a_name_are_indexed_before_a_write() -> None:
    """The index puts one name's lines together under its first spelling, which a write
    must show, as it did when every write made the index."""
    headers = HeaderDictionary.from_lines([("x-a", "1"), ("Host", "h"), ("X-A", "2")])
    headers.set("x-new", ["3"])
    assert headers._pending is None
    assert headers.lines() == [("x-a", "1"), ("x-a", "2"), ("Host", "h"), ("x-new", "3")]


def test_lines_of_a_dropped_name_stay_out_after_a_write() -> None:
    headers = HeaderDictionary.from_lines(
        [("Host", "h"), ("Connection", "close")], frozenset({"connection"})
    )
    headers.set("x-new", ["1"])
    assert headers.lines() == [("Host", "h"), ("x-new", "1")]
