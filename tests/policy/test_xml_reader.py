"""Reading APIM policy XML: raw expressions, positions, hardening, syntax errors."""

from __future__ import annotations

import textwrap

from gateway.common.diagnostics import Report
from gateway.policy.tree import Document
from gateway.policy.xml_reader import read_xml


def read(
    text: str, raw: frozenset[str] = frozenset({"set-body"})
) -> tuple[Document | None, Report]:
    report = Report()
    document = read_xml(textwrap.dedent(text).lstrip("\n"), "p.xml", report, raw_markup_tags=raw)
    return document, report


def test_raw_expressions_in_attributes_and_text_are_protected_and_restored() -> None:
    document, report = read(
        """
        <policies>
            <inbound>
                <set-variable name="ok" value="@(context.Response.StatusCode == 200 && x < 5)" />
                <set-body>@{ var b = context.Request.Body.As<JObject>(preserveContent: true); return b.ToString(); }</set-body>
            </inbound>
        </policies>
        """
    )
    assert not list(report)
    assert document is not None
    inbound = document.root.children[0]
    value = inbound.children[0].attr("value")
    assert value is not None and value.is_expression
    assert value.text == "@(context.Response.StatusCode == 200 && x < 5)"
    body = inbound.children[1].text
    assert body is not None and body.is_expression
    assert body.text.startswith("@{ var b = context.Request.Body.As<JObject>(")


def test_positions_of_nodes_attributes_and_values() -> None:
    document, _ = read(
        """
        <policies>
            <inbound>
                <set-header name="x-a"   exists-action='override'>
                    <value>@(context.Api.Id)</value>
                </set-header>
            </inbound>
        </policies>
        """
    )
    assert document is not None
    header = document.root.children[0].children[0]
    assert (header.location.line, header.location.column) == (3, 9)
    action = header.attributes["exists-action"]
    assert (action.location.line, action.location.column) == (3, 34)
    assert (action.value.location.line, action.value.location.column) == (3, 49)
    value = header.children[0].text
    assert value is not None
    assert (value.location.line, value.location.column) == (4, 20)


def test_entity_escaped_expressions_are_decoded() -> None:
    document, _ = read(
        '<policies><inbound><set-variable name="a" '
        'value="@(context.Variables[&quot;x&quot;] &amp;&amp; true)" /></inbound></policies>'
    )
    assert document is not None
    value = document.root.children[0].children[0].attr("value")
    assert value is not None and value.text == '@(context.Variables["x"] && true)'


def test_unescaped_quotes_inside_expression_attribute() -> None:
    document, report = read(
        '<policies><inbound><set-header name="a" exists-action="override">'
        '<value>@(context.Request.Headers.GetValueOrDefault("User-Agent",""))</value>'
        "</set-header></inbound></policies>"
    )
    assert document is not None and not list(report)


def test_literal_markup_in_set_body_is_kept_as_text() -> None:
    document, _ = read(
        """
        <policies>
            <inbound>
                <set-body><Envelope><Body a="1">x &amp; y</Body></Envelope></set-body>
            </inbound>
        </policies>
        """
    )
    assert document is not None
    body = document.root.children[0].children[0]
    assert body.children == []
    assert (
        body.text is not None
        and body.text.text == '<Envelope><Body a="1">x &amp; y</Body></Envelope>'
    )


def test_expression_in_cdata_is_an_expression() -> None:
    document, _ = read(
        "<policies><inbound><set-variable name='m'><value><![CDATA[@(1 < 2)]]></value>"
        "</set-variable></inbound></policies>"
    )
    assert document is not None
    value = document.root.children[0].children[0].children[0].text
    assert value is not None and value.is_expression and value.text == "@(1 < 2)"


def test_comments_with_apostrophes_and_brackets_do_not_confuse_the_scanner() -> None:
    document, report = read(
        """
        <policies>
            <!-- don't ( -->
            <inbound>
                <set-variable name="a" value="@{
                    // the backend's answer (maybe
                    return "1";
                }" />
            </inbound>
        </policies>
        """
    )
    assert document is not None, [d.format() for d in report]


def test_unterminated_expression_is_reported_at_its_start() -> None:
    document, report = read(
        '<policies>\n  <inbound><set-variable name="a" value="@(foo(" /></inbound>\n</policies>'
    )
    assert document is None
    [diagnostic] = list(report)
    assert diagnostic.rule == "expression-unterminated"
    assert (diagnostic.location.line, diagnostic.location.column) == (2, 42)


def test_mismatched_tag_gives_line_column_and_advice() -> None:
    _, report = read("<policies>\n  <inbound>\n  </outbound>\n</policies>")
    [diagnostic] = list(report)
    assert diagnostic.rule == "xml-syntax"
    assert diagnostic.location.line == 3
    assert "close elements in the reverse order" in diagnostic.message


def test_doctype_and_external_entities_are_refused() -> None:
    _, report = read(
        '<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY x SYSTEM "http://example.com/x">]>\n'
        "<policies>&x;</policies>"
    )
    [diagnostic] = list(report)
    assert diagnostic.rule == "xml-doctype"
    assert diagnostic.location.line == 2


def test_undefined_entity_is_an_error_not_a_fetch() -> None:
    document, report = read(
        "<policies><inbound><set-method>&foo;</set-method></inbound></policies>"
    )
    assert document is None
    assert [d.rule for d in report] == ["xml-syntax"]


def test_private_use_characters_of_the_author_are_kept_not_taken_for_expressions() -> None:
    # Found by fuzzing (tests/fuzz/corpus/policy_xml): the reader protects expressions with
    # private-use characters, and the author's own U+E000 was taken for expression 0 (its
    # text put in its place) or for one that does not exist (an IndexError: the linter's
    # "internal error", aigw run's traceback).
    document, report = read(
        """
        <policies><inbound>
            <set-header name="a" exists-action="override"><value>\ue000 and \ue001\uf8ff</value></set-header>
            <set-variable name="v" value="@(1 + 2)" />
            <set-variable name="w" value="x\ue000y" />
        </inbound></policies>
        """
    )
    assert not list(report)
    assert document is not None
    header, first, second = document.root.children[0].children
    assert header.children[0].text is not None
    assert header.children[0].text.text == "\ue000 and \ue001\uf8ff"
    assert first.attr("value") is not None and first.attr("value").text == "@(1 + 2)"  # type: ignore[union-attr]
    assert second.attr("value") is not None and second.attr("value").text == "x\ue000y"  # type: ignore[union-attr]
