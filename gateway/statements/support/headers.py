"""How set-header changes a header, and set-query-parameter a query parameter: `exists-action`
override, skip, append or delete, and APIM's rules for joining values."""

from __future__ import annotations

import re
from collections.abc import Callable

from gateway.expressions.model import HeaderDictionary
from gateway.expressions.values import to_text
from gateway.policy.compiling import CompileContext, CompileFailure, Evaluator
from gateway.policy.tree import Node, Value
from gateway.runtime.context import RequestContext
from gateway.runtime.step import PolicyError

# APIM sends these as one line per value instead of joining values with commas.
MULTI_LINE_HEADERS = frozenset(
    """user-agent www-authenticate proxy-authenticate cookie set-cookie warning date expires
    if-modified-since if-unmodified-since last-modified retry-after""".split()
)
# Headers no policy may change: the transport owns them.
TRANSPORT_HEADERS = frozenset({"connection", "content-length", "keep-alive", "transfer-encoding"})

# What HTTP forbids in a header (RFC 9110 5.5, 5.6.2): control characters in a value (a tab
# is allowed), anything but a token in a name. A value with CR/LF would inject lines; the
# server refuses it instead, but only as it writes the response: the client got no answer at
# all while the access log said 200. So set-header refuses it itself, as a policy error.
_NOT_IN_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
VALUE_INVALID = "HeaderValueInvalid"
NAME_INVALID = "HeaderNameInvalid"

HeaderWriter = Callable[[RequestContext, HeaderDictionary], None]


def header_writer(node: Node, context: CompileContext, *, query: bool = False) -> HeaderWriter:
    """The header change `node` describes, applied to whichever headers it is given (with
    `query`, a query parameter's: encoded on the way, so any text may go)."""
    value_nodes = [v.text for v in node.children_named("value")]
    values = [context.value(v, "") for v in value_nodes]
    name_value, action_value = node.attr("name"), node.attr("exists-action")
    # The literal values are checked here, once; an expression's each time it is written.
    expressions = any(_is_expression(v) for v in value_nodes)
    computed = not query and expressions
    if not query:
        _check_literals(value_nodes, context)
    fault = _Fault(context.statement, context.policy_id) if computed else None
    if not _is_expression(name_value) and not _is_expression(action_value):
        # The usual case: the name and the action are literals, so what they decide (a
        # transport header, one line per value, which action) is decided here, once.
        name = context.resolve_literal(name_value.text) if name_value is not None else ""
        how = context.resolve_literal(action_value.text) if action_value is not None else ""
        name, how = to_text(name), to_text(how) or "override"
        # No name at all is validation's to report (a required attribute); the linter still
        # compiles the rest of the document for what else is wrong.
        if not query and how != "delete" and name_value is not None and not _TOKEN.fullmatch(name):
            raise CompileFailure(name_value.location, "header-name", _bad_name_message(name))
        # No expression: each value's evaluator is a constant, read now.
        literal = None if expressions else [value(None) for value in values]  # type: ignore[arg-type]
        return _fixed_writer(name, how, values, fault, literal)
    name_of = context.value(name_value, "")
    action_of = context.value(action_value, "override")
    checked = None if query else _Fault(context.statement, context.policy_id)

    def write(request: RequestContext, headers: HeaderDictionary) -> None:
        header = to_text(name_of(request))
        how = to_text(action_of(request)) or "override"
        if checked is not None and how != "delete" and not _TOKEN.fullmatch(header):
            raise checked.error(NAME_INVALID, _bad_name_message())
        _fixed_writer(header, how, values, checked)(request, headers)

    return write


def _check_literals(values: list[Value | None], context: CompileContext) -> None:
    """A literal value HTTP cannot carry is a load error (written as `&#13;&#10;`, say)."""
    for value in values:
        if value is None or value.is_expression:
            continue
        if _NOT_IN_VALUE.search(context.resolve_literal(value.text)):
            raise CompileFailure(value.location, "header-value", _bad_value_message())


class _Fault:
    """The policy error of a header HTTP cannot carry, in the statement that wrote it."""

    __slots__ = ("policy_id", "source")

    def __init__(self, source: str, policy_id: str | None) -> None:
        self.source, self.policy_id = source or "set-header", policy_id

    def error(self, reason: str, message: str) -> PolicyError:
        return PolicyError(self.source, reason, message, status=500, policy_id=self.policy_id)


def _bad_value_message(name: str = "") -> str:
    which = f"The value of header '{name}'" if name else "A header value"
    return f"{which} holds a control character (CR, LF, NUL, ...), which HTTP does not allow."


def _bad_name_message(name: str | None = None) -> str:
    """`name`: a literal's; a computed one is not repeated (it may be the client's input)."""
    which = f"'{name}'" if name is not None else "computed by an expression"
    return f"The header name {which} is not a valid HTTP header name (a token)."


def _is_expression(value: Value | None) -> bool:
    return value is not None and value.is_expression


def _fixed_writer(
    header: str,
    how: str,
    values: list[Evaluator],
    fault: _Fault | None = None,
    literal: list[object] | None = None,
) -> HeaderWriter:
    """The change of header `header` by action `how`, its values still to evaluate (and
    checked, raising `fault`'s error, when it is given: the values are computed), or given as
    `literal` texts when none is an expression."""
    if header.lower() in TRANSPORT_HEADERS:
        return _unchanged  # APIM ignores changes to transport headers
    if how == "delete":
        return lambda _, headers: headers.remove(header)
    one_line = header.lower() not in MULTI_LINE_HEADERS
    change = HeaderDictionary.append if how == "append" else HeaderDictionary.set
    skip = how == "skip"
    if literal is not None:  # the lines are known now: a request only writes them
        fixed = _joined_lines([to_text(value) for value in literal], one_line)

        def write_fixed(_: RequestContext, headers: HeaderDictionary) -> None:
            if skip and headers.get(header) is not None:
                return
            change(headers, header, fixed)  # `set` and `append` copy them

        return write_fixed

    # One value (the usual) is one line: no list of texts to make and join.
    only = values[0] if len(values) == 1 else None

    def write(request: RequestContext, headers: HeaderDictionary) -> None:
        if skip and headers.get(header) is not None:
            return
        if only is not None:
            lines = [to_text(only(request))]
        else:
            lines = _joined_lines([to_text(value(request)) for value in values], one_line)
        if fault is not None:
            for line in lines:
                # A printable line has no control character: the pattern need not run.
                if not line.isprintable() and _NOT_IN_VALUE.search(line):
                    raise fault.error(VALUE_INVALID, _bad_value_message(header))
        change(headers, header, lines)

    return write


def _joined_lines(texts: list[str], one_line: bool) -> list[str]:
    """The lines of a header's values: one value, one line; more, joined with commas unless
    the header takes one line per value."""
    return [",".join(texts)] if one_line and len(texts) != 1 else texts


def _unchanged(_: RequestContext, headers: HeaderDictionary) -> None:
    return None
