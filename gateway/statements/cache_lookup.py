"""`cache-lookup`: answer GET requests from the response cache."""

from __future__ import annotations

from gateway.policy.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    Multiplicity,
    StatementSpec,
    TextSpec,
)
from gateway.statements.common import CACHING_TYPE, INBOUND
from gateway.statements.response_cache import compile_cache_lookup

SPEC = StatementSpec(
    names=("cache-lookup",),
    summary="Looks the request up in the response cache; a hit skips the backend.",
    sections=INBOUND,
    multiplicity=Multiplicity.ONCE_PER_SECTION,
    allowed_in_fragment=False,
    attributes=(
        POLICY_ID,
        AttributeSpec("vary-by-developer", Kind.BOOL, required=True, default="false"),
        AttributeSpec("vary-by-developer-groups", Kind.BOOL, required=True, default="false"),
        CACHING_TYPE,
        AttributeSpec(
            "downstream-caching-type",
            Kind.ENUM,
            default="none",
            choices=("none", "private", "public"),
        ),
        AttributeSpec("must-revalidate", Kind.BOOL, default="true"),
        AttributeSpec("allow-private-response-caching", Kind.BOOL, default="false"),
    ),
    children=(
        ChildSpec("vary-by-header", text=TextSpec(required=True)),
        ChildSpec("vary-by-query-parameter", text=TextSpec(required=True)),
    ),
    compile=compile_cache_lookup,
)
