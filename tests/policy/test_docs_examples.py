"""The examples in docs/policy-yaml.md are real: each XML block equals the YAML block after it."""

from __future__ import annotations

import re

from gateway.common.diagnostics import Report
from gateway.policy.xml_reader import read_xml
from gateway.policy.yaml_reader import read_yaml
from tests.conftest import REPO

BLOCK = re.compile(r"```(xml|yaml)\n(.*?)```", re.DOTALL)


def test_docs_xml_and_yaml_examples_are_the_same_tree() -> None:
    text = (REPO / "docs" / "policy-yaml.md").read_text(encoding="utf-8")
    blocks = BLOCK.findall(text)
    pairs = [
        (blocks[i][1], blocks[i + 1][1])
        for i in range(len(blocks) - 1)
        if blocks[i][0] == "xml" and blocks[i + 1][0] == "yaml"
    ]
    assert pairs, "docs/policy-yaml.md lost its XML/YAML example pair"
    for xml_text, yaml_text in pairs:
        report = Report()
        from_xml = read_xml(xml_text, "doc.xml", report)
        from_yaml = read_yaml(yaml_text, "doc.yaml", report)
        assert not list(report), [d.format() for d in report]
        assert from_xml is not None and from_yaml is not None
        assert from_xml.root.same_tree(from_yaml.root)
    lone_yaml = [b for kind, b in blocks if kind == "yaml"]
    for yaml_text in lone_yaml:
        report = Report()
        assert read_yaml(yaml_text, "doc.yaml", report) is not None, [d.format() for d in report]
