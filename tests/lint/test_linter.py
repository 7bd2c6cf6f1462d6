"""Inputs that used to crash the linter (exit 2, "please report it") and `aigw run` (a bare
"aigw run: Invalid IPv6 URL", no file or line): each is now a diagnostic at its file, line
and column that says how to fix it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.cli import main
from tests.conftest import REPO
from tests.proxy.processes import free_port

MakeDir = Callable[[dict[str, str]], Path]

GATEWAY = """
backends:
  east: {url: "https://east.example.com/v1", provider: openai}
apis:
  chat: {path: llm, style: openai, backend: east}
"""


def lint(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[int, list[dict]]:
    code = main(["lint", "--format", "json", str(path)])
    return code, json.loads(capsys.readouterr().out)


def diagnosed(capsys: pytest.CaptureFixture[str], path: Path, saying: str = "") -> dict:
    """The first diagnostic of `aigw lint` on `path` whose message says `saying`; the linter
    must not have crashed (exit 2, `internal-error`)."""
    code, diagnostics = lint(capsys, path)
    assert code != 2 and not [d for d in diagnostics if d["rule"] == "internal-error"]
    return next(d for d in diagnostics if saying in d["message"])


@pytest.mark.parametrize(
    ("name", "text", "position"),
    [
        ("policy.xml", '<policies><inbound><set-variable name="x" value="@(&quot;abc\\', (1, 50)),
        ("policy.xml", '<policies><inbound><set-variable name="x" value="@(\'\\', (1, 50)),
        (
            "policy.yaml",
            'policies:\n  inbound:\n    - set-variable: {name: x, value: "@(\\"abc\\\\"}',
            (3, 38),
        ),
    ],
)
def test_a_policy_ending_inside_an_expression_string_after_a_backslash_is_a_diagnostic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, position: tuple
) -> None:
    policy = tmp_path / name
    policy.write_text(text)
    found = diagnosed(capsys, policy)
    assert (found["line"], found["column"]) == position


URLS = [
    ('<set-backend-service base-url="http://[::1" />', "Invalid IPv6 URL"),
    ('<set-backend-service base-url="http://h:99999/v1" />', "Port out of range"),
    ('<set-backend-service base-url="http://h:port/v1" />', "could not be cast"),
    (
        '<send-request response-variable-name="r"><set-url>http://[::1/x</set-url></send-request>',
        "Invalid IPv6 URL",
    ),
]


@pytest.mark.parametrize(("statement", "problem"), URLS)
def test_an_unreadable_url_in_a_policy_is_a_diagnostic_with_how_to_fix_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], statement: str, problem: str
) -> None:
    policy = tmp_path / "policy.xml"
    policy.write_text(f"<policies>\n<inbound>\n{statement}\n</inbound>\n</policies>")
    error = diagnosed(capsys, policy, problem)
    assert error["severity"] == "error" and error["line"] == 3 and error["column"] > 1
    assert "://host[:port]/path" in error["message"]


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ('  west: {url: "http://[::1/v1", provider: openai}\n', "Invalid IPv6 URL"),
        ('  west: {url: "http://h:99999/v1", provider: openai}\n', "Port out of range"),
        ('telemetry: {otlp-endpoint: "http://[::1:4318"}\n', "Invalid IPv6 URL"),
        ('stores: {counters: "redis+cluster://[::1:7000"}\n', "Invalid IPv6 URL"),
        ('stores: {counters: "redis://h:99999"}\n', "Port out of range"),
        ('stores: {counters: "redis+sentinel://h:99999/m"}\n', "host:port"),
        ('ledger: {url: "postgresql://u:secret@[::1/db"}\n', "Invalid IPv6 URL"),
    ],
)
def test_an_unreadable_url_in_gateway_yaml_is_a_diagnostic_with_how_to_fix_it(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str], extra: str, problem: str
) -> None:
    text = GATEWAY.replace("apis:", extra + "apis:") if extra.startswith("  ") else GATEWAY + extra
    error = diagnosed(capsys, make_dir({"gateway.yaml": text}), problem)
    assert (
        error["severity"] == "error"
        and error["path"].endswith("gateway.yaml")
        and error["line"] > 1
    )
    assert "secret" not in error["message"]  # a URL's password is never echoed


def test_aigw_run_refuses_an_unreadable_base_url_at_its_file_line_and_column(
    make_dir: MakeDir,
) -> None:
    policy = '<policies>\n<inbound>\n<set-backend-service base-url="http://[::1" />\n</inbound>\n'
    root = make_dir({"gateway.yaml": GATEWAY, "global.xml": policy + "</policies>"})
    run = [sys.executable, "-m", "gateway.cli", "run", str(root), "--port", str(free_port())]
    done = subprocess.run(run, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"{root / 'global.xml'}:3:" in done.stdout + done.stderr
    assert "Invalid IPv6 URL" in done.stdout + done.stderr
