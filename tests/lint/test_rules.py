"""Every lint rule, at its exact line and column, through `aigw lint` as a user runs it."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.cli import main

MakeDir = Callable[[dict[str, str]], Path]

GATEWAY = """
backends:
  east: {url: "https://east.example.com/openai", provider: azure-openai}
apis:
  chat:
    path: openai
    style: azure-openai
    backend: east
products:
  gold: {apis: [chat]}
named-values:
  tenant: contoso
"""


def lint_json(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, list[dict]]:
    code = main(["lint", "--format", "json", *map(str, paths)])
    return code, json.loads(capsys.readouterr().out)


def lone(tmp_path: Path, text: str, name: str = "policy.xml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def find(diagnostics: list[dict], rule: str) -> dict:
    matches = [d for d in diagnostics if d["rule"] == rule]
    assert matches, f"no {rule} in {diagnostics}"
    return matches[0]


def at(diagnostic: dict) -> tuple[int, int]:
    return diagnostic["line"], diagnostic["column"]


CASES = [
    (
        "unknown-statement",
        """
        <policies>
            <inbound>
                <set-headr name="a" exists-action="override" />
            </inbound>
        </policies>
        """,
        (3, 9),
        "did you mean <set-header>?",
    ),
    (
        "wrong-section",
        """
        <policies>
            <outbound>
                <rate-limit-by-key calls="1" renewal-period="60" counter-key="k" />
            </outbound>
        </policies>
        """,
        (3, 9),
        "inbound",
    ),
    (
        "unknown-attribute",
        """
        <policies>
            <inbound>
                <set-variable name="a" valeu="1" />
            </inbound>
        </policies>
        """,
        (3, 32),
        "did you mean 'value'?",
    ),
    (
        "duplicate-attribute",
        """
        <policies>
            <inbound>
                <set-variable name="a" value="1" name="b" />
            </inbound>
        </policies>
        """,
        (3, 42),
        "keep one",
    ),
    (
        "missing-attribute",
        """
        <policies>
            <inbound>
                <set-variable value="1" />
            </inbound>
        </policies>
        """,
        (3, 9),
        "'name'",
    ),
    (
        "invalid-value",
        """
        <policies>
            <inbound>
                <set-header name="a" exists-action="replace" />
            </inbound>
        </policies>
        """,
        (3, 45),
        "override",
    ),
    (
        "expression-syntax",
        """
        <policies>
            <inbound>
                <set-variable name="a" value="@(context.Request.Headers.GetValueOrDefault("x",, ""))" />
            </inbound>
        </policies>
        """,
        (3, 87),
        "",
    ),
    (
        "xml-syntax",
        """
        <policies>
            <inbound>
                <set-variable name="a" value="1">
            </inbound>
        </policies>
        """,
        (4, 15),
        "close elements in the reverse order",
    ),
    (
        "base-misuse",
        """
        <policies>
            <inbound>
                <base />
                <choose>
                    <when condition="@(true)">
                        <base />
                    </when>
                </choose>
            </inbound>
        </policies>
        """,
        (6, 17),
        "",
    ),
    (
        "duplicate-statement",
        """
        <policies>
            <backend>
                <forward-request />
                <forward-request timeout="10" />
            </backend>
        </policies>
        """,
        (4, 9),
        "only once",
    ),
    (
        "unknown-section",
        """
        <policies>
            <inboud />
        </policies>
        """,
        (2, 5),
        "did you mean <inbound>?",
    ),
]


@pytest.mark.parametrize(("rule", "text", "position", "advice"), CASES, ids=[c[0] for c in CASES])
def test_rule_is_reported_at_its_position(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rule: str,
    text: str,
    position: tuple[int, int],
    advice: str,
) -> None:
    code, diagnostics = lint_json(capsys, lone(tmp_path, text))
    assert code == 1
    found = find(diagnostics, rule)
    assert found["severity"] == "error"
    assert at(found) == position, found
    assert advice in found["message"]


def test_text_format_is_path_line_col_severity_message_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = lone(
        tmp_path, "<policies>\n    <inbound>\n        <set-headr />\n    </inbound>\n</policies>\n"
    )
    assert main(["lint", str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{path}:3:9: error: <set-headr> is not a known policy")
    assert out[0].endswith("[unknown-statement]")


def test_clean_file_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = lone(
        tmp_path,
        """
        <policies>
            <inbound>
                <set-variable name="a" value="@(context.Request.Method)" />
            </inbound>
        </policies>
        """,
    )
    code, diagnostics = lint_json(capsys, path)
    assert code == 0
    assert all(d["severity"] == "warning" for d in diagnostics)


def test_lone_file_references_are_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = lone(
        tmp_path,
        """
        <policies>
            <inbound>
                <set-backend-service backend-id="east" />
                <include-fragment fragment-id="common" />
                <set-variable name="t" value="{{tenant}}" />
            </inbound>
        </policies>
        """,
    )
    code, diagnostics = lint_json(capsys, path)
    assert code == 0
    unchecked = [d for d in diagnostics if d["rule"] == "unchecked-reference"]
    assert [at(d) for d in unchecked] == [(3, 42), (4, 40), (5, 39)]
    assert all(d["severity"] == "warning" for d in unchecked)


def test_directory_references_are_errors(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir(
        {
            "gateway.yaml": GATEWAY,
            "apis/chat.xml": """
                <policies>
                    <inbound>
                        <base />
                        <set-backend-service backend-id="esat" />
                        <include-fragment fragment-id="common" />
                        <set-variable name="t" value="{{tenat}}" />
                    </inbound>
                </policies>
            """,
        }
    )
    code, diagnostics = lint_json(capsys, root)
    assert code == 1
    dangling = [d for d in diagnostics if d["rule"] == "unknown-reference"]
    assert [at(d) for d in dangling] == [(4, 42), (5, 40), (6, 39)]
    assert "did you mean 'east'?" in dangling[0]["message"]
    assert "fragments/common.xml" in dangling[1]["message"]
    assert "did you mean 'tenant'?" in dangling[2]["message"]


def test_scope_files_must_match_gateway_yaml(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir(
        {
            "gateway.yaml": GATEWAY,
            "apis/chta.xml": "<policies />",
            "apis/chat/ChatCompletion_Create.xml": "<policies />",
            "products/silver.xml": "<policies />",
        }
    )
    code, diagnostics = lint_json(capsys, root)
    assert code == 1
    messages = sorted(d["message"] for d in diagnostics if d["rule"] == "unknown-reference")
    assert len(messages) == 3
    assert any("no operation 'ChatCompletion_Create'" in m for m in messages)
    assert any("no API 'chta'" in m for m in messages)
    assert any("no product 'silver'" in m for m in messages)


def test_wrong_scope(make_dir: MakeDir, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_dir(
        {
            "gateway.yaml": GATEWAY,
            "global.xml": """
                <policies>
                    <inbound>
                        <quota calls="10" renewal-period="60" />
                    </inbound>
                </policies>
            """,
        }
    )
    code, diagnostics = lint_json(capsys, root)
    assert code == 1
    assert at(find(diagnostics, "wrong-scope")) == (3, 9)


def test_base_at_global_scope_is_a_warning(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir(
        {
            "gateway.yaml": GATEWAY,
            "global.xml": "<policies>\n<inbound>\n<base />\n</inbound>\n</policies>",
        }
    )
    code, diagnostics = lint_json(capsys, root)
    base = find(diagnostics, "base-misuse")
    assert base["severity"] == "warning" and at(base) == (3, 1)
    assert code == 0


def test_once_per_document_across_scopes(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir(
        {
            "gateway.yaml": GATEWAY,
            "global.xml": "<policies>\n<backend>\n<forward-request />\n</backend>\n</policies>",
            "apis/chat.xml": "<policies>\n<backend>\n<base />\n<forward-request />\n</backend>\n</policies>",
        }
    )
    code, diagnostics = lint_json(capsys, root)
    assert code == 1
    duplicate = find(diagnostics, "duplicate-statement")
    assert duplicate["path"].endswith("chat.xml") and at(duplicate) == (4, 1)


def test_lint_of_one_file_in_a_directory_uses_the_directory(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir(
        {
            "gateway.yaml": GATEWAY,
            "apis/chat.xml": '<policies>\n<inbound>\n<set-backend-service backend-id="east" />\n</inbound>\n</policies>',
            "global.xml": "<policies>\n<inbound>\n<set-headr />\n</inbound>\n</policies>",
        }
    )
    code, diagnostics = lint_json(capsys, root / "apis" / "chat.xml")
    assert code == 0
    assert not [d for d in diagnostics if d["rule"] == "unchecked-reference"]
    assert all(d["path"].endswith("chat.xml") for d in diagnostics)


def test_missing_path_and_internal_failures_never_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, diagnostics = lint_json(capsys, tmp_path / "nope.xml")
    assert code == 1
    assert diagnostics[0]["rule"] == "no-such-file"
    binary = tmp_path / "binary.xml"
    binary.write_bytes(b"\xff\xfe\x00<policies>")
    code, diagnostics = lint_json(capsys, binary)
    assert code == 1
    assert diagnostics[0]["rule"] == "unreadable-file"


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        ('Regex.IsMatch(context.Request.Headers.GetValueOrDefault("x", ""), "^(a+)+$")', "^(a+)+$"),
        ('new Regex("(.*a){12}").IsMatch(context.Request.Url.Path)', "(.*a){12}"),
        ('System.Text.RegularExpressions.Regex.Replace("a", "(a|a)+", "b")', "(a|a)+"),
    ],
)
def test_a_catastrophically_backtracking_literal_pattern_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], call: str, pattern: str
) -> None:
    text = f"""
        <policies>
            <inbound>
                <set-variable name="a" value='@({call})' />
            </inbound>
        </policies>
        """
    code, diagnostics = lint_json(capsys, lone(tmp_path, text))
    assert code == 0
    found = find(diagnostics, "regex-backtracking")
    assert found["severity"] == "warning"
    column = len('        <set-variable name="a" value=\'@(') + call.index(f'"{pattern}"') + 1
    assert at(found) == (3, column), found
    assert "repeats" in found["message"] and "time limit" in found["message"]


def test_a_linear_literal_pattern_is_not_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call = 'Regex.IsMatch(context.Request.Url.Path, "^/items/(\\\\d+,)*\\\\d+$")'
    text = f"<policies><inbound><set-variable name=\"a\" value='@({call})' /></inbound></policies>"
    code, diagnostics = lint_json(capsys, lone(tmp_path, text))
    assert (code, diagnostics) == (0, [])
