"""`cache-lookup-value`: read a cached value into a variable."""

from __future__ import annotations

from gateway.statements.common import CACHING_TYPE
from gateway.statements.spec import POLICY_ID, AttributeSpec, StatementSpec

SPEC = StatementSpec(
    names=("cache-lookup-value",),
    summary="Reads a value from the cache into a variable (default-value on a miss).",
    attributes=(
        POLICY_ID,
        AttributeSpec("key", required=True),
        AttributeSpec("variable-name", required=True, expression=False),
        AttributeSpec("default-value"),
        CACHING_TYPE,
    ),
    implemented=False,
)
