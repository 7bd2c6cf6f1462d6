"""`send-request` and `send-one-way-request`: call another service from a policy."""

from __future__ import annotations

from gateway.statements import (
    authentication_certificate,
    authentication_managed_identity,
    set_body,
    set_header,
)
from gateway.statements.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    StatementSpec,
    TextSpec,
    as_child,
)

MODE = AttributeSpec("mode", Kind.ENUM, default="new", choices=("new", "copy"))

REQUEST_CHILDREN = (
    ChildSpec("set-url", max_count=1, text=TextSpec(required=True)),
    ChildSpec("set-method", max_count=1, text=TextSpec(Kind.HTTP_METHOD, required=True)),
    as_child(set_header.SPEC),
    as_child(set_body.SPEC, max_count=1),
    as_child(authentication_managed_identity.SPEC, max_count=1),
    as_child(authentication_certificate.SPEC, max_count=1),
    ChildSpec(
        "proxy",
        max_count=1,
        attributes=(
            AttributeSpec("url", required=True),
            AttributeSpec("username"),
            AttributeSpec("password"),
        ),
    ),
)

SPEC = StatementSpec(
    names=("send-request",),
    summary="Sends a request and stores the response (IResponse) in a variable.",
    attributes=(
        POLICY_ID,
        MODE,
        AttributeSpec("response-variable-name", required=True, expression=False),
        AttributeSpec("timeout", Kind.INT, default="60", minimum=1),
        AttributeSpec("ignore-error", Kind.BOOL, default="false"),
    ),
    children=REQUEST_CHILDREN,
    implemented=False,
)
