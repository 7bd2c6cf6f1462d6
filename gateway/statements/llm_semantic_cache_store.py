"""`llm-semantic-cache-store` / `azure-openai-semantic-cache-store`: cache completions."""

from __future__ import annotations

from gateway.policy.spec import POLICY_ID, Multiplicity, StatementSpec
from gateway.statements.common import DURATION_SECONDS, OUTBOUND
from gateway.statements.semantic_cache import compile_semantic_cache_store

SPEC = StatementSpec(
    names=("llm-semantic-cache-store", "azure-openai-semantic-cache-store"),
    summary="Stores successful completions for semantic lookup, for `duration` seconds.",
    sections=OUTBOUND,
    multiplicity=Multiplicity.ONCE_PER_SECTION,
    attributes=(POLICY_ID, DURATION_SECONDS),
    compile=compile_semantic_cache_store,
)
