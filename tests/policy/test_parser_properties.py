"""Property tests: any input to the readers gives a document or diagnostics, never an exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.common.diagnostics import Report
from gateway.policy.xml_reader import read_xml
from gateway.policy.yaml_reader import read_yaml

FRAGMENTS = [
    "<policies>",
    "</policies>",
    "<inbound>",
    "</inbound>",
    "<base />",
    "<set-header",
    ' name="x"',
    " value='@(a && b)'",
    ">",
    "/>",
    "</set-header>",
    "@(",
    "@{",
    ")",
    "}",
    '"',
    "'",
    "&amp;",
    "&quot;",
    "&",
    "<",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "\n",
    " ",
    "As<JObject>()",
    '$"{x}"',
    '@"a""b"',
    "'c'",
    "//",
    "/*",
    "*/",
    "<!DOCTYPE x>",
    "&#x41;",
]

YAML_FRAGMENTS = [
    "policies:",
    "fragment:",
    "\n",
    "  ",
    "- ",
    "inbound:",
    "set-header:",
    "name: x",
    "{",
    "}",
    "[",
    "]",
    ": ",
    "'@(a)'",
    '"',
    "children:",
    "text:",
    "null",
    "- base",
    "&a",
    "*a",
    "!!str",
]


def assert_contract(document: object, report: Report) -> None:
    assert document is not None or report.has_errors
    for diagnostic in report:
        assert diagnostic.location.line >= 1 and diagnostic.location.column >= 1
        assert diagnostic.message


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_xml_reader_never_raises_on_policy_like_input(pieces: list[str]) -> None:
    report = Report()
    assert_contract(read_xml("".join(pieces), "fuzz.xml", report), report)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_xml_reader_never_raises_on_any_text(text: str) -> None:
    report = Report()
    assert_contract(read_xml(text, "fuzz.xml", report), report)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(YAML_FRAGMENTS), max_size=40))
def test_yaml_reader_never_raises_on_policy_like_input(pieces: list[str]) -> None:
    report = Report()
    assert_contract(read_yaml("".join(pieces), "fuzz.yaml", report), report)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_yaml_reader_never_raises_on_any_text(text: str) -> None:
    report = Report()
    assert_contract(read_yaml(text, "fuzz.yaml", report), report)
