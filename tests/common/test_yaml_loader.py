"""YAML aliases are bounded: a "billion laughs" document (nested aliases, some 10^9 nodes from
a few hundred bytes) is refused where it expands, in policy YAML, gateway.yaml and OpenAPI
files alike; anchors for repeated parts still load."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config.openapi import OpenApiError, import_operations

LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""

GATEWAY = """
backends:
  east: &backend {url: "https://east.example.com/v1", provider: openai}
  west: *backend
apis:
  chat: {path: llm, style: openai, backend: east}
"""


def lint(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, list[dict]]:
    code = main(["lint", "--format", "json", str(path)])
    return code, json.loads(capsys.readouterr().out)


def test_a_billion_laughs_policy_yaml_is_refused_where_its_aliases_expand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(LAUGHS + "policies: {inbound: [{set-variable: {name: x, value: *i}}]}\n")
    code, diagnostics = lint(capsys, policy)
    [refused] = diagnostics
    assert code == 1 and refused["rule"] == "yaml-syntax"
    assert (refused["line"], refused["column"]) == (6, 4)  # f: 9^6 nodes, the first over
    assert (
        "billion laughs" in refused["message"] and "write the repeated part" in refused["message"]
    )


def test_a_billion_laughs_gateway_yaml_is_refused_where_its_aliases_expand(
    make_dir: Callable[[dict[str, str]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir({"gateway.yaml": LAUGHS + GATEWAY + "named-values:\n  x: {value: *i}\n"})
    code, diagnostics = lint(capsys, root)
    assert code == 1
    [refused] = [d for d in diagnostics if "billion laughs" in d["message"]]
    assert refused["path"].endswith("gateway.yaml") and refused["line"] > 1


def test_a_billion_laughs_openapi_file_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    example = '{"200": {content: {application/json: {example: *i}}}}'  # mock-response's body
    spec.write_text(LAUGHS + f"paths: {{/x: {{get: {{operationId: x, responses: {example}}}}}}}\n")
    with pytest.raises(OpenApiError, match="billion laughs"):
        import_operations(spec)


def test_an_alias_inside_its_own_anchor_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("policies: &self {inbound: [*self]}\n")
    code, diagnostics = lint(capsys, policy)
    assert code == 1
    assert "refers to a node that contains it" in diagnostics[0]["message"]


def test_anchors_for_repeated_backends_still_load(
    make_dir: Callable[[dict[str, str]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir({"gateway.yaml": GATEWAY})
    code, diagnostics = lint(capsys, root)
    assert (code, [d for d in diagnostics if d["severity"] == "error"]) == (0, [])
