"""`cors`: reply to preflight requests and add CORS headers to cross-origin responses.

A preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`) runs only the cors
statements of the inbound section (the proxy compiles that chain apart, as APIM does): the
first that matches replies 200 with the allowance; one that does not match either ends the
request with an empty 200 (`terminate-unmatched-request="true"`) or lets the next cors
statement try. A simple cross-origin request that matches gets its `Access-Control-Allow-*`
headers on whatever response the request ends with.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.policy.compiling import CompileContext
from gateway.policy.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    Multiplicity,
    StatementSpec,
    TextSpec,
)
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.declarations import INBOUND, child_texts

DEFAULT_METHODS = ("GET", "POST")


@dataclass(frozen=True, slots=True)
class CorsRule:
    origins: frozenset[str]  # lower case; "*" for any
    methods: frozenset[str]  # upper case; "*" for any
    headers: frozenset[str]  # lower case; "*" for any
    expose: tuple[str, ...]
    credentials: bool
    max_age: str | None

    def allows_origin(self, origin: str) -> bool:
        return "*" in self.origins or origin.lower().rstrip("/") in self.origins

    def allows_method(self, method: str) -> bool:
        return "*" in self.methods or method.upper() in self.methods

    def allows_headers(self, names: list[str]) -> bool:
        return "*" in self.headers or all(n.lower() in self.headers for n in names)

    def origin_headers(self, origin: str) -> list[tuple[str, str]]:
        if "*" in self.origins and not self.credentials:
            return [("Access-Control-Allow-Origin", "*")]
        headers = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        if self.credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
        return headers


def compile_cors(node: Node, context: CompileContext) -> Step:
    methods_node = node.child("allowed-methods")
    methods = child_texts(methods_node, "method", context)
    rule = CorsRule(
        origins=frozenset(
            o.lower().rstrip("/")
            for o in child_texts(node.child("allowed-origins"), "origin", context)
        ),
        methods=frozenset(m.upper() for m in methods or DEFAULT_METHODS),
        headers=frozenset(
            h.lower() for h in child_texts(node.child("allowed-headers"), "header", context)
        ),
        expose=tuple(child_texts(node.child("expose-headers"), "header", context)),
        credentials=(context.literal(node.attr("allow-credentials")) or "").lower() == "true",
        max_age=(
            context.literal(methods_node.attr("preflight-result-max-age"))
            if methods_node is not None
            else None
        ),
    )
    terminate = (context.literal(node.attr("terminate-unmatched-request")) or "").lower() == "true"

    async def cors(request: RequestContext) -> LocalReply | None:
        headers = request.model.Request.Headers
        origin = headers.joined("Origin")
        if origin is None:
            return None  # not a cross-origin request
        if request.preflight:
            method = headers.joined("Access-Control-Request-Method") or ""
            asked = [
                h.strip()
                for h in (headers.joined("Access-Control-Request-Headers") or "").split(",")
                if h.strip()
            ]
            if (
                rule.allows_origin(origin)
                and rule.allows_method(method)
                and rule.allows_headers(asked)
            ):
                allowance = [*rule.origin_headers(origin), ("Access-Control-Allow-Methods", method)]
                if asked:
                    allowance.append(("Access-Control-Allow-Headers", ", ".join(asked)))
                if rule.max_age is not None:
                    allowance.append(("Access-Control-Max-Age", rule.max_age))
                return LocalReply(200, "OK", allowance)
            return LocalReply(200, "OK") if terminate else None
        if rule.allows_origin(origin) and rule.allows_method(request.model.Request.Method):
            request.response_headers.extend(rule.origin_headers(origin))
            if rule.expose:
                request.response_headers.append(
                    ("Access-Control-Expose-Headers", ", ".join(rule.expose))
                )
            return None
        return LocalReply(200, "OK") if terminate else None

    return cors


def _list(name: str, item: str, *attributes: AttributeSpec, required: bool = False) -> ChildSpec:
    return ChildSpec(
        name,
        min_count=1 if required else 0,
        max_count=1,
        attributes=attributes,
        children=(ChildSpec(item, text=TextSpec(required=True)),),
    )


SPEC = StatementSpec(
    names=("cors",),
    summary="Adds cross-origin resource sharing support; responds to preflight OPTIONS requests.",
    sections=INBOUND,
    multiplicity=Multiplicity.ONCE_PER_SECTION,
    attributes=(
        POLICY_ID,
        AttributeSpec("allow-credentials", Kind.BOOL, default="false", expression=False),
        AttributeSpec("terminate-unmatched-request", Kind.BOOL, default="false", expression=False),
    ),
    children=(
        _list("allowed-origins", "origin", required=True),
        _list(
            "allowed-methods",
            "method",
            AttributeSpec("preflight-result-max-age", Kind.INT, minimum=0, expression=False),
        ),
        _list("allowed-headers", "header"),
        _list("expose-headers", "header"),
    ),
    compile=compile_cors,
)
