"""Metric dimensions: `<dimension name value>`, with APIM's built-in names needing no value."""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext


def _product(request: RequestContext) -> str:
    return request.model.Product.Id if request.model.Product is not None else ""


def _subscription(request: RequestContext) -> str:
    return request.model.Subscription.Id if request.model.Subscription is not None else ""


def _user(request: RequestContext) -> str:
    return request.model.User.Id if request.model.User is not None else ""


# The dimensions APIM fills in itself when a <dimension> gives only the name.
BUILT_IN: dict[str, Callable[[RequestContext], str]] = {
    "API ID": lambda request: request.model.Api.Id,
    "Operation ID": lambda request: request.model.Operation.Id,
    "Product ID": _product,
    "Subscription ID": _subscription,
    "User ID": _user,
    "Location": lambda request: request.model.Deployment.Region,
    "Gateway ID": lambda request: request.model.Deployment.GatewayId,
    "Backend ID": lambda request: request.backend or "",
    "Client IP": lambda request: request.model.Request.IpAddress,
}

Dimensions = Callable[[RequestContext], dict[str, str]]


def compile_dimensions(node: Node, context: CompileContext) -> Dimensions:
    """The statement's dimensions, evaluated together when it runs (before the response)."""
    parts: list[tuple[str | Callable[[RequestContext], object], Callable[[RequestContext], object]]]
    parts = []
    for dimension in node.children_named("dimension"):
        given_name = dimension.attr("name")
        name = context.value(given_name, "")
        given = dimension.attr("value")
        built_in = BUILT_IN.get(dimension.attr_text("name") or "")
        value = built_in if given is None and built_in is not None else context.value(given, "")
        # A literal name (the usual) is its text now, not a constant evaluated per request.
        literal = given_name is None or not given_name.is_expression
        parts.append((to_text(name(None)) if literal else name, value))  # type: ignore[arg-type]

    def evaluate(request: RequestContext) -> dict[str, str]:
        found = {}  # a loop, not a comprehension: for a few dimensions its own call costs more
        for name, value in parts:
            text = name if name.__class__ is str else to_text(name(request))  # type: ignore[operator]
            found[text] = to_text(value(request))
        return found

    return evaluate
