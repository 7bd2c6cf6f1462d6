"""How set-header changes a header, and set-query-parameter a query parameter: `exists-action`
override, skip, append or delete, and APIM's rules for joining values."""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions.model import HeaderDictionary
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext, Evaluator
from gateway.policy.tree import Node, Value
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
    values = [context.value(v.text, "") for v in node.children_named("value")]
    name_value, action_value = node.attr("name"), node.attr("exists-action")
    if not _is_expression(name_value) and not _is_expression(action_value):
        # The usual case: the name and the action are literals, so what they decide (a
        # transport header, one line per value, which action) is decided here, once.
        name = context.resolve_literal(name_value.text) if name_value is not None else ""
        how = context.resolve_literal(action_value.text) if action_value is not None else ""
        return _fixed_writer(to_text(name), to_text(how) or "override", values)
    name_of = context.value(name_value, "")
    action_of = context.value(action_value, "override")

    def write(request: RequestContext, headers: HeaderDictionary) -> None:
        header = to_text(name_of(request))
        how = to_text(action_of(request)) or "override"
        _fixed_writer(header, how, values)(request, headers)

    return write


def _is_expression(value: Value | None) -> bool:
    return value is not None and value.is_expression


def _fixed_writer(header: str, how: str, values: list[Evaluator]) -> HeaderWriter:
    """The change of header `header` by action `how`, its values still to evaluate."""
    if header.lower() in TRANSPORT_HEADERS:
        return _unchanged  # APIM ignores changes to transport headers
    if how == "delete":
        return lambda _, headers: headers.remove(header)
    one_line = header.lower() not in MULTI_LINE_HEADERS
    change = HeaderDictionary.append if how == "append" else HeaderDictionary.set
    skip = how == "skip"

    def write(request: RequestContext, headers: HeaderDictionary) -> None:
        if skip and headers.get(header) is not None:
            return
        if len(values) == 1:  # one value: one line, joined or not
            lines = [to_text(values[0](request))]
        else:
            texts = [to_text(value(request)) for value in values]
            lines = [",".join(texts)] if one_line else texts
        change(headers, header, lines)

    return write


def _unchanged(_: RequestContext, headers: HeaderDictionary) -> None:
    return None
