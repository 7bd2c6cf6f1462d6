"""`cache-store`: store GET responses in the response cache."""

from __future__ import annotations

from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, Multiplicity, StatementSpec
from gateway.statements.common import DURATION_SECONDS, OUTBOUND
from gateway.statements.response_cache import compile_cache_store

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
