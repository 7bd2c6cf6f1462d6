"""`set-backend-service`: send the request to another backend or base URL."""

from __future__ import annotations

from gateway.common.diagnostics import Report
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext, CompileFailure
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.declarations import INBOUND_BACKEND


def check(node: Node, report: Report) -> None:
    given = [a for a in ("base-url", "backend-id") if a in node.attributes]
    if len(given) != 1:
        report.error(
            node.location,
            "conflicting-attributes" if given else "missing-attribute",
            "set-backend-service needs exactly one of 'backend-id' or 'base-url'",
        )


def compile_set_backend_service(node: Node, context: CompileContext) -> Step:
    for unsupported in ("sf-resolve-condition", "sf-service-instance-name", "dapr-app-id"):
        if unsupported in node.attributes:
            raise CompileFailure(
                node.attributes[unsupported].location,
                "not-implemented",
                "Service Fabric and Dapr backends are not supported; use backend-id or base-url",
            )
    if "backend-id" in node.attributes:
        backend_id = context.value(node.attr("backend-id"), "")

        async def set_backend(request: RequestContext) -> LocalReply | None:
            request.backend = to_text(backend_id(request))
            request.backend_url = None
            return None

        return set_backend
    base_url = context.value(node.attr("base-url"), "")

    async def set_base_url(request: RequestContext) -> LocalReply | None:
        # A bare URL carries no backend entity: no credentials, no breaker.
        request.backend_url = to_text(base_url(request))
        request.backend = None
        return None

    return set_base_url


SPEC = StatementSpec(
    names=("set-backend-service",),
    summary="Routes the request to a backend entity (or pool) or to a base URL.",
    sections=INBOUND_BACKEND,
    attributes=(
        POLICY_ID,
        AttributeSpec("base-url", Kind.URL),
        AttributeSpec("backend-id"),
        AttributeSpec("sf-resolve-condition"),
        AttributeSpec("sf-service-instance-name"),
        AttributeSpec("sf-partition-key"),
        AttributeSpec("sf-replica-type", Kind.ENUM, choices=("primary", "secondary")),
        AttributeSpec("sf-listener-name"),
        AttributeSpec("dapr-app-id"),
        AttributeSpec("dapr-method"),
        AttributeSpec("dapr-namespace"),
    ),
    check=check,
    compile=compile_set_backend_service,
)
