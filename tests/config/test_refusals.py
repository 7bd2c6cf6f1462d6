"""`aigw lint` warns where an API's backend will refuse some of its operations: an
OpenAI-style API served only by Anthropic backends refuses legacy completions and embeddings
at run time; an API that crosses only where the gateway translates gets no warning."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main

GATEWAY = """
backends:
  claude: {url: "https://api.anthropic.com", provider: anthropic}
  gpt: {url: "https://api.openai.com/v1", provider: openai}
  claudes:
    pool: {services: [claude, {backend: claude}]}
  mixed:
    pool: {services: [claude, gpt]}
apis:
  chat: {path: chat, style: openai, backend: claudes}
  messages: {path: messages, style: anthropic, backend: gpt}
  either: {path: either, style: openai, backend: mixed}
  plain: {path: plain, style: openai, backend: gpt}
"""


def test_an_api_whose_backend_refuses_operations_is_warned_of(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "gateway.yaml").write_text(GATEWAY)
    code = main(["lint", "--format", "json", str(tmp_path)])
    diagnostics = json.loads(capsys.readouterr().out)
    assert code == 0
    warned = [d for d in diagnostics if d["rule"] == "refused-operation"]
    assert [(d["severity"], d["line"]) for d in warned] == [("warning", 10)]
    message = warned[0]["message"]
    assert "API 'chat'" in message and "'claudes'" in message
    for operation in ("Completions_Create", "embeddings_create"):
        assert operation in message
    for translated in ("ChatCompletions_Create", "Models_List", "Responses_Create"):
        assert translated not in message
