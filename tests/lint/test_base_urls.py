"""`aigw lint` warns where set-backend-service's base-url comes from the request and no
allowlist (gateway.yaml's `set-backend-service.allowed-urls`) limits where it points."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.cli import main

FROM_HEADER = """<policies>
<inbound>
<set-backend-service base-url='@(context.Request.Headers.GetValueOrDefault("x-backend", ""))' />
</inbound>
</policies>"""

GATEWAY = """
backends:
  east: {url: "https://east.example.com/v1", provider: openai}
apis:
  chat: {path: llm, style: openai, backend: east}
"""


def warnings_of(capsys: pytest.CaptureFixture[str], path: Path) -> list[dict]:
    code = main(["lint", "--format", "json", str(path)])
    found = [d for d in json.loads(capsys.readouterr().out) if d["rule"] == "base-url-from-request"]
    assert code == 0  # a warning, not an error: APIM sends such requests too
    return found


def test_a_base_url_from_a_request_header_without_an_allowlist_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = tmp_path / "policy.xml"
    policy.write_text(FROM_HEADER)
    [warning] = warnings_of(capsys, policy)
    assert (warning["severity"], warning["line"]) == ("warning", 3)
    assert "set-backend-service.allowed-urls" in warning["message"]


def test_an_allowlist_or_a_literal_base_url_is_not_warned_about(
    make_dir: Callable[[dict[str, str]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    listed = GATEWAY + "set-backend-service: {allowed-urls: [https://west.example.com/v1]}\n"
    root = make_dir({"gateway.yaml": listed, "global.xml": FROM_HEADER})
    assert warnings_of(capsys, root) == []
    start = FROM_HEADER.index("'@(")
    literal = FROM_HEADER[:start] + '"https://west.example.com/v1" />\n</inbound>\n</policies>'
    root = make_dir({"gateway.yaml": GATEWAY, "global.xml": literal})
    assert warnings_of(capsys, root) == []


def test_a_directory_without_an_allowlist_is_warned_about_once(
    make_dir: Callable[[dict[str, str]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir({"gateway.yaml": GATEWAY, "global.xml": FROM_HEADER})
    [warning] = warnings_of(capsys, root)
    assert warning["path"].endswith("global.xml")
