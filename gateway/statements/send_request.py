"""`send-request` and the request a policy builds for it (shared with send-one-way-request).

The request starts empty (`mode="new"`) or as a copy of the current request
(`mode="copy"`), and its children set the URL, method, headers, body and credentials. A
policy may call only URLs it names: a literal `<set-url>` names one; a URL computed by an
expression must start with one of gateway.yaml's `send-request.allowed-urls`. The URL is
normalised first (gateway.common.url_paths: scheme and host in lower case, dot segments and
`%2e` resolved) and sent exactly as checked; one whose path climbs above its root, or that
cannot be read (an unclosed `[`, a bad port), is refused like a URL not allowed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from gateway.common.url_paths import UrlError, normalised_url
from gateway.expressions.model import HeaderDictionary
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext, CompileFailure
from gateway.policy.spec import (
    POLICY_ID,
    AttributeSpec,
    ChildSpec,
    Kind,
    StatementSpec,
    TextSpec,
    as_child,
)
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.services import SideCalls
from gateway.runtime.step import LocalReply, PolicyError, Step
from gateway.statements import (
    authentication_certificate,
    authentication_managed_identity,
    set_body,
    set_header,
)
from gateway.statements.support.headers import header_writer


@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: bytes | None


RequestBuilder = Callable[[RequestContext], Awaitable[OutgoingRequest]]


def request_builder(node: Node, context: CompileContext, source: str) -> RequestBuilder:
    """Compile a send-request's children into a builder of the request it sends."""
    for unsupported in ("proxy", "authentication-certificate"):
        child = node.child(unsupported)
        if child is not None:
            raise CompileFailure(
                child.location,
                "not-implemented",
                f"<{unsupported}> inside <{source}> is not supported yet",
            )
    copy = context.literal(node.attr("mode"), "new") == "copy"
    url_node, method_node = node.child("set-url"), node.child("set-method")
    url_text = url_node.text if url_node is not None else None
    url = context.value(url_text, "")
    url_is_literal = url_text is not None and not url_text.is_expression
    method = context.value(method_node.text if method_node is not None else None, "")
    write_headers = [header_writer(h, context) for h in node.children_named("set-header")]
    body_node = node.child("set-body")
    build_body = set_body.body_builder(body_node, context) if body_node is not None else None
    identity = node.child("authentication-managed-identity")
    get_token = (
        authentication_managed_identity.token_getter(identity, context)
        if identity is not None
        else None
    )
    policy_id = node.attr_text("id")

    async def build(request: RequestContext) -> OutgoingRequest:
        incoming = request.model.Request
        target = to_text(url(request)) or (str(incoming.Url) if copy else "")
        side_calls = _side_calls(request, source, policy_id)
        target = _allowed(target, url_is_literal, side_calls, source, policy_id)
        headers = HeaderDictionary()
        if copy:
            for name, value in incoming.Headers.lines():
                headers.append(name, [value])
        for write in write_headers:
            write(request, headers)
        if get_token is not None:
            token = await get_token(request)
            if token is not None:
                headers.set("Authorization", [f"Bearer {token}"])
        body = None
        if build_body is not None:
            body = build_body(request)
        elif copy and incoming.Body is not None:
            body = incoming.Body.read(preserve=True)
        verb = to_text(method(request)) or (incoming.Method if copy else "GET")
        return OutgoingRequest(verb.upper(), target, headers.lines(), body)

    return build


_NOT_LISTED = (
    "a URL computed by an expression must start with one of gateway.yaml's "
    "send-request.allowed-urls"
)


def _allowed(
    target: str, literal: bool, side_calls: SideCalls, source: str, policy_id: str | None
) -> str:
    """`target` normalised, to be sent as it is; UrlNotAllowed (saying why) when the policy
    may not call it."""
    why = _NOT_LISTED
    try:
        normal = normalised_url(target) if target else None
        if target and normal is None:
            why = "its path climbs above its root ('..', '%2e%2e', '..%2f'); remove them"
    except UrlError as error:
        normal, why = None, f"{error}; write scheme://host[:port]/path"
    if normal is None or not (literal or side_calls.allows(normal[0])):
        raise PolicyError(
            source,
            "UrlNotAllowed",
            f"{source} may not call '{_origin(target)}': {why}",
            status=500,
            policy_id=policy_id,
        )
    return normal[0]


def _side_calls(request: RequestContext, source: str, policy_id: str | None) -> SideCalls:
    side_calls = request.services.side_calls
    if side_calls is None:
        raise PolicyError(source, "BackendConnectionFailure", "no HTTP client", policy_id=policy_id)
    return side_calls


def _origin(url: str) -> str:
    """`url` without its query (which may carry secrets), for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed `[`: the message says so
        return url.partition("?")[0]
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else url


def compile_send_request(node: Node, context: CompileContext) -> Step:
    build = request_builder(node, context, "send-request")
    variable = context.literal(node.attr("response-variable-name")) or ""
    timeout = context.integer(node.attr("timeout"), 60)
    ignore_error = context.condition(node.attr("ignore-error"), False)
    policy_id = node.attr_text("id")

    async def send_request(request: RequestContext) -> LocalReply | None:
        outgoing = await build(request)
        side_calls = _side_calls(request, "send-request", policy_id)
        try:
            response = await side_calls.send(
                outgoing.method, outgoing.url, outgoing.headers, outgoing.body, timeout
            )
        except (TimeoutError, ConnectionError) as error:
            if ignore_error(request):
                request.variables[variable] = None  # APIM: the variable holds null
                return None
            timed_out = isinstance(error, TimeoutError)
            raise PolicyError(
                "send-request",
                "Timeout" if timed_out else "BackendConnectionFailure",
                # Its URL is not named: the message may reach the client (APIM's envelope, an
                # on-error writing LastError.Message); the gateway's log has it.
                f"The send-request call did not answer within {timeout} seconds."
                if timed_out
                else f"The send-request call failed: {error}.",
                status=500,
                policy_id=policy_id,
            ) from None
        request.variables[variable] = response
        return None

    return send_request


MODE = AttributeSpec("mode", Kind.ENUM, default="new", choices=("new", "copy"))

REQUEST_CHILDREN = (
    ChildSpec("set-url", max_count=1, text=TextSpec(Kind.URL, required=True)),
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
        AttributeSpec("timeout", Kind.INT, default="60", minimum=1, expression=False),
        AttributeSpec("ignore-error", Kind.BOOL, default="false"),
    ),
    children=REQUEST_CHILDREN,
    compile=compile_send_request,
)
