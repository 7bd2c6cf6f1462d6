"""A header change whose values are all literals writes lines made once, at load: the same
lines, for every action and header kind, as evaluating the values per request writes."""

from __future__ import annotations

import pytest

from gateway.expressions.model import ContextModel, HeaderDictionary
from gateway.policy.compiling import constant
from gateway.runtime.context import RequestContext
from gateway.statements.support.headers import _fixed_writer

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
