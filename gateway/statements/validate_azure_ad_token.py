"""`validate-azure-ad-token`: require a valid Microsoft Entra ID token."""

from __future__ import annotations

from gateway.statements.common import AUDIENCES, FAILED_VALIDATION, INBOUND, REQUIRED_CLAIMS
from gateway.statements.spec import POLICY_ID, AttributeSpec, ChildSpec, StatementSpec, TextSpec

SPEC = StatementSpec(
    names=("validate-azure-ad-token",),
    summary="Validates an Entra ID (Azure AD) token for a tenant.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("tenant-id", required=True),
        AttributeSpec("header-name", default="Authorization"),
        AttributeSpec("query-parameter-name"),
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
    implemented=False,
)
