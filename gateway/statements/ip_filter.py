"""`ip-filter`: allow or forbid callers by IP address or range."""

from __future__ import annotations

import ipaddress

from gateway.common.diagnostics import Report
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext, CompileFailure
from gateway.policy.spec import POLICY_ID, AttributeSpec, ChildSpec, Kind, StatementSpec, TextSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, PolicyError, Step
from gateway.statements.support.declarations import INBOUND


def check(node: Node, report: Report) -> None:
    if not node.children_named("address") and not node.children_named("address-range"):
        report.error(
            node.location,
            "missing-element",
            "ip-filter needs at least one <address> or <address-range from=.. to=..>",
        )


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(node: Node, context: CompileContext) -> list[Network | tuple[object, object]]:
    """Literal addresses and ranges, parsed once at load."""
    found: list[Network | tuple[object, object]] = []
    for address in node.children_named("address"):
        text = (context.literal(address.text) or "").strip()
        try:
            found.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise CompileFailure(
                address.location, "invalid-value", f"'{text}' is not an IP address or CIDR range"
            ) from None
    for span in node.children_named("address-range"):
        try:
            low = ipaddress.ip_address((context.literal(span.attr("from")) or "").strip())
            high = ipaddress.ip_address((context.literal(span.attr("to")) or "").strip())
        except ValueError:
            raise CompileFailure(
                span.location, "invalid-value", "address-range needs IP addresses in from and to"
            ) from None
        found.append((low, high))
    return found


def compile_ip_filter(node: Node, context: CompileContext) -> Step:
    allow = (context.literal(node.attr("action")) or "allow") == "allow"
    networks = _networks(node, context)
    policy_id = node.attr_text("id")

    def listed(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        for entry in networks:
            if isinstance(entry, tuple):
                low, high = entry
                if type(low) is type(address) and low <= address <= high:  # type: ignore[operator]
                    return True
            elif address in entry:
                return True
        return False

    async def ip_filter(request: RequestContext) -> LocalReply | None:
        try:
            address = ipaddress.ip_address(to_text(request.model.Request.IpAddress).strip())
        except ValueError:
            raise PolicyError(
                "ip-filter",
                "FailedToParseCallerIP",
                "Failed to parse caller IP address.",
                status=403,
                policy_id=policy_id,
            ) from None
        if listed(address) != allow:
            reason, verb = (
                ("CallerIpNotAllowed", "not allowed") if allow else ("CallerIpBlocked", "blocked")
            )
            raise PolicyError(
                "ip-filter",
                reason,
                f"Caller IP address {address} is {verb}. Access denied.",
                status=403,
                policy_id=policy_id,
            )
        return None

    return ip_filter


SPEC = StatementSpec(
    names=("ip-filter",),
    summary="Allows or forbids callers by IP address; rejection is 403.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("action", Kind.ENUM, required=True, choices=("allow", "forbid")),
    ),
    children=(
        ChildSpec("address", text=TextSpec(required=True)),
        ChildSpec(
            "address-range",
            attributes=(AttributeSpec("from", required=True), AttributeSpec("to", required=True)),
        ),
    ),
    check=check,
    compile=compile_ip_filter,
)
