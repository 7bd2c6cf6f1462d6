"""retry: the condition after each run, the count, the waits, and errors leaving the loop."""

from __future__ import annotations

import asyncio
import time

import pytest

from gateway.expressions.model import ContextModel, HeaderDictionary, RequestModel
from gateway.runtime.context import RequestContext
from gateway.runtime.step import PolicyError
from gateway.statements.retry import wait_before
from tests.policies import compile_policy

COUNT_UP = '<set-variable name="n" value="@((int)context.Variables.GetValueOrDefault(&quot;n&quot;, 0) + 1)" />'


def attempts(retry_open_tag: str, inner: str = COUNT_UP) -> tuple[int, float]:
    policy = compile_policy(
        f"<policies><inbound>{retry_open_tag}{inner}</retry></inbound></policies>"
    )
    request = RequestContext(ContextModel(Request=RequestModel(Headers=HeaderDictionary())))
    started = time.monotonic()
    asyncio.run(policy.inbound.run(request))
    return int(request.variables["n"]), time.monotonic() - started  # type: ignore[call-overload]


def test_the_condition_is_read_after_each_run_and_count_caps_the_retries() -> None:
    until_three = '<retry condition="@((int)context.Variables[&quot;n&quot;] &lt; 3)" count="10" interval="0">'
    assert attempts(until_three)[0] == 3
    always = '<retry condition="true" count="2" interval="0">'
    assert attempts(always)[0] == 3  # the first run and two retries
    never = '<retry condition="false" count="5" interval="0">'
    assert attempts(never)[0] == 1


def test_the_interval_is_waited_except_before_a_first_fast_retry() -> None:
    slow = '<retry condition="true" count="1" interval="1">'
    assert attempts(slow)[1] >= 0.95
    fast = '<retry condition="true" count="1" interval="1" first-fast-retry="true">'
    assert attempts(fast)[1] < 0.5


def test_waits_are_fixed_linear_or_exponential_as_apim_computes_them() -> None:
    assert [wait_before(n, 2, None, None) for n in (1, 2, 3)] == [2, 2, 2]
    assert [wait_before(n, 2, 3, None) for n in (1, 2, 3)] == [2, 5, 8]
    for attempt, expected in ((1, 10 + 1 * 10), (2, 10 + 3 * 10), (3, 10 + 7 * 10)):
        assert 0.8 * expected - 2 <= wait_before(attempt, 10, 10, 1000) <= 1.2 * expected
    assert wait_before(6, 10, 10, 100) == 100  # capped by max-interval


def test_an_error_raised_inside_leaves_the_loop_for_on_error() -> None:
    failing = '<return-response><set-status code="@(1/0)" /></return-response>'
    with pytest.raises(PolicyError):
        attempts('<retry condition="true" count="3" interval="0">', COUNT_UP + failing)


def test_a_count_written_as_an_expression_is_read_as_a_number_is() -> None:
    assert attempts('<retry condition="true" count="@(1 + 1)" interval="0">')[0] == 3
    assert attempts('<retry condition="true" count="2" interval="0">')[0] == 3
