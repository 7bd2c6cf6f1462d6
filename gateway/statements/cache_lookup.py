"""`cache-lookup`: serve GET requests from the response cache, as APIM does.

The key is the API, the operation, the path, the query (only the `vary-by-query-parameter`
names when given, else all of it), the `vary-by-header` values, and the subscription
(`vary-by-developer`) and product (`vary-by-developer-groups`). Only GET requests are cached;
one with an Authorization header only with `allow-private-response-caching`. A hit replies
at once (the backend and outbound do not run) with `x-aigw-cache: hit`. What the lookup
leaves for `cache-store` is a `ResponsePlan`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from gateway.caching.responses import CachedResponse, response_key
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
from gateway.statements.support.caching_type import cache_of
from gateway.statements.support.declarations import CACHING_TYPE, INBOUND
from gateway.statements.support.response_cache_plan import HIT_HEADER, ResponsePlan


def _names(node: Node, tag: str, context: CompileContext) -> tuple[str, ...]:
    """Child texts; APIM also accepts several names in one element, separated by ';'."""
    names: list[str] = []
    for child in node.children_named(tag):
        text = context.literal(child.text) or ""
        names += [n.strip() for n in text.split(";") if n.strip()]
    return tuple(names)


def compile_cache_lookup(node: Node, context: CompileContext) -> Step:
    by_developer = context.condition(node.attr("vary-by-developer"), False)
    by_groups = context.condition(node.attr("vary-by-developer-groups"), False)
    allow_private = context.condition(node.attr("allow-private-response-caching"), False)
    must_revalidate = context.condition(node.attr("must-revalidate"), True)
    caching_type = context.literal(node.attr("caching-type"))
    downstream = context.literal(node.attr("downstream-caching-type"), "none") or "none"
    headers = _names(node, "vary-by-header", context)
    parameters = _names(node, "vary-by-query-parameter", context)

    def key_of(request: RequestContext) -> str:
        model = request.model
        asked = model.Request
        query = asked.Url.Query
        if parameters:
            chosen = [(name, query.joined(name) or "") for name in parameters]
        else:
            chosen = sorted((name, query.joined(name) or "") for name in query.Keys)
        parts = [model.Api.Id, model.Operation.Id, asked.Url.Path, urlencode(chosen)]
        parts += [f"{name}={asked.Headers.joined(name) or ''}" for name in headers]
        if by_developer(request):
            parts.append("subscription=" + (model.Subscription.Id if model.Subscription else ""))
        if by_groups(request):
            parts.append("product=" + (model.Product.Id if model.Product else ""))
        return response_key(parts)

    async def cache_lookup(request: RequestContext) -> LocalReply | None:
        asked = request.model.Request
        if asked.Method != "GET":
            return None
        if asked.Headers.get("Authorization") is not None and not allow_private(request):
            return None
        store = cache_of(request, caching_type)
        plan = ResponsePlan(key_of(request), store, downstream, must_revalidate(request))
        request.state.put(plan)
        found = await store.get(plan.key)
        if found is None:
            request.cache_result = "miss"
            return None
        request.cache_result = "hit"
        cached = CachedResponse.decode(found)
        return LocalReply(
            cached.status, cached.reason, [*cached.headers, (HIT_HEADER, "hit")], cached.body
        )

    return cache_lookup


SPEC = StatementSpec(
    names=("cache-lookup",),
    summary="Looks the request up in the response cache; a hit skips the backend.",
    sections=INBOUND,
    multiplicity=Multiplicity.ONCE_PER_SECTION,
    allowed_in_fragment=False,
    attributes=(
        POLICY_ID,
        AttributeSpec("vary-by-developer", Kind.BOOL, required=True, default="false"),
        AttributeSpec("vary-by-developer-groups", Kind.BOOL, required=True, default="false"),
        CACHING_TYPE,
        AttributeSpec(
            "downstream-caching-type",
            Kind.ENUM,
            default="none",
            choices=("none", "private", "public"),
        ),
        AttributeSpec("must-revalidate", Kind.BOOL, default="true"),
        AttributeSpec("allow-private-response-caching", Kind.BOOL, default="false"),
    ),
    children=(
        ChildSpec("vary-by-header", text=TextSpec(required=True)),
        ChildSpec("vary-by-query-parameter", text=TextSpec(required=True)),
    ),
    compile=compile_cache_lookup,
)
