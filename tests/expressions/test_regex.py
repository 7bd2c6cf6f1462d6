"""Regular expressions in policy expressions: .NET's dialect, and a time limit no pattern or
input chosen by a client can get around (the step budget counts one step per call)."""

from __future__ import annotations

import pytest

from gateway.expressions.allowance import MAX_PATTERN
from tests.expressions.evaluators import same_outcome

HEADER = 'context.Request.Headers.GetValueOrDefault("x", "")'
# Each extra "a" doubles the backtracking of this pattern, in `re` and in `regex` alike.
EXPLOSIVE = "^(a|a)+$"


def test_a_backtracking_pattern_on_a_client_header_times_out_instead_of_stalling() -> None:
    source = f'@(Regex.IsMatch({HEADER}, "{EXPLOSIVE}"))'
    kind, message = same_outcome(source, {"x": "a" * 26 + "!"})
    assert kind == "error"
    assert "RegexMatchTimeoutException" in str(message)


def test_the_nested_quantifier_of_the_report_answers_as_dotnet_does() -> None:
    assert same_outcome(f'@(Regex.IsMatch({HEADER}, "^(a+)+$"))', {"x": "a" * 27 + "!"}) == (
        "value",
        False,
    )
    assert same_outcome(f'@(Regex.IsMatch({HEADER}, "^(a+)+$"))', {"x": "aaa"}) == ("value", True)


def test_a_backtracking_pattern_in_a_loop_shares_one_time_limit() -> None:
    # Caught and retried: every later call fails at once, the evaluation's time being spent.
    source = (
        "@{ var failed = 0; for (var i = 0; i < 200; i++) { try { "
        f'Regex.IsMatch({HEADER}, "{EXPLOSIVE}"); '
        "} catch (Exception e) { failed++; } } return failed; }"
    )
    assert same_outcome(source, {"x": "a" * 26 + "!"}) == ("value", 200)


def test_a_pattern_from_a_client_longer_than_the_limit_is_refused() -> None:
    source = f'@(Regex.IsMatch("text", {HEADER}))'
    kind, message = same_outcome(source, {"x": "a" * (MAX_PATTERN + 1)})
    assert kind == "error" and "at most" in str(message)
    assert same_outcome(source, {"x": "t.x"}) == ("value", True)


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ('@(Regex.Match("id-42", "(?<n>\\\\d+)").Groups["n"].Value)', "42"),
        ('@(Regex.Replace("a1b2", "(?<d>\\\\d)", "<$1>"))', "a<1>b<2>"),
        ('@(new Regex("B", RegexOptions.IgnoreCase).IsMatch("abc"))', True),
        ('@(Regex.Matches("a1b22", "\\\\d+").Count)', 2),
        ('@(Regex.Split("a, b,c", ",\\\\s*").Length)', 3),
    ],
)
def test_dotnet_patterns_still_read_as_before(source: str, value: object) -> None:
    assert same_outcome(source) == ("value", value)


def test_an_invalid_pattern_is_an_expression_error() -> None:
    kind, message = same_outcome(f'@(Regex.IsMatch("x", {HEADER}))', {"x": "(unclosed"})
    assert kind == "error" and "not valid" in str(message)
