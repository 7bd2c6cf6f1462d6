"""`validate-azure-ad-token`: require a valid Microsoft Entra ID token for a tenant.

A validate-jwt with Entra's settings filled in: the tenant's published signing keys, its two
issuer forms (v1 and v2 tokens), and the calling application (`appid`/`azp`) checked against
`client-application-ids`. The Entra host is gateway.yaml's `identity.authority-host`.
"""

from __future__ import annotations

from gateway.config.settings import ENTRA_AUTHORITY
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, ChildSpec, StatementSpec, TextSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.support.declarations import (
    AUDIENCES,
    FAILED_VALIDATION,
    INBOUND,
    REQUIRED_CLAIMS,
    child_texts,
)

SOURCE = "validate-azure-ad-token"


def compile_validate_azure_ad_token(node: Node, context: CompileContext) -> Step:
    # Imported here, at load, not at the top: the registry imports every statement module, and
    # PyJWT with cryptography (9 MB a process) is only for the gateways that validate tokens.
    from gateway.statements.support.jwt_validation import (
        TokenRules,
        claim_rules,
        failure_settings,
        reject_decryption_keys,
        token_source,
    )

    reject_decryption_keys(node)
    tenant = (context.literal(node.attr("tenant-id")) or "").strip()
    clients = child_texts(node.child("client-application-ids"), "application-id", context)
    rules = TokenRules(
        source=SOURCE,
        token=token_source(node, context, "Authorization"),
        audiences=child_texts(node.child("audiences"), "audience", context),
        claims=claim_rules(node.child("required-claims"), context),
        **failure_settings(node, context),  # type: ignore[arg-type]
    )

    async def validate_azure_ad_token(request: RequestContext) -> LocalReply | None:
        keys = request.services.signing_keys
        if not rules.key_urls:  # the Entra host is the gateway's: known at the first request
            authority = keys.authority if keys is not None else ENTRA_AUTHORITY
            rules.key_urls = [f"{authority}/{tenant}/v2.0/.well-known/openid-configuration"]
            rules.issuers = (f"{authority}/{tenant}/v2.0", f"https://sts.windows.net/{tenant}/")
        claims = await rules.validate(request)
        if clients and str(claims.get("appid") or claims.get("azp") or "") not in clients:
            raise rules.fail("TokenClaimValueNotAllowed", "Client application is not allowed.")
        return None

    return validate_azure_ad_token


SPEC = StatementSpec(
    names=("validate-azure-ad-token",),
    summary="Validates an Entra ID (Azure AD) token for a tenant.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("tenant-id", required=True, expression=False),
        AttributeSpec("header-name", default="Authorization", expression=False),
        AttributeSpec("query-parameter-name", expression=False),
        AttributeSpec("token-value"),
        *FAILED_VALIDATION,
    ),
    children=(
        ChildSpec(
            "client-application-ids",
            max_count=1,
            children=(ChildSpec("application-id", text=TextSpec()),),
        ),
        ChildSpec(
            "backend-application-ids",
            max_count=1,
            children=(ChildSpec("application-id", text=TextSpec()),),
        ),
        AUDIENCES,
        REQUIRED_CLAIMS,
        ChildSpec("decryption-keys", max_count=1, children=(ChildSpec("key", text=TextSpec()),)),
    ),
    compile=compile_validate_azure_ad_token,
)
