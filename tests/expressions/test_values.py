"""C#'s integer arithmetic: `int` wraps at 32 bits and `long` at 64 (unchecked, C#'s default),
where Python's ints never overflow."""

from __future__ import annotations

import pytest

from gateway.expressions.values import Long
from tests.expressions.evaluators import outcomes, same_outcome

HEADER = 'context.Request.Headers.GetValueOrDefault("x", "0")'


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ("@(int.MaxValue + 1)", -(2**31)),
        ("@(int.MinValue - 1)", 2**31 - 1),
        ("@(-int.MinValue)", -(2**31)),
        ("@{ int x = int.MaxValue; x++; return x; }", -(2**31)),
        ("@(65536 * 65536)", 0),
        ("@(1 << 33)", 2),  # the count is taken modulo 32 for an int
        ("@(2147483647 * 3)", 2147483645),
        ("@(long.MaxValue + 1)", -(2**63)),
        ("@(int.MaxValue + 1L)", 2**31),  # an int and a long: long arithmetic
        ("@{ int x = int.MaxValue; return (long)x * 2; }", 2**32 - 2),
        ("@{ long big = 100000; return big * 100000; }", 10**10),
        ("@(1L << 33)", 2**33),
        ("@((int)(long.MaxValue))", -1),
        ("@((byte)(258))", 2),
        ("@(3000000000 + 1)", 3000000001),  # a literal beyond int is a long
        ("@(7 / 2 + 7 % 3)", 4),
    ],
)
def test_integer_overflow_wraps_as_in_csharp(source: str, value: int) -> None:
    assert same_outcome(source) == ("value", value)


def test_a_client_number_times_a_constant_wraps_as_an_int() -> None:
    source = f"@(int.Parse({HEADER}) * 1000)"
    assert same_outcome(source, {"x": "3000000"}) == ("value", -1294967296)
    assert same_outcome(f"@(long.Parse({HEADER}) * 1000)", {"x": "3000000"}) == (
        "value",
        3_000_000_000,
    )


def test_longs_stay_longs() -> None:
    kind, value = same_outcome('@(long.Parse("5") + 1)')
    assert kind == "value" and type(value) is Long and value == 6
    for kind, value in outcomes("@(DateTime.UtcNow.Ticks)").values():
        assert kind == "value" and type(value) is Long
