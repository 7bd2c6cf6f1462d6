"""`validate-jwt`: require a valid JSON Web Token."""

from __future__ import annotations

from gateway.common.diagnostics import Report
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, ChildSpec, Kind, StatementSpec, TextSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.declarations import (
    AUDIENCES,
    FAILED_VALIDATION,
    INBOUND,
    ISSUERS,
    REQUIRED_CLAIMS,
    child_texts,
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


def compile_validate_jwt(node: Node, context: CompileContext) -> Step:
    # Imported here, at load, not at the top: the registry imports every statement module, and
    # PyJWT with cryptography (9 MB a process) is only for the gateways that validate tokens.
    from gateway.statements.support.jwt_validation import (
        TokenRules,
        claim_rules,
        failure_settings,
        inline_key,
        reject_decryption_keys,
        token_source,
    )

    reject_decryption_keys(node)
    signing = node.child("issuer-signing-keys")
    rules = TokenRules(
        source="validate-jwt",
        token=token_source(node, context, None),
        keys=[inline_key(k, context) for k in signing.children_named("key")] if signing else [],
        key_urls=[
            context.literal(c.attr("url")) or "" for c in node.children_named("openid-config")
        ],
        audiences=child_texts(node.child("audiences"), "audience", context),
        issuers=child_texts(node.child("issuers"), "issuer", context),
        claims=claim_rules(node.child("required-claims"), context),
        require_expiration=context.literal(node.attr("require-expiration-time"), "true") == "true",
        require_signed=context.literal(node.attr("require-signed-tokens"), "true") == "true",
        clock_skew=context.integer(node.attr("clock-skew"), 0),
        **failure_settings(node, context),  # type: ignore[arg-type]
    )

    async def validate_jwt(request: RequestContext) -> LocalReply | None:
        await rules.validate(request)
        return None

    return validate_jwt


SPEC = StatementSpec(
    names=("validate-jwt",),
    summary="Validates a JWT from a header, query parameter or value; rejects with 401 by default.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("header-name", expression=False),
        AttributeSpec("query-parameter-name", expression=False),
        AttributeSpec("token-value"),
        *FAILED_VALIDATION,
        AttributeSpec("require-expiration-time", Kind.BOOL, default="true", expression=False),
        AttributeSpec("require-scheme", expression=False),
        AttributeSpec("require-signed-tokens", Kind.BOOL, default="true", expression=False),
        AttributeSpec("clock-skew", Kind.INT, default="0", minimum=0, expression=False),
    ),
    children=(
        ChildSpec(
            "openid-config", attributes=(AttributeSpec("url", required=True, expression=False),)
        ),
        ChildSpec("issuer-signing-keys", max_count=1, children=(KEY,)),
        ChildSpec("decryption-keys", max_count=1, children=(KEY,)),
        AUDIENCES,
        ISSUERS,
        REQUIRED_CLAIMS,
    ),
    check=check,
    compile=compile_validate_jwt,
)
