"""`cache-store-value`: store a value in the cache under a key."""

from __future__ import annotations

from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec
from gateway.statements.cache_values import compile_cache_store_value
from gateway.statements.common import CACHING_TYPE, DURATION_SECONDS, attribute_or_child

VALUE_CHILDREN, check = attribute_or_child("key", "value")

SPEC = StatementSpec(
    names=("cache-store-value",),
    summary="Stores a value in the cache for `duration` seconds.",
    attributes=(
        POLICY_ID,
        AttributeSpec("key"),
        AttributeSpec("value"),
        DURATION_SECONDS,
        CACHING_TYPE,
    ),
    children=VALUE_CHILDREN,
    check=check,
    compile=compile_cache_store_value,
)
