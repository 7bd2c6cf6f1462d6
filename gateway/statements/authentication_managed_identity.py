"""`authentication-managed-identity`: get an Entra token for a resource and send it.

The token comes from the gateway's `Tokens` service (Azure's managed identity or workload
identity endpoints, an Entra app's client secret, or a token gateway.yaml maps to the
resource), cached until shortly before it expires. Inbound, it sets `Authorization: Bearer`
on the backend request, or only stores the token in `output-token-variable-name`; inside
`send-request` it authenticates that call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, Kind, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.services import TokenUnavailable
from gateway.runtime.step import LocalReply, PolicyError, Step
from gateway.statements.support.declarations import INBOUND, name_only

SOURCE = "authentication-managed-identity"

TokenGetter = Callable[[RequestContext], Awaitable[str | None]]


def token_getter(node: Node, context: CompileContext) -> TokenGetter:
    """The token `node` asks for; None when it cannot be had and `ignore-error` is true."""
    resource = context.value(node.attr("resource"), "")
    client_id = context.value(node.attr("client-id"))
    ignore_error = context.condition(node.attr("ignore-error"), False)
    policy_id = node.attr_text("id")

    async def get(request: RequestContext) -> str | None:
        tokens = request.services.bearer_tokens
        wanted = to_text(resource(request))
        client = client_id(request)
        try:
            if tokens is None:
                raise TokenUnavailable("this gateway has no token service")
            return await tokens.token(wanted, None if client is None else to_text(client))
        except TokenUnavailable as error:
            if ignore_error(request):
                return None
            raise PolicyError(
                SOURCE,
                "ManagedIdentityTokenUnavailable",
                f"No token for resource '{wanted}': {error}",
                status=500,
                policy_id=policy_id,
            ) from None

    return get


def compile_authentication_managed_identity(node: Node, context: CompileContext) -> Step:
    get_token = token_getter(node, context)
    variable = context.literal(node.attr("output-token-variable-name"))

    async def authentication_managed_identity(request: RequestContext) -> LocalReply | None:
        token = await get_token(request)
        if token is None:
            return None
        if variable:
            request.variables[variable] = token
        else:
            request.model.Request.Headers.set("Authorization", [f"Bearer {token}"])
        return None

    return authentication_managed_identity


SPEC = StatementSpec(
    names=("authentication-managed-identity",),
    summary="Gets a token for `resource` and sets Authorization (or a variable) with it.",
    sections=INBOUND,
    attributes=(
        POLICY_ID,
        AttributeSpec("resource", required=True),
        AttributeSpec("client-id"),
        name_only("output-token-variable-name"),
        AttributeSpec("ignore-error", Kind.BOOL, default="false"),
    ),
    compile=compile_authentication_managed_identity,
)
