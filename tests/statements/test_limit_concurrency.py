"""limit-concurrency: at most max-count requests per key inside it; 429 beyond; slots free up."""

from __future__ import annotations

import asyncio

from gateway.common.diagnostics import Report
from gateway.expressions.model import ContextModel
from gateway.policy.compiler import Compiler
from gateway.policy.expression_check import ExpressionChecker
from gateway.policy.xml_reader import read_xml
from gateway.runtime.context import RequestContext
from gateway.runtime.forwarding import ForwardOptions
from gateway.runtime.step import PolicyError
from gateway.statements import default_registry
from tests.policies import compile_policy


class SlowTransport:
    """A transport that holds each call until released, to keep requests inside the limit."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.calls = 0

    async def forward(self, context: RequestContext, options: ForwardOptions) -> None:
        self.calls += 1
        await self.release.wait()


POLICY = """
<policies><backend>
    <limit-concurrency key="@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;&quot;))" max-count="2">
        <forward-request timeout="5" />
    </limit-concurrency>
</backend></policies>
"""


def test_third_concurrent_request_gets_429_and_slots_free_after() -> None:
    policy = compile_policy(POLICY)

    async def scenario() -> list[object]:
        transport = SlowTransport()

        def request(tenant: str) -> RequestContext:
            context = RequestContext(ContextModel(), forward=transport.forward)
            context.model.Request.Headers.set("x-tenant", [tenant])
            return context

        async def attempt(tenant: str) -> object:
            try:
                return await policy.backend.run(request(tenant))
            except PolicyError as error:
                return error

        first = [asyncio.create_task(attempt("a")) for _ in range(2)]
        other = asyncio.create_task(attempt("b"))  # another key has its own slots
        await asyncio.sleep(0.01)
        refused = await attempt("a")
        transport.release.set()
        done = await asyncio.gather(*first, other)
        after = await attempt("a")
        return [refused, *done, after, transport.calls]

    refused, *done, after, calls = asyncio.run(scenario())
    assert isinstance(refused, PolicyError)
    assert (refused.status, refused.reason) == (429, "ConcurrencyLimitExceeded")
    assert done == [None, None, None]
    assert after is None
    assert calls == 4


def test_a_max_count_that_is_not_a_number_fails_the_load_not_the_request() -> None:
    report = Report()
    document = read_xml(POLICY.replace('max-count="2"', 'max-count="@(2)"'), "p.xml", report)
    assert document is not None
    Compiler(default_registry(), ExpressionChecker({}), report).document(document.root)
    assert [d.rule for d in report.errors] == ["invalid-value"]
