"""Expressions from the corpus (verbatim or nearly) with the values APIM gives them."""

from __future__ import annotations

import pytest

from gateway.expressions import compile_expression
from tests.expressions.context_fixture import prepared_context
from tests.expressions.corpus_table import TABLE


@pytest.mark.parametrize(("source", "expected"), TABLE, ids=[s[:60] for s, _ in TABLE])
def test_corpus_expression_evaluates_like_apim(source: str, expected: object) -> None:
    value = compile_expression(source).evaluate(prepared_context())
    assert value == expected
    assert type(value) is type(expected)
