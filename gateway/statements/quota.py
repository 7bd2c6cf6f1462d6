"""`quota`: call and bandwidth quotas for each subscription of a product."""

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
from gateway.statements.support.counter_store import StoreGuard
from gateway.statements.support.declarations import (
    BANDWIDTH,
    CALLS,
    INBOUND,
    ON_STORE_FAILURE,
    calls_or_bandwidth,
    optional_integer,
)
from gateway.statements.support.quotas import Quota
from gateway.statements.support.scoped_limits import instance_id, matches, scoped_elements
from gateway.stores.counters import Window

RENEWAL_PERIOD = AttributeSpec(
    "renewal-period", Kind.INT, required=True, minimum=0, expression=False, doc="0: never resets."
)


def _limit(name: str, *, children: tuple[ChildSpec, ...] = ()) -> ChildSpec:
    return ChildSpec(
        name,
        attributes=(
            AttributeSpec("name"),
            AttributeSpec("id"),
            CALLS,
            BANDWIDTH,
            AttributeSpec("renewal-period", Kind.INT, minimum=0, expression=False),
        ),
        children=children,
    )


def compile_quota(node: Node, context: CompileContext) -> Step:
    prefix = f"quota:{instance_id(node)}"
    guard = StoreGuard.of("quota", node, context)
    quotas = [
        (
            Quota(
                guard,
                optional_integer(element, "calls", context),
                optional_integer(element, "bandwidth", context),
                Window(
                    context.integer(
                        element.attr("renewal-period") or node.attr("renewal-period"), 0
                    )
                ),
            ),
            f"{prefix}:{name}",
            apis,
            operations,
        )
        for element, name, apis, operations in scoped_elements(node)
    ]

    async def quota(request: RequestContext) -> LocalReply | None:
        subscription = request.model.Subscription
        if subscription is None:  # a product quota counts per subscription
            return None
        for counter, name, apis, operations in quotas:
            if matches(request, apis, operations):
                key = f"{name}:{subscription.Id}"
                await counter.enforce(request, key, True, _always, _one)
        return None

    return quota


def _always(request: RequestContext) -> bool:
    return True


def _one(request: RequestContext) -> int:
    return 1


SPEC = StatementSpec(
    names=("quota",),
    summary="Caps calls and/or kilobytes per renewal period for each subscription; 403 beyond.",
    sections=INBOUND,
    scopes=frozenset({PolicyScope.PRODUCT}),
    multiplicity=Multiplicity.ONCE_PER_DOCUMENT,
    attributes=(POLICY_ID, CALLS, BANDWIDTH, RENEWAL_PERIOD, ON_STORE_FAILURE),
    children=(_limit("api", children=(_limit("operation"),)),),
    check=calls_or_bandwidth,
    compile=compile_quota,
)
