"""`rate-limit-by-key`: calls per period for any counter key; 429 beyond.

One counter per key value, shared by every scope and replica that uses it. When
`increment-condition` or `increment-count` is an expression, APIM evaluates it and counts at
the end of outbound (so it can read the response), and the check before the call only looks;
the 429 then arrives one call late, as in APIM.
"""

from __future__ import annotations

from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.counter_store import StoreGuard, now, store_of
from gateway.statements.support.declarations import (
    COUNTER_KEY,
    INBOUND,
    LIMIT_OUTPUTS,
    ON_STORE_FAILURE,
)
from gateway.statements.support.numeric import whole_number
from gateway.statements.support.rate_limits import LimitOutputs
from gateway.stores.counters import Change, Window

SOURCE = "rate-limit-by-key"


def compile_rate_limit_by_key(node: Node, context: CompileContext) -> Step:
    calls = context.value(node.attr("calls"))
    period = context.value(node.attr("renewal-period"))
    counter_key = context.value(node.attr("counter-key"), "")
    condition_value, count_value = node.attr("increment-condition"), node.attr("increment-count")
    deferred = any(v is not None and v.is_expression for v in (condition_value, count_value))
    condition = context.condition(condition_value, True)
    amount = context.value(count_value, "1")
    outputs = LimitOutputs.of(node, context)
    policy_id = node.attr_text("id")
    guard = StoreGuard.of(SOURCE, node, context)

    async def rate_limit_by_key(request: RequestContext) -> LocalReply | None:
        limit = whole_number(calls(request), "calls", SOURCE, policy_id)
        window = Window(whole_number(period(request), "renewal-period", SOURCE, policy_id))
        key = "rate:" + to_text(counter_key(request))
        store = store_of(request)
        if deferred:
            count = await guard.check(request, store.peek(key, window, now()))
            if count is not None and count.value >= limit:
                raise outputs.rate_exceeded(request, SOURCE, count)

            async def count_when_done(done: RequestContext) -> None:
                if condition(done):  # counted behind the response: the client does not wait
                    add = whole_number(amount(done), "increment-count", SOURCE, policy_id)
                    guard.add_later(done, [Change(key, add, window)])

            request.defer(Phase.DONE, count_when_done)
            outputs.passed(request, limit, count.value if count is not None else 0)
            return None
        if not condition(request):
            return None
        add = whole_number(amount(request), "increment-count", SOURCE, policy_id)
        count = await guard.check(request, store.consume(key, add, limit, window, now()))
        if count is None:
            return None
        if not count.allowed:
            raise outputs.rate_exceeded(request, SOURCE, count)
        outputs.passed(request, limit, count.value)
        return None

    return rate_limit_by_key


SPEC = StatementSpec(
    names=("rate-limit-by-key",),
    summary="Limits calls per renewal period for each counter-key value; 429 beyond.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("calls", Kind.INT, required=True, minimum=1),
        AttributeSpec("renewal-period", Kind.INT, required=True, minimum=1, maximum=300),
        COUNTER_KEY,
        AttributeSpec("increment-condition", Kind.BOOL),
        AttributeSpec("increment-count", Kind.INT, default="1", minimum=0),
        *LIMIT_OUTPUTS,
        ON_STORE_FAILURE,
    ),
    compile=compile_rate_limit_by_key,
)
