"""`rate-limit`: calls per period for each subscription."""

from __future__ import annotations

from gateway.policy.compiling import CompileContext
from gateway.policy.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    Multiplicity,
    PolicyScope,
    StatementSpec,
)
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.counter_store import StoreGuard, now, store_of
from gateway.statements.support.declarations import INBOUND, LIMIT_OUTPUTS, ON_STORE_FAILURE
from gateway.statements.support.rate_limits import LimitOutputs
from gateway.statements.support.scoped_limits import instance_id, matches, scoped_elements
from gateway.stores.counters import Window

CALLS = AttributeSpec("calls", Kind.INT, required=True, minimum=1, expression=False)
RENEWAL_PERIOD = AttributeSpec(
    "renewal-period", Kind.INT, required=True, minimum=1, maximum=300, expression=False
)


def _limit(name: str, *, children: tuple[ChildSpec, ...] = ()) -> ChildSpec:
    return ChildSpec(
        name,
        attributes=(AttributeSpec("name"), AttributeSpec("id"), CALLS, RENEWAL_PERIOD),
        children=children,
    )


SOURCE = "rate-limit"


def compile_rate_limit(node: Node, context: CompileContext) -> Step:
    prefix = f"rate-limit:{instance_id(node)}"
    limits = [
        (
            f"{prefix}:{name}",
            context.integer(element.attr("calls"), 0),
            Window(context.integer(element.attr("renewal-period"), 0)),
            apis,
            operations,
        )
        for element, name, apis, operations in scoped_elements(node)
        if element.attr("calls") is not None
    ]
    outputs = LimitOutputs.of(node, context)
    guard = StoreGuard.of(SOURCE, node, context)

    async def rate_limit(request: RequestContext) -> LocalReply | None:
        subscription = request.model.Subscription
        if subscription is None:  # APIM: only calls made with a subscription key are limited
            return None
        store = store_of(request)
        for index, (name, calls, window, apis, operations) in enumerate(limits):
            if not matches(request, apis, operations):
                continue
            key = f"{name}:{subscription.Id}"
            count = await guard.check(request, store.consume(key, 1, calls, window, now()))
            if count is None:
                continue
            if not count.allowed:
                raise outputs.rate_exceeded(request, SOURCE, count)
            if index == 0:
                outputs.passed(request, calls, count.value)
        return None

    return rate_limit


SPEC = StatementSpec(
    names=("rate-limit",),
    summary="Limits calls per renewal period (max 300 s) for each subscription; 429 beyond.",
    sections=INBOUND,
    scopes=frozenset({PolicyScope.PRODUCT, PolicyScope.API, PolicyScope.OPERATION}),
    multiplicity=Multiplicity.ONCE_PER_DOCUMENT,
    attributes=(POLICY_ID, CALLS, RENEWAL_PERIOD, *LIMIT_OUTPUTS, ON_STORE_FAILURE),
    children=(_limit("api", children=(_limit("operation"),)),),
    compile=compile_rate_limit,
)
