"""`cache-store`: keep the response to a GET that `cache-lookup` looked up, as APIM does.

It keeps 200 responses (any response with `cache-response="true"`, none with "false") for
`duration` seconds, under the key the lookup's `ResponsePlan` holds. A streamed response is kept
once its last chunk has gone; one cut short is not. `downstream-caching-type` private/public
sends `Cache-Control` with the duration as max-age.
"""

from __future__ import annotations

from gateway.caching.responses import CachedResponse
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, Multiplicity, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.declarations import DURATION_SECONDS, OUTBOUND
from gateway.statements.support.numeric import whole_number
from gateway.statements.support.response_cache_plan import HIT_HEADER, ResponsePlan

# Not replayed from a cache: whether it was a hit is the lookup's to say, and a request id
# names the request that was served, not the one a hit answers (the gateway gives it its own).
NOT_KEPT = frozenset({HIT_HEADER, "x-request-id", "request-id", "apim-request-id"})


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
            final = done.model.Response
            body = final.Body.read(preserve=True) if final.Body is not None else b""
            headers = [(n, v) for n, v in final.Headers.lines() if n.lower() not in NOT_KEPT]
            entry = CachedResponse(final.StatusCode, final.StatusReason, headers, body)
            await plan.store.set(plan.key, entry.encode(), seconds)

        if request.response_stream is not None:  # kept once the whole stream has gone
            request.defer(Phase.STREAM_END, keep)
        else:
            await keep(request)
        return None

    return cache_store


SPEC = StatementSpec(
    names=("cache-store",),
    summary="Stores the response in the cache for `duration` seconds.",
    sections=OUTBOUND,
    multiplicity=Multiplicity.ONCE_PER_SECTION,
    attributes=(
        POLICY_ID,
        DURATION_SECONDS,
        AttributeSpec("cache-response", Kind.BOOL, doc="Cache this response even if not a 200."),
    ),
    compile=compile_cache_store,
)
