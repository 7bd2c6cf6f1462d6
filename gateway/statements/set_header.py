"""`set-header`: add, replace, append to or delete a request or response header."""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions.model import HeaderDictionary
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.spec import POLICY_ID, AttributeSpec, StatementSpec
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply, Step
from gateway.statements.common import EXISTS_ACTION, VALUE_CHILD
from gateway.statements.messages import MULTI_LINE_HEADERS, TRANSPORT_HEADERS, message_of

HeaderWriter = Callable[[RequestContext, HeaderDictionary], None]


def header_writer(node: Node, context: CompileContext) -> HeaderWriter:
    """The header change `node` describes, applied to whichever headers it is given."""
    name = context.value(node.attr("name"), "")
    action = context.value(node.attr("exists-action"), "override")
    values = [context.value(v.text, "") for v in node.children_named("value")]

    def write(request: RequestContext, headers: HeaderDictionary) -> None:
        header = to_text(name(request))
        how = to_text(action(request)) or "override"
        if header.lower() in TRANSPORT_HEADERS:
            return  # APIM ignores changes to transport headers
        if how == "delete":
            headers.remove(header)
            return
        if how == "skip" and headers.get(header) is not None:
            return
        texts = [to_text(value(request)) for value in values]
        lines = texts if header.lower() in MULTI_LINE_HEADERS else [",".join(texts)]
        if how == "append":
            headers.append(header, lines)
        else:
            headers.set(header, lines)

    return write


def compile_set_header(node: Node, context: CompileContext) -> Step:
    write = header_writer(node, context)
    section = context.section

    async def set_header(request: RequestContext) -> LocalReply | None:
        write(request, message_of(request, section).Headers)
        return None

    return set_header


SPEC = StatementSpec(
    names=("set-header",),
    summary="Sets a header of the request (inbound) or the response (outbound).",
    attributes=(POLICY_ID, AttributeSpec("name", required=True), EXISTS_ACTION),
    children=(VALUE_CHILD,),
    compile=compile_set_header,
)
