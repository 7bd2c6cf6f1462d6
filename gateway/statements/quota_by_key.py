"""`quota-by-key`: call and bandwidth quotas for any counter key; 403 when spent.

Periods are counted from `first-period-start`; `renewal-period="0"` never renews. A key that
several quota statements count in one request is counted once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext, CompileFailure
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.counter_store import StoreGuard
from gateway.statements.support.declarations import (
    BANDWIDTH,
    CALLS,
    COUNTER_KEY,
    INBOUND,
    ON_STORE_FAILURE,
    calls_or_bandwidth,
    optional_integer,
)
from gateway.statements.support.numeric import whole_number
from gateway.statements.support.quotas import Quota
from gateway.stores.counters import Window

SOURCE = "quota-by-key"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def period_origin(node: Node, context: CompileContext) -> float:
    """`first-period-start` (yyyy-MM-ddTHH:mm:ssZ) as epoch seconds."""
    text = context.literal(node.attr("first-period-start"), "0001-01-01T00:00:00Z") or ""
    try:
        start = datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        where = node.attr("first-period-start")
        raise CompileFailure(
            where.location if where is not None else node.location,
            "invalid-value",
            f"first-period-start must look like 2024-01-01T00:00:00Z, not '{text}'",
        ) from None
    return (start - EPOCH).total_seconds()


def compile_quota_by_key(node: Node, context: CompileContext) -> Step:
    quota = Quota(
        StoreGuard.of(SOURCE, node, context),
        optional_integer(node, "calls", context),
        optional_integer(node, "bandwidth", context),
        Window(context.integer(node.attr("renewal-period"), 0), period_origin(node, context)),
    )
    counter_key = context.value(node.attr("counter-key"), "")
    condition_value, count_value = node.attr("increment-condition"), node.attr("increment-count")
    count_now = not any(v is not None and v.is_expression for v in (condition_value, count_value))
    condition = context.condition(condition_value, True)
    count = context.value(count_value, "1")
    policy_id = node.attr_text("id")

    def amount(request: RequestContext) -> int:
        return whole_number(count(request), "increment-count", SOURCE, policy_id)

    async def quota_by_key(request: RequestContext) -> LocalReply | None:
        key = to_text(counter_key(request))
        await quota.enforce(request, key, count_now, condition, amount)
        return None

    return quota_by_key


SPEC = StatementSpec(
    names=("quota-by-key",),
    summary="Caps calls and/or kilobytes per renewal period for each counter-key value.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        CALLS,
        BANDWIDTH,
        AttributeSpec("renewal-period", Kind.INT, required=True, minimum=0, expression=False),
        COUNTER_KEY,
        AttributeSpec("increment-condition", Kind.BOOL),
        AttributeSpec("increment-count", Kind.INT, default="1", minimum=0),
        AttributeSpec("first-period-start", default="0001-01-01T00:00:00Z", expression=False),
        ON_STORE_FAILURE,
    ),
    check=calls_or_bandwidth,
    compile=compile_quota_by_key,
)
