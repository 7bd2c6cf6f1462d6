"""`llm-semantic-cache-lookup` / `azure-openai-semantic-cache-lookup`: answer similar prompts."""

from __future__ import annotations

from gateway.policy.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    Multiplicity,
    Scope,
    StatementSpec,
    TextSpec,
)
from gateway.statements.common import INBOUND
from gateway.statements.semantic_cache import compile_semantic_cache_lookup

SPEC = StatementSpec(
    names=("llm-semantic-cache-lookup", "azure-openai-semantic-cache-lookup"),
    summary="Returns a cached completion for a prompt within score-threshold (a distance).",
    sections=INBOUND,
    scopes=frozenset({Scope.GLOBAL, Scope.PRODUCT, Scope.API, Scope.OPERATION}),
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
    compile=compile_semantic_cache_lookup,
    reads_request_body=True,
)
