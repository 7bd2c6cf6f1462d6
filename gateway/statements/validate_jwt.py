"""`validate-jwt`: require a valid JSON Web Token."""

from __future__ import annotations

from gateway.diagnostics import Report
from gateway.policy.tree import Node
from gateway.statements.common import (
    AUDIENCES,
    FAILED_VALIDATION,
    INBOUND,
    ISSUERS,
    REQUIRED_CLAIMS,
)
from gateway.statements.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    StatementSpec,
    TextSpec,
)

TOKEN_SOURCES = ("header-name", "query-parameter-name", "token-value")

KEY = ChildSpec(
    "key",
    attributes=(
        AttributeSpec("id"),
        AttributeSpec("certificate-id"),
        AttributeSpec("n"),
        AttributeSpec("e"),
    ),
    text=TextSpec(doc="A base64-encoded key."),
)


def check(node: Node, report: Report) -> None:
    given = [name for name in TOKEN_SOURCES if name in node.attributes]
    if len(given) != 1:
        report.error(
            node.location,
            "conflicting-attributes" if given else "missing-attribute",
            "validate-jwt needs exactly one token source: 'header-name', "
            "'query-parameter-name' or 'token-value'",
        )


SPEC = StatementSpec(
    names=("validate-jwt",),
    summary="Validates a JWT from a header, query parameter or value; rejects with 401 by default.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("header-name"),
        AttributeSpec("query-parameter-name"),
        AttributeSpec("token-value"),
        *FAILED_VALIDATION,
        AttributeSpec("require-expiration-time", Kind.BOOL, default="true"),
        AttributeSpec("require-scheme"),
        AttributeSpec("require-signed-tokens", Kind.BOOL, default="true"),
        AttributeSpec("clock-skew", Kind.INT, default="0", minimum=0),
    ),
    children=(
        ChildSpec("openid-config", attributes=(AttributeSpec("url", required=True),)),
        ChildSpec("issuer-signing-keys", max_count=1, children=(KEY,)),
        ChildSpec("decryption-keys", max_count=1, children=(KEY,)),
        AUDIENCES,
        ISSUERS,
        REQUIRED_CLAIMS,
    ),
    check=check,
    implemented=False,
)
