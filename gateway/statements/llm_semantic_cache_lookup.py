"""`llm-semantic-cache-lookup` / `azure-openai-semantic-cache-lookup`: reply to similar prompts.

In order: the request's prompt (gateway.caching.prompts) and its partition (the `vary-by`
values, the API, the embedder, and every setting that changes a completion); an exact match of
the prompt's text in that partition; else the nearest cached prompt by embedding, served when
its distance (1 - cosine, APIM's `score-threshold` meaning: lower is stricter) is at most the
threshold and the near-miss guard finds no differing fact (numbers, quoted text, negations,
entities, opposites). A hit replies at once in the client's shape (JSON, or a replayed
stream), with `x-aigw-cache: hit` and `x-aigw-cache-score`. With `shadow="true"` (ours)
nothing is served: the request goes on and the headers and metrics say what would have been
(`shadow-hit`, `shadow-miss`), so a threshold can be tuned on real traffic first. A miss leaves
a `SemanticPlan` for `llm-semantic-cache-store`. Cache failures never fail a request: they
are misses.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from gateway.caching.caches import LOCAL
from gateway.caching.completions import RESPONSES_OPERATION, replay_json, replay_stream, style_of
from gateway.caching.guard import GuardChecks, conflict
from gateway.caching.prompts import prompt_of, responses_prompt_of
from gateway.caching.responses_api import fresh
from gateway.caching.store import CacheStore, VectorIndex
from gateway.common.diagnostics import Report
from gateway.common.suggest import nearest
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.expression_check import NAMED_VALUE
from gateway.policy.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    Multiplicity,
    PolicyScope,
    StatementSpec,
    TextSpec,
)
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.llm_call import price_of, request_json
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.declarations import INBOUND
from gateway.statements.support.numeric import number
from gateway.statements.support.semantic_cache_plan import SemanticPlan
from gateway.tokens.usage import InvalidUsage, from_usage_object

if TYPE_CHECKING:
    import numpy as np

HEADER = "x-aigw-cache"
SCORE_HEADER = "x-aigw-cache-score"
GUARD_CHECKS = ("numbers", "quoted", "negations", "entities", "opposites")


def _listed(text: str | None) -> list[str]:
    """The names `near-miss-checks` gives, as the guard reads them: case and spaces aside."""
    return (text or "all").replace(" ", "").lower().split(",")


def guard_checks(text: str | None) -> GuardChecks:
    """`near-miss-checks`: "all" (the default), "none", or a comma-separated list."""
    names = _listed(text)
    if names == ["all"]:
        return GuardChecks()
    return GuardChecks(**{name: name in names for name in GUARD_CHECKS})


def check(node: Node, report: Report) -> None:
    """A name in `near-miss-checks` that the guard does not know turns no check on, and
    leaves the others off without a word: an error, with the name likely meant."""
    given = node.attr("near-miss-checks")
    if given is None or given.is_expression or NAMED_VALUE.search(given.text):
        return  # an expression is reported by validation; a named value is not known yet
    names = _listed(given.text)
    if names in (["all"], ["none"]):
        return
    for name in names:
        if name and name not in GUARD_CHECKS:
            suggestion = nearest(name, GUARD_CHECKS)
            hint = f"did you mean '{suggestion}'? " if suggestion else ""
            report.error(
                node.attributes["near-miss-checks"].location,
                "invalid-value",
                f"near-miss-checks: '{name}' is not a check; {hint}allowed: all, none, or a "
                f"comma-separated list of {', '.join(GUARD_CHECKS)}",
            )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def compile_semantic_cache_lookup(node: Node, context: CompileContext) -> Step:
    # The vectors (gateway.caching.vectors, gateway.proxy.embeddings) need numpy: loaded now,
    # at load, by the gateways that use a semantic cache, so no request waits for its import.
    import numpy  # noqa: F401

    threshold = context.value(node.attr("score-threshold"), "0")
    embedder = context.literal(node.attr("embeddings-backend-id")) or ""
    ignore_system = context.condition(node.attr("ignore-system-messages"), False)
    given_count = node.attr("max-message-count")
    max_messages = context.integer(given_count, 0) if given_count is not None else None
    vary_by = [context.value(child.text, "") for child in node.children_named("vary-by")]
    shadow = context.condition(node.attr("shadow"), False)
    by_settings = context.condition(node.attr("vary-by-settings"), True)
    checks = guard_checks(context.literal(node.attr("near-miss-checks")))
    source, policy_id = node.tag, node.attr_text("id")

    async def semantic_cache_lookup(request: RequestContext) -> LocalReply | None:
        body = request_json(request)
        ignore = ignore_system(request)
        operation = request.model.Operation.Id
        if operation == RESPONSES_OPERATION:
            prompt = responses_prompt_of(body, ignore)
        else:
            deployment = request.model.Request.MatchedParameters.get("deployment-id", "")
            prompt = prompt_of(body, ignore, str(deployment))
        services = request.services
        if prompt is None or services.embeddings is None:
            return None
        metrics = _Metrics(request, source)
        if max_messages is not None and prompt.messages > max_messages:
            metrics.lookup("skipped")
            return None
        style = style_of(request.style, body, operation)  # an operation's answers: only its own
        identity = services.embeddings.identity(embedder) or embedder
        caches = services.caches or LOCAL
        partition = _digest(
            request.model.Api.Id,
            "".join(to_text(value(request)) for value in vary_by),
            prompt.settings if by_settings(request) else "",
            identity,
            style,
            str(ignore),
        )
        store = caches.pick(None)
        vectors = caches.vectors(None)
        exact_key = f"semantic:{partition}:x:{_digest(prompt.text)}"
        found, score = await store.get(exact_key), 0.0
        vector: np.ndarray | None = None
        refused: str | None = None
        if found is None:
            vector = await services.embeddings.embed(embedder, prompt.text)
            if vector is not None:
                limit = number(threshold(request), "score-threshold", source, policy_id)
                found, score, refused = await _nearest(
                    store, vectors, partition, vector, limit, prompt.text, checks
                )
        plan = SemanticPlan(partition, exact_key, prompt.text, vector, style, store, vectors)
        if shadow(request):
            result = "shadow-hit" if found is not None else "shadow-miss"
            metrics.lookup(result, refused)
            request.state.put(plan)
            request.response_headers.append((HEADER, result))
            if found is not None:
                request.response_headers.append((SCORE_HEADER, f"{score:.4f}"))
            return None
        if found is None:
            metrics.lookup("guarded" if refused else "miss", refused)
            request.state.put(plan)
            return None
        entry = json.loads(found)
        metrics.lookup("hit")
        metrics.saved(entry["answer"], style)
        return _replay(entry["answer"], style, body, request.hide_stream_usage, score)

    return semantic_cache_lookup


async def _nearest(
    store: CacheStore,
    vectors: VectorIndex,
    partition: str,
    vector: np.ndarray,
    threshold: float,
    text: str,
    checks: GuardChecks,
) -> tuple[bytes | None, float, str | None]:
    """(entry, distance, guard's reason) of the nearest cached prompt within the threshold."""
    nearest = await vectors.nearest(partition, vector)
    if nearest is None:
        return None, 0.0, None
    entry_id, similarity = nearest
    distance = max(0.0, 1.0 - similarity)
    if distance > threshold:
        return None, distance, None
    found = await store.get(f"semantic:{partition}:e:{entry_id}")
    if found is None:  # the completion expired before its vector: forget the vector
        await vectors.remove(partition, entry_id)
        return None, distance, None
    reason = conflict(json.loads(found)["prompt"], text, checks)
    if reason is not None:
        return None, distance, reason
    return found, distance, None


def _replay(
    completion: dict[str, Any], style: str, body: dict[str, Any], hidden_usage: bool, score: float
) -> LocalReply:
    headers = [(HEADER, "hit"), (SCORE_HEADER, f"{score:.4f}")]
    if style == "responses":  # a Response is one client's: its own ids and metadata
        completion = fresh(completion, body)
    if body.get("stream"):
        options = body.get("stream_options")
        asked = (
            isinstance(options, dict) and bool(options.get("include_usage")) and not hidden_usage
        )
        content = replay_stream(style, completion, include_usage=asked)
        headers += [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]
    else:
        content = replay_json(style, completion)
        headers.append(("Content-Type", "application/json"))
    return LocalReply(200, "OK", headers, content)


class _Metrics:
    """aigw.cache_lookups by result, and the tokens and dollars a hit saved."""

    def __init__(self, request: RequestContext, statement: str) -> None:
        self.request = request
        self.dimensions = {
            "API ID": request.model.Api.Id,
            "Operation ID": request.model.Operation.Id,
            "statement": statement,
        }

    def lookup(self, result: str, reason: str | None = None) -> None:
        if result != "skipped":  # the request's cache label (aigw.requests): hit or miss
            self.request.cache_result = "hit" if result == "hit" else "miss"
        metrics = self.request.services.metrics
        if metrics is not None:
            metrics.add("aigw", "cache_lookups", 1, {**self.dimensions, "result": result})
        if reason is not None:
            self.request.response_headers.append(("x-aigw-cache-guard", reason[:120]))

    def saved(self, completion: dict[str, Any], style: str) -> None:
        metrics = self.request.services.metrics
        usage = completion.get("usage") if isinstance(completion, dict) else None
        if metrics is None or not isinstance(usage, dict):
            return
        model = str(completion.get("model", ""))
        try:
            saved = from_usage_object(usage, model)
        except InvalidUsage:  # the gateway checked it when it kept it: a foreign entry
            return
        if style == "anthropic":
            tokens = int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))
        else:
            tokens = int(usage.get("total_tokens", 0))
        metrics.add("aigw", "cache_saved_tokens", tokens, self.dimensions)
        price = price_of(self.request, model) if model else None
        if price is not None:
            metrics.add("aigw", "cache_saved_cost", float(price.cost(saved)), self.dimensions)


SPEC = StatementSpec(
    names=("llm-semantic-cache-lookup", "azure-openai-semantic-cache-lookup"),
    summary="Returns a cached completion for a prompt within score-threshold (a distance).",
    sections=INBOUND,
    scopes=frozenset(
        {PolicyScope.GLOBAL, PolicyScope.PRODUCT, PolicyScope.API, PolicyScope.OPERATION}
    ),
    multiplicity=Multiplicity.ONCE_PER_SECTION,
    attributes=(
        POLICY_ID,
        AttributeSpec("score-threshold", Kind.NUMBER, required=True, minimum=0, maximum=1),
        AttributeSpec("embeddings-backend-id", required=True),
        AttributeSpec(
            "embeddings-backend-auth",
            Kind.ENUM,
            required=True,
            choices=("system-assigned",),
            expression=False,
        ),
        AttributeSpec("ignore-system-messages", Kind.BOOL, default="false"),
        AttributeSpec("max-message-count", Kind.INT, minimum=1),
        AttributeSpec(
            "shadow",
            Kind.BOOL,
            default="false",
            doc="Ours: look up and report (headers, metrics) but never serve; for tuning.",
        ),
        AttributeSpec(
            "vary-by-settings",
            Kind.BOOL,
            default="true",
            doc="Ours: a hit needs the same model, sampling settings, tools and system prompt.",
        ),
        AttributeSpec(
            "near-miss-checks",
            default="all",
            expression=False,
            doc="Ours: facts that must match for a hit: all, none, or a list of numbers, "
            "quoted, negations, entities, opposites.",
        ),
    ),
    children=(ChildSpec("vary-by", text=TextSpec(required=True)),),
    check=check,
    compile=compile_semantic_cache_lookup,
    reads_request_body=True,
)
