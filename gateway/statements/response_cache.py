"""`cache-lookup` (inbound) and `cache-store` (outbound): whole GET answers, as APIM caches them.

The key is the API, the operation, the path, the query (only the `vary-by-query-parameter`
names when given, else all of it), the `vary-by-header` values, and the subscription
(`vary-by-developer`) and product (`vary-by-developer-groups`). Only GET requests are cached;
one with an Authorization header only with `allow-private-response-caching`. A hit answers
at once (the backend and outbound do not run) with `x-aigw-cache: hit`; `cache-store` keeps
200 answers (any answer with `cache-response="true"`, none with "false") for `duration`
seconds. A streamed answer is kept once its last chunk has gone; one cut short is not.
`downstream-caching-type` private/public sends `Cache-Control` with the duration as max-age.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from gateway.caching.responses import CachedResponse, response_key
from gateway.caching.store import CacheStore
from gateway.policy.compiling import CompileContext
from gateway.policy.tree import Node
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.cache_values import cache_of
from gateway.statements.limits import whole_number

HIT_HEADER = "x-aigw-cache"


@dataclass(frozen=True, slots=True)
class ResponsePlan:
    """What cache-lookup leaves for cache-store: where and how to keep this answer."""

    key: str
    store: CacheStore
    downstream: str  # none, private, public
    must_revalidate: bool


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
            return None
        cached = CachedResponse.decode(found)
        return LocalReply(
            cached.status, cached.reason, [*cached.headers, (HIT_HEADER, "hit")], cached.body
        )

    return cache_lookup


def compile_cache_store(node: Node, context: CompileContext) -> Step:
    duration = context.value(node.attr("duration"), "0")
    given = node.attr("cache-response")
    cache_response = context.condition(given, False) if given is not None else None
    source, policy_id = node.tag, node.attr_text("id")

    async def cache_store(request: RequestContext) -> LocalReply | None:
        plan = request.state.get(ResponsePlan)
        if plan is None:
            return None  # no cache-lookup ran, or the request is not cacheable
        response = request.model.Response
        wanted = cache_response(request) if cache_response else response.StatusCode == 200
        if not wanted:
            return None
        seconds = whole_number(duration(request), "duration", source, policy_id)
        if plan.downstream != "none":
            control = f"{plan.downstream}, max-age={seconds}"
            if plan.must_revalidate:
                control += ", must-revalidate"
            response.Headers.set("Cache-Control", [control])
        response.Headers.set(HIT_HEADER, ["miss"])

        async def keep(done: RequestContext) -> None:
            answer = done.model.Response
            body = answer.Body.read(preserve=True) if answer.Body is not None else b""
            headers = [(n, v) for n, v in answer.Headers.lines() if n.lower() != HIT_HEADER]
            entry = CachedResponse(answer.StatusCode, answer.StatusReason, headers, body)
            await plan.store.set(plan.key, entry.encode(), seconds)

        if request.response_stream is not None:  # kept once the whole stream has gone
            request.defer(Phase.STREAM_END, keep)
        else:
            await keep(request)
        return None

    return cache_store
