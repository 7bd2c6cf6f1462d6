"""`aigw` as a user runs it: explain, convert, schemas, run; exit codes and messages."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.schemas import render_schema_files
from tests.conftest import REPO

MakeDir = Callable[[dict[str, str]], Path]

GATEWAY = """
backends:
  east: {url: "https://east.example.com/openai", provider: azure-openai}
apis:
  chat: {path: openai, style: azure-openai, backend: east}
products:
  gold: {apis: [chat]}
"""


def test_explain_annotates_each_statement_with_its_origin(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir(
        {
            "gateway.yaml": GATEWAY,
            "global.xml": '<policies>\n<inbound>\n<set-variable name="g" value="1" />\n</inbound>\n'
            "<backend>\n<forward-request />\n</backend>\n</policies>",
            "products/gold.xml": '<policies>\n<inbound>\n<base />\n<set-variable name="p" value="1" />\n'
            "</inbound>\n</policies>",
            "apis/chat.xml": '<policies>\n<inbound>\n<set-variable name="a" value="1" />\n<base />\n'
            "</inbound>\n</policies>",
            "apis/chat/ChatCompletions_Create.xml": "<policies>\n<inbound>\n<base />\n"
            '<include-fragment fragment-id="f" />\n</inbound>\n</policies>',
            "fragments/f.xml": '<fragment>\n<set-variable name="f" value="1" />\n</fragment>',
        }
    )
    code = main(
        [
            "explain",
            str(root),
            "--api",
            "chat",
            "--operation",
            "ChatCompletions_Create",
            "--product",
            "gold",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert (
        "operation: ChatCompletions_Create (POST /deployments/{deployment-id}/chat/completions)"
        in out
    )
    order = [line.strip() for line in out.splitlines() if "<set-variable" in line]
    assert order == [
        '<set-variable name="a" value="1" />  <!-- apis/chat.xml:3 -->',
        '<set-variable name="g" value="1" />  <!-- global.xml:3 -->',
        '<set-variable name="p" value="1" />  <!-- products/gold.xml:4 -->',
        '<set-variable name="f" value="1" />  <!-- fragments/f.xml:2 -->',
    ]
    assert "<forward-request />  <!-- global.xml:6 -->" in out


def test_explain_without_product_skips_product_policies(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir(
        {
            "gateway.yaml": GATEWAY,
            "products/gold.xml": '<policies><inbound><set-variable name="p" value="1" /></inbound></policies>',
        }
    )
    assert main(["explain", str(root), "--api", "chat", "--operation", "Models_List"]) == 0
    out = capsys.readouterr().out
    assert 'name="p"' not in out
    assert "<!-- <built-in default global policy>:1 -->" in out


def test_explain_unknown_api_suggests(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir({"gateway.yaml": GATEWAY})
    assert main(["explain", str(root), "--api", "chta"]) == 2
    assert "no API 'chta'; did you mean 'chat'?" in capsys.readouterr().err


def test_convert_round_trip_through_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "p.xml"
    source.write_text(
        '<policies><inbound><set-header name="a" exists-action="override">'
        '<value>@(context.Request.Headers.GetValueOrDefault("x", ""))</value></set-header>'
        "</inbound></policies>"
    )
    assert main(["convert", str(source), "-o", str(tmp_path / "p.yaml")]) == 0
    assert main(["convert", str(tmp_path / "p.yaml")]) == 0
    xml = capsys.readouterr().out
    assert '<value>@(context.Request.Headers.GetValueOrDefault("x", ""))</value>' in xml


def test_convert_reports_bad_input_as_diagnostics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "bad.xml"
    source.write_text("<policies>\n<inbound>\n</policies>")
    assert main(["convert", str(source)]) == 1
    assert f"{source}:3:" in capsys.readouterr().err


def test_schemas_directory_is_up_to_date() -> None:
    for name, text in render_schema_files().items():
        path = REPO / "schemas" / name
        assert path.is_file(), f"schemas/{name} missing: run 'aigw schemas'"
        assert path.read_text(encoding="utf-8") == text, (
            f"schemas/{name} is stale: run 'aigw schemas'"
        )


def test_schemas_check_fails_when_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schemas", str(tmp_path)]) == 0
    assert main(["schemas", "--check", str(tmp_path)]) == 0
    (tmp_path / "policy.xsd").write_text("<stale/>")
    assert main(["schemas", "--check", str(tmp_path)]) == 1
    assert "policy.xsd: stale" in capsys.readouterr().out


def test_run_refuses_a_directory_with_statements_it_cannot_run_yet(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir(
        {
            "gateway.yaml": GATEWAY,
            "apis/chat.xml": '<policies><outbound><jsonp callback-parameter-name="cb" />'
            "</outbound></policies>",
        }
    )
    code = main(["run", str(root)])
    err = capsys.readouterr().err
    assert code == 1
    assert "<jsonp> is valid APIM policy, but this gateway release cannot run it" in err


def test_console_script_is_installed_and_never_prints_a_traceback(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "lint", str(tmp_path / "missing.xml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr + completed.stdout
    assert "no such file or directory" in completed.stdout


def test_prices_prints_the_table_in_use_with_gateway_yaml_rows_over_the_shipped(
    tmp_path: Path,
) -> None:
    (tmp_path / "gateway.yaml").write_text(
        GATEWAY
        + "limits: {unpriced-models: dearest}\n"
        + "pricing:\n"
        + "  - {provider: azure-openai, model: gpt-4o, input: 9, output: 99, date: 2026-12-01}\n"
        + "  - {provider: azure-openai, model: my-deployment, input: 1.5, output: 6}\n"
    )
    aigw = [sys.executable, "-m", "gateway.cli", "prices"]
    text = subprocess.run([*aigw, str(tmp_path)], capture_output=True, text=True, cwd=REPO)
    assert text.returncode == 0, text.stderr
    lines = {tuple(line.split()[:2]): line.split() for line in text.stdout.splitlines() if line}
    assert lines["provider", "model"][-2:] == ["date", "from"]
    assert lines["azure-openai", "gpt-4o"][2] == "9.0"
    assert lines["azure-openai", "gpt-4o"][-2:] == ["2026-12-01", "gateway.yaml"]
    assert lines["azure-openai", "my-deployment"][-1] == "gateway.yaml"
    assert lines["anthropic", "claude-opus-4-5"][-1] == "shipped"
    assert "limits.unpriced-models: dearest" in text.stdout

    found = subprocess.run([*aigw, str(tmp_path), "--json"], capture_output=True, cwd=REPO)
    table = json.loads(found.stdout)
    assert table["unpriced_models"] == "dearest"
    rows = {(row["provider"], row["model"]): row for row in table["prices"]}
    assert rows["azure-openai", "gpt-4o"]["input"] == 9.0
    assert rows["openai", "gpt-4o"]["cached_input"] == 1.25
    assert rows["openai", "gpt-4o"]["source"].startswith("https://")
    assert {row["provider"] for row in table["prices"]} >= {"openai", "xai", "cerebras"}


def test_prices_reports_a_broken_gateway_yaml(tmp_path: Path) -> None:
    (tmp_path / "gateway.yaml").write_text(
        "apis: {chat: {path: x}}\nlimits: {unpriced-models: maybe}\n"
    )
    found = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "prices", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert found.returncode == 1
    assert "unpriced-models" in found.stderr and "Traceback" not in found.stderr
