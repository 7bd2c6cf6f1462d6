"""The docs' example directories are real: they lint, and docs/serving.md's serves as told."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import httpx
import pytest

from gateway.cli import main
from tests.conftest import REPO
from tests.proxy.processes import serving

FILE_BLOCK = re.compile(r"```(?:xml|yaml) title=(\S+)\n(.*?)```", re.DOTALL)


def build(root: Path, page: str = "serving.md") -> Path:
    blocks = FILE_BLOCK.findall((REPO / "docs" / page).read_text(encoding="utf-8"))
    assert {name for name, _ in blocks} >= {"gateway.yaml", "apis/chat.xml"}
    for name, text in blocks:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_the_documented_directory_lints_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MODERATION_KEY", raising=False)
    code = main(["lint", "--format", "json", str(build(tmp_path))])
    diagnostics = json.loads(capsys.readouterr().out)
    assert code == 0, diagnostics
    # The one warning the page promises: the moderation key is not set here.
    yaml_lines = (tmp_path / "gateway.yaml").read_text(encoding="utf-8").splitlines()
    line = next(n for n, text in enumerate(yaml_lines, 1) if "${env:MODERATION_KEY}" in text)
    assert [(d["rule"], d["line"]) for d in diagnostics] == [("unset-secret", line)]


def test_the_documented_directory_serves(tmp_path: Path) -> None:
    env = {**os.environ, "MODERATION_KEY": "m", "WEB_APP_KEY": "k", "AOAI_TOKEN": "t"}
    with serving(build(tmp_path), env) as url:
        item = httpx.get(f"{url}/catalog/items/7")
        assert (item.status_code, item.json()) == (200, {"id": 1, "name": "lamp"})
        preflight = httpx.options(
            f"{url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "api-key, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://app.example.com"
        big = httpx.post(
            f"{url}/openai/deployments/gpt-4o/chat/completions",
            content=b"x" * 1_048_577,
            headers={"api-key": "k"},
        )
        assert big.status_code == 413


def test_the_limits_page_lints_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AIGW_REDIS_URL", "AOAI_KEY", "TEAM_A_KEY"):
        monkeypatch.setenv(name, "memory" if name == "AIGW_REDIS_URL" else "set")
    code = main(["lint", "--format", "json", str(build(tmp_path, "limits.md"))])
    diagnostics = json.loads(capsys.readouterr().out)
    assert (code, diagnostics) == (0, [])


def test_the_caching_page_lints_and_serves_cached_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import openai

    from tests.proxy.processes import fake_provider, free_port

    provider_port = free_port()
    monkeypatch.setenv("OPENAI_URL", f"http://127.0.0.1:{provider_port}/v1")
    monkeypatch.setenv("OPENAI_KEY", "k")
    root = build(tmp_path, "caching.md")
    code = main(["lint", "--format", "json", str(root)])
    assert (code, json.loads(capsys.readouterr().out)) == (0, [])
    with fake_provider(provider_port), serving(root, os.environ) as url:
        client = openai.OpenAI(base_url=f"{url}/chat", api_key="-", max_retries=0)
        asked = [{"role": "user", "content": "How do I reset my password?"}]
        first = client.chat.completions.create(model="gpt-4o", messages=asked)
        asked = [{"role": "user", "content": "How can I reset my password?"}]
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=asked)
    assert raw.headers["x-aigw-cache"] == "hit"
    assert raw.parse().choices[0].message.content == first.choices[0].message.content


def test_the_resilience_page_lints_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("EAST_KEY", "WEST_KEY", "SPARE_KEY"):
        monkeypatch.setenv(name, "set")
    code = main(["lint", "--format", "json", str(build(tmp_path, "resilience.md"))])
    assert (code, json.loads(capsys.readouterr().out)) == (0, [])


def test_the_content_safety_page_lints_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CONTENT_SAFETY_KEY", "OPENAI_API_KEY"):
        monkeypatch.setenv(name, "set")
    code = main(["lint", "--format", "json", str(build(tmp_path, "content-safety.md"))])
    assert (code, json.loads(capsys.readouterr().out)) == (0, [])
