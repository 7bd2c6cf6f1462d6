"""`cache-lookup-value`: read a cached value into a variable."""

from __future__ import annotations

from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec
from gateway.statements.cache_values import compile_cache_lookup_value
from gateway.statements.common import CACHING_TYPE, attribute_or_child

KEY_CHILD, check = attribute_or_child("key")

SPEC = StatementSpec(
    names=("cache-lookup-value",),
    summary="Reads a value from the cache into a variable (default-value on a miss).",
    attributes=(
        POLICY_ID,
        AttributeSpec("key"),
        AttributeSpec("variable-name", required=True, expression=False),
        AttributeSpec("default-value"),
        CACHING_TYPE,
    ),
    children=KEY_CHILD,
    check=check,
    compile=compile_cache_lookup_value,
)
