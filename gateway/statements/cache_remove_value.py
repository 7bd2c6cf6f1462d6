"""`cache-remove-value`: delete a cached value."""

from __future__ import annotations

from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec
from gateway.statements.cache_values import compile_cache_remove_value
from gateway.statements.common import CACHING_TYPE

SPEC = StatementSpec(
    names=("cache-remove-value",),
    summary="Removes a value from the cache.",
    attributes=(POLICY_ID, AttributeSpec("key", required=True), CACHING_TYPE),
    compile=compile_cache_remove_value,
)
