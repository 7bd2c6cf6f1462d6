"""The registry knows every statement the APIM reference names, with sane declarations."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
from pathlib import Path

import pytest
from lxml import etree

from gateway import statements
from gateway.common.diagnostics import Location, Report
from gateway.policy.spec import ChildSpec, Kind, StatementSpec
from gateway.policy.tree import Attribute, Node, Value
from gateway.schemas import policy_json_schema, policy_xsd
from gateway.statements import default_registry
from tests.conftest import REPO

# The statement names of APIM's policy reference, kept in the repository (see the file's header).
REFERENCE_NAMES = REPO / "tests" / "data" / "apim_statement_names.txt"


def reference_statement_names() -> set[str]:
    """The names in the list, without its comment lines and blank lines."""
    lines = REFERENCE_NAMES.read_text(encoding="utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def test_every_statement_the_reference_names_is_registered() -> None:
    registry = default_registry()
    names = reference_statement_names()
    assert len(names) > 40
    missing = sorted(n for n in names if registry.get(n) is None)
    assert missing == []


def test_every_module_of_the_package_is_a_statement() -> None:
    names = [m.name for m in pkgutil.iter_modules(statements.__path__) if not m.ispkg]
    assert len(names) == len(default_registry().specs())
    without = [
        name
        for name in names
        if not isinstance(
            getattr(importlib.import_module(f"gateway.statements.{name}"), "SPEC", None),
            StatementSpec,
        )
    ]
    assert without == [], "a statement module declares a SPEC; helpers go in statements/support"


def test_a_module_without_a_spec_stops_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "stray_helper.py").write_text("HELPER = 1\n", encoding="utf-8")
    monkeypatch.setattr(statements, "__path__", [*statements.__path__, str(tmp_path)])
    try:
        with pytest.raises(TypeError) as stopped:
            default_registry.__wrapped__()
    finally:
        sys.modules.pop("gateway.statements.stray_helper", None)
    message = str(stopped.value)
    assert "gateway.statements.stray_helper declares no SPEC" in message
    assert "gateway/statements/support/" in message


def test_aliases_share_one_declaration_and_suggestions_work() -> None:
    registry = default_registry()
    assert registry.get("azure-openai-token-limit") is registry.get("llm-token-limit")
    assert registry.suggest("set-headr") == "set-header"
    assert registry.suggest("xyzzy-plugh") is None


def walk_children(children: tuple[ChildSpec, ...]) -> list[ChildSpec]:
    found = []
    for child in children:
        found.append(child)
        found.extend(walk_children(child.children))
    return found


def test_declarations_are_consistent() -> None:
    for spec in default_registry().specs():
        owners = [spec, *walk_children(spec.children)]
        for owner in owners:
            for attribute in owner.attributes:
                assert attribute.name not in ("text", "children"), (spec.name, attribute.name)
                if attribute.kind is Kind.ENUM:
                    assert attribute.choices, (spec.name, attribute.name)
                    assert attribute.default is None or attribute.default in attribute.choices
        assert spec.sections, spec.name
        assert spec.summary.endswith("."), spec.name


def node(tag: str, **attributes: str) -> Node:
    where = Location("t.xml", 1, 1)
    element = Node(tag, where)
    for name, value in attributes.items():
        name = name.replace("_", "-")
        element.attributes[name] = Attribute(name, Value(value, where), where)
    return element


CHECKS = [
    ("set-backend-service", {}, {"backend_id": "b"}),
    (
        "set-backend-service",
        {"backend_id": "b", "base_url": "https://x"},
        {"base_url": "https://x"},
    ),
    ("llm-token-limit", {"counter_key": "k"}, {"counter_key": "k", "tokens_per_minute": "5"}),
    ("llm-token-limit", {"token_quota": "5"}, {"token_quota": "5", "token_quota_period": "Daily"}),
    ("quota", {"renewal_period": "60"}, {"renewal_period": "60", "calls": "5"}),
    ("validate-jwt", {}, {"header_name": "Authorization"}),
    ("forward-request", {"timeout": "1", "timeout_ms": "1"}, {"timeout": "1"}),
    ("set-variable", {"name": "a"}, {"name": "a", "value": "1"}),
    ("cache-lookup-value", {"variable_name": "v"}, {"variable_name": "v", "key": "k"}),
    ("authentication-certificate", {}, {"thumbprint": "t"}),
]


@pytest.mark.parametrize(("tag", "bad", "good"), CHECKS, ids=[c[0] for c in CHECKS])
def test_check_hooks_report_bad_nodes_only(
    tag: str, bad: dict[str, str], good: dict[str, str]
) -> None:
    spec = default_registry().get(tag)
    assert spec is not None and spec.check is not None
    bad_report, good_report = Report(), Report()
    spec.check(node(tag, **bad), bad_report)
    spec.check(node(tag, **good), good_report)
    assert bad_report.has_errors
    assert not good_report.has_errors, [d.format() for d in good_report]


def test_generated_schemas_are_valid() -> None:
    schema = etree.XMLSchema(etree.fromstring(policy_xsd().encode()))
    sample = b'<policies><inbound><base /><set-header name="a" exists-action="override"><value>1</value></set-header></inbound></policies>'
    assert schema.validate(etree.fromstring(sample)), schema.error_log
    bad = b"<policies><inbound><set-headr /></inbound></policies>"
    assert not schema.validate(etree.fromstring(bad))
    jsonschema = __import__("jsonschema")
    policy_schema = policy_json_schema()
    jsonschema.Draft202012Validator.check_schema(policy_schema)
    validator = jsonschema.Draft202012Validator(policy_schema)
    document = {"policies": {"inbound": ["base", {"set-variable": {"name": "a", "value": "1"}}]}}
    assert list(validator.iter_errors(document)) == []
    assert list(validator.iter_errors({"policies": {"inbound": [{"set-variable": {"nme": "a"}}]}}))
    json.dumps(policy_schema)
