"""How set-header changes a header, and set-query-parameter a query parameter: `exists-action`
override, skip, append or delete, and APIM's rules for joining values."""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions.model import HeaderDictionary
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext
from gateway.policy.tree import Node
from gateway.runtime.context import RequestContext

# APIM sends these as one line per value instead of joining values with commas.
MULTI_LINE_HEADERS = frozenset(
    """user-agent www-authenticate proxy-authenticate cookie set-cookie warning date expires
    if-modified-since if-unmodified-since last-modified retry-after""".split()
)
# Headers no policy may change: the transport owns them.
TRANSPORT_HEADERS = frozenset({"connection", "content-length", "keep-alive", "transfer-encoding"})

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
