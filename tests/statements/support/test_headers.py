"""A header change whose values are all literals writes lines made once, at load: the same
lines, for every action and header kind, as evaluating the values per request writes."""

from __future__ import annotations

import pytest

from gateway.expressions.model import ContextModel, HeaderDictionary
from gateway.policy.compiling import constant
from gateway.runtime.context import RequestContext
from gateway.runtime.step import PolicyError
from gateway.statements.support.headers import _NOT_IN_VALUE, _Fault, _fixed_writer

START = [("Set-Cookie", "a=1"), ("x-b", "old"), ("Accept", "x")]


@pytest.mark.parametrize("header", ["x-b", "X-New", "set-cookie", "accept"])
@pytest.mark.parametrize("how", ["override", "skip", "append", "delete"])
@pytest.mark.parametrize("texts", [[], ["v"], ["v", "w"], ["v", "", "w,x"]])
def test_literal_lines_are_what_evaluated_values_give(
    header: str, how: str, texts: list[str]
) -> None:
    request = RequestContext(ContextModel())
    values = [constant(text) for text in texts]
    written = []
    for literal in (None, texts):  # per request, then made at load
        headers = HeaderDictionary.from_lines(START)
        for _ in range(2):  # twice: lines made once are not changed by a write
            _fixed_writer(header, how, values, None, literal)(request, headers)
        written.append((headers.lines(), headers.get(header)))
    assert written[0] == written[1]


TEXTS = [chr(code) for code in range(0x80)] + ["\u2028", "\u00a0", "é", "\u200b", "a\tb", ""]


@pytest.mark.parametrize("count", [1, 2])
def test_a_computed_value_is_refused_exactly_when_it_holds_a_control_character(
    count: int,
) -> None:
    """One value or several, the printable shortcut refuses what the pattern refuses."""
    request = RequestContext(ContextModel())
    fault = _Fault("set-header", None)
    for text in TEXTS:
        values = [constant(f"x{text}y")] * count
        headers = HeaderDictionary.from_lines(START)
        write = _fixed_writer("x-new", "override", values, fault)
        if _NOT_IN_VALUE.search(text):
            with pytest.raises(PolicyError, match="control character"):
                write(request, headers)
        else:
            write(request, headers)
            assert headers.get("x-new") == [",".join([f"x{text}y"] * count)]
