"""`aigw lint` warns where an llm-cost-limit or a `cheapest` pool can meet a model with no price
(and stays quiet where every model it can see is priced)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.cli import main

MakeDir = Callable[[dict[str, str]], Path]

GATEWAY = """
backends:
  east: {url: "https://east.example.com/openai", provider: azure-openai,
         models: {gpt-4o: gpt-4o, custom: my-finetune}}
  local: {url: "http://127.0.0.1:11434/v1", provider: openai-compatible}
  claude: {url: "https://api.anthropic.com", provider: anthropic}
  cheap: {pool: {strategy: cheapest, services: [east, claude]}}
apis:
  chat: {path: openai, style: azure-openai, backend: east}
  local: {path: local, style: openai, backend: claude}
  priced: {path: priced, style: anthropic, backend: claude}
"""
LIMIT = """
<policies>
    <inbound>
        <llm-cost-limit counter-key="all" dollars-per-minute="1" />
    </inbound>
</policies>
"""
SWITCH = """
<policies>
    <inbound>
        <set-backend-service backend-id="local" />
        <llm-cost-limit counter-key="all" dollars-per-minute="1" />
    </inbound>
</policies>
"""


def unpriced(capsys: pytest.CaptureFixture[str], root: Path) -> list[dict]:
    main(["lint", "--format", "json", str(root)])
    return [d for d in json.loads(capsys.readouterr().out) if d["rule"] == "unpriced-model"]


def test_a_cost_limit_meeting_an_unpriced_model_is_warned_about_where_it_is_written(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir(
        {
            "gateway.yaml": GATEWAY,
            "apis/chat.xml": LIMIT,
            "apis/local.xml": SWITCH,
            "apis/priced.xml": LIMIT,
        }
    )
    found = unpriced(capsys, root)
    by_file = {Path(d["path"]).name: d for d in found if d["path"].endswith(".xml")}
    assert set(by_file) == {"chat.xml", "local.xml"}  # claude's models are all priced
    chat = by_file["chat.xml"]
    assert (chat["severity"], chat["line"]) == ("warning", 3)
    assert "backend 'east' serves 'custom' (as 'my-finetune')" in chat["message"]
    assert "azure-openai price" in chat["message"]
    assert "refused with 403 (limits.unpriced-models: refuse)" in chat["message"]
    local = by_file["local.xml"]["message"]
    assert "backend 'local' (openai-compatible) has no prices" in local
    assert "known only at run time" in local


def test_a_cheapest_pool_with_an_unpriced_member_model_is_warned_about(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_dir({"gateway.yaml": GATEWAY})
    (pool,) = unpriced(capsys, root)
    assert pool["path"].endswith("gateway.yaml")
    assert pool["message"].startswith("cheapest pool 'cheap': backend 'east' serves 'custom'")


def test_pricing_rows_and_the_unpriced_mode_change_the_warnings(
    make_dir: MakeDir, capsys: pytest.CaptureFixture[str]
) -> None:
    priced = GATEWAY + (
        "limits: {unpriced-models: allow}\n"
        "pricing:\n"
        "  - {provider: azure-openai, model: my-finetune, input: 1, output: 2}\n"
    )
    root = make_dir({"gateway.yaml": priced, "apis/chat.xml": LIMIT, "apis/local.xml": SWITCH})
    (left,) = unpriced(capsys, root)
    assert left["path"].endswith("local.xml")
    assert "pass the limit uncounted (limits.unpriced-models: allow)" in left["message"]
