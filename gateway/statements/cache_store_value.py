"""`cache-store-value`: store a value in the cache under a key."""

from __future__ import annotations

from gateway.statements.common import CACHING_TYPE, DURATION_SECONDS
from gateway.statements.spec import POLICY_ID, AttributeSpec, StatementSpec

SPEC = StatementSpec(
    names=("cache-store-value",),
    summary="Stores a value in the cache for `duration` seconds.",
    attributes=(
        POLICY_ID,
        AttributeSpec("key", required=True),
        AttributeSpec("value", required=True),
        DURATION_SECONDS,
        CACHING_TYPE,
    ),
    implemented=False,
)
