"""The allocation budget: a call whose result's size a client chooses (a width, a count, a
replacement repeated per match) is charged that size before it is made, so one request cannot
make an expression allocate gigabytes in a few steps. All three evaluators fail at the same call
with the same error."""

from __future__ import annotations

import pytest

from gateway.expressions import Expression
from gateway.expressions.allowance import ALLOCATION_SPENT, MAX_ALLOCATION
from gateway.expressions.program import charges
from tests.expressions.evaluators import same_outcome

HEADER = 'context.Request.Headers.GetValueOrDefault("x", "")'
HUGE = str(2_000_000_000)  # characters, items or bytes: gigabytes if made


@pytest.mark.parametrize(
    "source",
    [
        f'@("x".PadLeft(int.Parse({HEADER})))',
        f"@(\"x\".PadRight(int.Parse({HEADER}), '-'))",
        f"@(new string('a', int.Parse({HEADER})))",
        f"@(Enumerable.Range(0, int.Parse({HEADER})).Count())",
        f"@(new byte[int.Parse({HEADER})].Length)",
    ],
)
def test_a_size_chosen_by_the_client_is_refused_before_allocating(source: str) -> None:
    assert same_outcome(source, {"x": HUGE}) == ("error", ALLOCATION_SPENT)
    assert same_outcome(source, {"x": "3"})[0] == "value"


def test_doubling_a_string_in_a_loop_runs_out_of_allocation_not_memory() -> None:
    source = '@{ var s = "x"; while (true) { s = s + s; } }'
    assert same_outcome(source) == ("error", ALLOCATION_SPENT)


def test_interpolating_a_string_into_itself_in_a_loop_runs_out_of_allocation() -> None:
    source = '@{ var s = "x"; while (true) { s = $"{s}{s}{s}"; } }'
    assert same_outcome(source) == ("error", ALLOCATION_SPENT)


def test_a_replacement_multiplying_a_header_is_charged_before_it_is_made() -> None:
    # 64 Ki "a"s, each replaced by 1 Ki characters: 64 MiB from one short header.
    source = f"@({HEADER}.Replace(\"a\", new string('b', 1024)).Length)"
    assert same_outcome(source, {"x": "a" * 65536}) == ("error", ALLOCATION_SPENT)
    assert same_outcome(source, {"x": "aa"}) == ("value", 2048)


def test_a_regex_replacement_multiplying_a_header_is_charged_as_it_grows() -> None:
    # 1,024 matches of 64 KB each: over the budget after about 512 of them, few enough to get
    # there well within the regex time limit on a loaded machine (65,536 matches of 1 KB did not).
    source = f"@(Regex.Replace({HEADER}, \"a\", new string('b', 65536)).Length)"
    assert same_outcome(source, {"x": "a" * 1024}) == ("error", ALLOCATION_SPENT)
    assert same_outcome(source, {"x": "aa"}) == ("value", 131072)


def test_a_format_repeating_one_long_argument_is_charged_per_hole() -> None:
    source = f"@(string.Format({HEADER}, new string('b', 1048576)).Length)"
    assert same_outcome(source, {"x": "{0}" * 64}) == ("error", ALLOCATION_SPENT)
    assert same_outcome(source, {"x": "{0}"}) == ("value", 1048576)


def test_joining_one_long_string_many_times_is_charged_before_joining() -> None:
    source = (
        "@{ var parts = new List<string>(); var big = new string('b', 1048576); "
        'for (var i = 0; i < 64; i++) { parts.Add(big); } return string.Join(",", parts).Length; }'
    )
    assert same_outcome(source) == ("error", ALLOCATION_SPENT)


def test_the_allocation_budget_is_per_evaluation() -> None:
    # Each evaluation may make almost the whole budget, however many ran before it.
    source = f"@(new string('a', {MAX_ALLOCATION - 16}).Length)"
    for _ in range(3):
        assert same_outcome(source) == ("value", MAX_ALLOCATION - 16)


def test_doubling_a_list_in_a_loop_runs_out_of_allocation_not_memory() -> None:
    source = "@{ var a = new List<object> { 1 }; while (true) { a = a.Concat(a).ToList(); } }"
    assert same_outcome(source) == ("error", ALLOCATION_SPENT)


def test_an_expression_that_cannot_charge_leaves_the_next_one_a_whole_budget() -> None:
    # A comparison of members does not reset the allowance (it cannot charge it); whatever
    # it leaves, the next expression that can charge starts from a fresh one.
    big = f"@(new string('a', {MAX_ALLOCATION - 16}).Length)"
    assert same_outcome(big) == ("value", MAX_ALLOCATION - 16)
    assert same_outcome("@(context.Response.StatusCode >= 500)") == ("value", False)
    assert same_outcome(big) == ("value", MAX_ALLOCATION - 16)


@pytest.mark.parametrize(
    ("source", "may_charge"),
    [
        ("@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)", False),
        ('@(context.Variables["a"] ?? context.Api.Id)', False),
        ('@(context.Api.Id + "-x")', True),
        ('@(context.Request.Headers.GetValueOrDefault("a", "") == "1")', False),
        ('@(context.Response.Headers.ContainsKey("a"))', False),
        ('@(context.Request.Headers.GetValueOrDefault("a", context.Api.Id + "-x"))', True),
        ('@(context.Request.Headers.GetValueOrDefault("a", "").PadLeft(9))', True),
        ('@(context.Request.Body.As<JObject>().GetValueOrDefault("a", ""))', True),
        ('@(context.Variables.GetValueOrDefault<string>("a", ""))', True),
        ("@(new[] { 1 }.Select(context => context.Request.Headers.ContainsKey(1)).Any())", True),
        ('@($"{context.Api.Id}")', True),
        ("@((string)context.Api.Id)", True),
    ],
)
def test_only_what_may_charge_the_allowance_resets_it(source: str, may_charge: bool) -> None:
    assert charges(Expression(source).tree) is may_charge
