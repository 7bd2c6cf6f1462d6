"""`llm-semantic-cache-store` / `azure-openai-semantic-cache-store`: cache completions.

Keeps a successful, finished completion (not an error, a refusal or a cut-off stream) for
`duration` seconds, under both the exact key and the vector of the `SemanticPlan` the lookup
left. Cache failures never fail a request.
"""

from __future__ import annotations

import json
import uuid

from gateway.caching.completions import cacheable_completion
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, Multiplicity, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.declarations import DURATION_SECONDS, OUTBOUND
from gateway.statements.support.numeric import whole_number
from gateway.statements.support.semantic_cache_plan import SemanticPlan


def compile_semantic_cache_store(node: Node, context: CompileContext) -> Step:
    duration = context.value(node.attr("duration"), "0")
    source, policy_id = node.tag, node.attr_text("id")

    async def semantic_cache_store(request: RequestContext) -> LocalReply | None:
        plan = request.state.get(SemanticPlan)
        if plan is None or request.model.Response.StatusCode != 200:
            return None
        seconds = whole_number(duration(request), "duration", source, policy_id)
        streamed = request.response_stream is not None

        async def keep(done: RequestContext) -> None:
            response = done.model.Response
            body = response.Body.read(preserve=True) if response.Body is not None else b""
            completion = cacheable_completion(plan.style, body, streamed)
            if completion is None:  # an error, a refusal, or a stream cut short
                return
            # "answer" is the stored format's key: entries already in a shared store are read by it
            entry = json.dumps({"prompt": plan.text, "answer": completion}).encode()
            await plan.store.set(plan.exact_key, entry, seconds)
            if plan.vector is not None:
                entry_id = uuid.uuid4().hex
                await plan.store.set(f"semantic:{plan.partition}:e:{entry_id}", entry, seconds)
                await plan.vectors.add(plan.partition, entry_id, plan.vector, seconds)

        if streamed:
            request.defer(Phase.STREAM_END, keep)
        else:
            await keep(request)
        return None

    return semantic_cache_store


SPEC = StatementSpec(
    names=("llm-semantic-cache-store", "azure-openai-semantic-cache-store"),
    summary="Stores successful completions for semantic lookup, for `duration` seconds.",
    sections=OUTBOUND,
    multiplicity=Multiplicity.ONCE_PER_SECTION,
    attributes=(POLICY_ID, DURATION_SECONDS),
    compile=compile_semantic_cache_store,
)
