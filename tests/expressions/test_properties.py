"""Property tests: random input to the interpreter gives a result or our errors, nothing else."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.expressions import ExpressionError, ExpressionSyntaxError, compile_expression
from tests.expressions.context_fixture import prepared_context
from tests.expressions.corpus_table import TABLE

TOKENS = [
    "context",
    ".",
    "Variables",
    "[",
    "]",
    '"tier"',
    "(",
    ")",
    "{",
    "}",
    "?.",
    "??",
    "?",
    ":",
    "==",
    "!=",
    "&&",
    "||",
    "+",
    "-",
    "*",
    "/",
    "%",
    "!",
    "1",
    "0",
    "2.5",
    "null",
    "true",
    "(string)",
    "(int)",
    "(JObject)",
    "As<JObject>",
    "GetValueOrDefault",
    "<",
    ">",
    "=>",
    "x",
    "var",
    "return",
    ";",
    "if",
    "else",
    "for",
    "foreach",
    "in",
    "new",
    "JObject",
    "JArray",
    '$"a{1}b"',
    '@"q""q"',
    "'c'",
    ",",
    "Request",
    "Headers",
    "Body",
    "Count",
    "ToString",
    "Split",
    "Select",
    "while",
    "try",
    "catch",
    "=",
    "+=",
    "++",
    "Math",
    "Max",
    "out",
    "int",
]


def check(source: str) -> None:
    try:
        expression = compile_expression(source)
    except ExpressionSyntaxError as error:
        assert isinstance(error.offset, int) and error.message
        return
    try:
        expression.evaluate(prepared_context(), budget=2_000)
    except ExpressionError as error:
        assert error.message


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=25), st.sampled_from(["@(", "@{"]))
def test_random_token_soup_never_escapes_the_contract(tokens: list[str], opener: str) -> None:
    closer = ")" if opener == "@(" else "}"
    check(opener + " ".join(tokens) + closer)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_random_text_never_escapes_the_contract(text: str) -> None:
    check("@(" + text + ")")


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from([s for s, _ in TABLE]),
    st.integers(0, 200),
    st.integers(0, 6),
    st.text(max_size=4),
)
def test_mutated_corpus_expressions_never_escape_the_contract(
    source: str, at: int, cut: int, insert: str
) -> None:
    at = min(at, len(source))
    mutated = source[:at] + insert + source[at + cut :]
    if re.match(r"@[({]", mutated):
        check(mutated)
