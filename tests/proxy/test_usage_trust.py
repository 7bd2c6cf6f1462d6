"""A provider's usage is believed only when it is a figure a provider sends: a lying upstream
(tests/fakes/hostile.py) cannot credit llm-token-limit's counter, in memory or in Redis,
whatever API shape it answers in, whole or streamed."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, clear_of_window_edge, require_redis
from tests.proxy.processes import fake_provider, free_port, serving

LIMIT = 1000
POLICY = f"""<policies><inbound><base />
    <llm-token-limit counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-key&quot;, &quot;&quot;))"
        tokens-per-minute="{LIMIT}" estimate-prompt-tokens="true" remaining-tokens-header-name="x-left" />
</inbound></policies>"""
# A prompt long enough that the gateway's own count of it is no small number a lie could hit.
PROMPT = "Tell me, in as many words as you like, about the salt and the pepper. " * 4
# What a lying provider reports in place of every figure of its usage.
LIES = ["-1000000", '"12"', "1e30", "3.5"]
# How each API shape is asked: path under the gateway, body.
SHAPES = {
    "chat": ("llm/chat/completions", {"model": "m", "messages": [{"role": "user", "content": PROMPT}]}),
    "messages": (
        "claude/v1/messages",
        {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": PROMPT}]},
    ),
    "responses": ("llm/responses", {"model": "m", "input": PROMPT}),
}  # fmt: skip


@pytest.fixture(params=["memory", "redis"])
def gateway(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    stores = ""
    if request.param == "redis":
        require_redis()
        stores = f'stores: {{default: "{REDIS_URL}"}}\n'
    port = free_port()
    hostile = f"http://127.0.0.1:{port}/hostile"
    (tmp_path / "gateway.yaml").write_text(
        f"""{stores}
backends:
  liar: {{url: "{hostile}/v1"}}
  claude-liar: {{url: "{hostile}", provider: anthropic}}
apis:
  llm: {{path: llm, style: openai, backend: liar, subscription-required: false}}
  claude: {{path: claude, style: anthropic, backend: claude-liar, subscription-required: false}}
"""
    )
    (tmp_path / "apis").mkdir()
    for api in ("llm", "claude"):
        (tmp_path / "apis" / f"{api}.xml").write_text(POLICY)
    with fake_provider(port), serving(tmp_path, os.environ) as url:
        yield url


def call(gateway: str, shape: str, key: str, usage: str, stream: bool = False) -> httpx.Response:
    path, body = SHAPES[shape]
    headers = {"x-key": key, "x-fake-usage": usage, "x-fake-bytes": "1"}  # a short stream
    answer = httpx.post(
        f"{gateway}/{path}", json={**body, "stream": stream}, headers=headers, timeout=30
    )
    assert answer.status_code in (200, 429), answer.text
    return answer


def left_after(gateway: str, shape: str, usage: str, stream: bool) -> int:
    """Tokens left under a fresh counter once a call reported `usage`: read from the header
    of an honest whole call after it (which reports 12 tokens, and says what is left then)."""
    key = uuid.uuid4().hex
    call(gateway, shape, key, usage, stream)
    probe = call(gateway, "chat", key, "none")  # charged at the gateway's own count: known
    return int(probe.headers["x-left"])


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
@pytest.mark.parametrize("shape", SHAPES)
def test_a_lying_usage_report_does_not_credit_the_token_counter(
    gateway: str, shape: str, stream: bool
) -> None:
    clear_of_window_edge()
    # A call without usage is counted at the gateway's own count: the yardstick.
    counted = left_after(gateway, shape, "none", stream)
    assert 0 < counted < LIMIT - 20
    for lie in LIES:
        # Negative, a string, a float beyond any count, a fraction: each is no report at all.
        assert left_after(gateway, shape, lie, stream) == counted, lie


def test_a_token_limit_still_refuses_an_upstream_reporting_negative_usage(gateway: str) -> None:
    clear_of_window_edge()
    key = uuid.uuid4().hex
    statuses = [call(gateway, "chat", key, "-1000000").status_code for _ in range(40)]
    assert 429 in statuses  # the prompt's own count used the limit up, as it does honestly
