"""The YAML form mirrors the XML form: same tree both ways, for every corpus file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gateway.common.diagnostics import Report
from gateway.policy.loader import raw_markup_tags
from gateway.policy.source import read_policy_text
from gateway.policy.writer import to_xml, to_yaml
from gateway.policy.xml_reader import read_xml
from gateway.policy.yaml_reader import read_yaml
from gateway.statements import default_registry
from tests.conftest import REPO, corpus_files

RAW = raw_markup_tags(default_registry())

# Broken as published (SOURCES.md: "MALFORMED even after expression lexing").
MALFORMED_UPSTREAM = {
    "infra__modules__apim__policies__frag-llm-usage.xml",
    "examples__Call-out-to-an-HTTP-endpoint-and-cache-the-response.policy.xml",
    "examples__Filter-response-content-based-on-product-name.policy.xml",
    "scenarios__workload-genai__policies__fragments__multi-tenancy__example-product-policy--at-e009453.xml",
}

XML = """
<policies>
    <inbound>
        <base />
        <set-variable name="tier" value="gold" />
        <set-method>POST</set-method>
        <choose>
            <when condition='@(context.Request.Method == "GET")'>
                <set-header name="x-read" exists-action="override">
                    <value>yes</value>
                </set-header>
            </when>
            <otherwise />
        </choose>
    </inbound>
    <backend>
        <forward-request timeout="120" />
    </backend>
</policies>
"""

YAML = """
policies:
  inbound:
    - base
    - set-variable: {name: tier, value: gold}
    - set-method: POST
    - choose:
        - when:
            condition: '@(context.Request.Method == "GET")'
            children:
              - set-header:
                  name: x-read
                  exists-action: override
                  children:
                    - value: "yes"
        - otherwise
  backend:
    - forward-request: {timeout: 120}
"""


def test_documented_yaml_form_equals_the_xml_form() -> None:
    report = Report()
    from_xml = read_xml(textwrap.dedent(XML), "a.xml", report, raw_markup_tags=RAW)
    from_yaml = read_yaml(textwrap.dedent(YAML), "a.yaml", report)
    assert not list(report)
    assert from_xml is not None and from_yaml is not None
    assert from_xml.root.same_tree(from_yaml.root)


def test_yaml_positions_point_at_keys_and_values() -> None:
    document = read_yaml(textwrap.dedent(YAML).lstrip("\n"), "a.yaml", Report())
    assert document is not None
    variable = document.root.children[0].children[1]
    assert (variable.location.line, variable.location.column) == (4, 7)
    name = variable.attributes["name"]
    assert (name.location.line, name.location.column) == (4, 22)
    assert (name.value.location.line, name.value.location.column) == (4, 28)


def test_yaml_structure_errors_have_positions() -> None:
    report = Report()
    read_yaml("policies:\n  inbound:\n    - set-header:\n        name: [a, b]\n", "b.yaml", report)
    [diagnostic] = list(report)
    assert diagnostic.rule == "yaml-structure"
    assert (diagnostic.location.line, diagnostic.location.column) == (4, 15)


def test_yaml_syntax_error_is_a_diagnostic() -> None:
    report = Report()
    assert read_yaml("policies:\n  inbound: [\n", "c.yaml", report) is None
    [diagnostic] = list(report)
    assert diagnostic.rule == "yaml-syntax"
    assert diagnostic.location.line == 3


def test_yaml_duplicate_attribute_is_kept_for_the_linter() -> None:
    document = read_yaml(
        "policies:\n  inbound:\n    - set-variable:\n        name: a\n        name: b\n",
        "d.yaml",
        Report(),
    )
    assert document is not None
    node = document.root.children[0].children[0]
    assert node.attributes["name"].value.text == "a"
    assert [d.location.line for d in node.duplicate_attributes] == [5]


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_corpus_round_trips_xml_yaml_xml(path: Path) -> None:
    report = Report()
    original = read_xml(path.read_text(encoding="utf-8"), str(path), report, raw_markup_tags=RAW)
    if original is None:
        assert path.name in MALFORMED_UPSTREAM, [d.format() for d in report]
        return
    as_yaml = read_yaml(to_yaml(original.root), "x.yaml", report)
    assert as_yaml is not None, [d.format() for d in report]
    back = read_xml(to_xml(as_yaml.root), "x.xml", report, raw_markup_tags=RAW)
    assert back is not None, [d.format() for d in report]
    assert original.root.same_tree(as_yaml.root)
    assert as_yaml.root.same_tree(back.root)


def test_corpus_reads_all_but_the_four_malformed_files() -> None:
    unreadable = set()
    for path in corpus_files():
        report = Report()
        if (
            read_xml(path.read_text(encoding="utf-8"), str(path), report, raw_markup_tags=RAW)
            is None
        ):
            unreadable.add(path.name)
    assert unreadable == MALFORMED_UPSTREAM


SAMPLE_FILES = sorted(
    p
    for folder in ("policies", "samples")
    for p in (REPO / folder).rglob("*")
    if p.suffix in (".xml", ".yaml") and p.name != "gateway.yaml"
)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_bundled_policy_files_round_trip_through_convert(path: Path) -> None:
    report = Report()
    original = read_policy_text(
        path.read_text(encoding="utf-8"), str(path), report, raw_markup_tags=RAW
    )
    assert original is not None, [d.format() for d in report]
    if path.suffix == ".xml":
        other = read_yaml(to_yaml(original.root), "x.yaml", report)
    else:
        other = read_xml(to_xml(original.root), "x.xml", report, raw_markup_tags=RAW)
    assert other is not None and original.root.same_tree(other.root)
