"""Token and cost limits under concurrent load on two gateway processes sharing Redis.

APIM's accounting counts a call when its answer arrives, so calls already in flight when the
limit is reached get through: the overshoot is bounded by them. reserve-and-settle reserves
each call's prompt and output cap (or their most possible cost) first, so what is admitted
never passes the limit.
"""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, clear_of_window_edge, require_redis
from tests.proxy.processes import fake_provider, free_port, serving

LIMIT = 120  # tokens per minute
PER_CALL = 12  # the fake provider's usage: 5 prompt + 7 completion
CALLS = 48
CONCURRENCY = 16
TOKEN_LIMIT = f"""<llm-token-limit counter-key="KEY" tokens-per-minute="{LIMIT}"
    estimate-prompt-tokens="false" />"""
# $1,000 per million tokens: each call costs $0.012, so $0.12 a minute is LIMIT tokens.
COST_LIMIT = """<llm-cost-limit counter-key="KEY" dollars-per-minute="0.12" />"""


def admitted_tokens(tmp_path: Path, mode: str, statement: str) -> int:
    key = f"overshoot-{uuid.uuid4().hex}"
    provider_port = free_port()
    (tmp_path / "gateway.yaml").write_text(
        f"""
stores: {{default: "{REDIS_URL}"}}
limits: {{token-limit-mode: {mode}}}
backends:
  fake: {{url: "http://127.0.0.1:{provider_port}/v1"}}
apis:
  llm: {{path: llm, style: openai, backend: fake, subscription-required: false}}
pricing:
  - {{provider: openai-compatible, model: slow, input: 1000, output: 1000}}
"""
    )
    (tmp_path / "apis").mkdir(exist_ok=True)
    (tmp_path / "apis" / "llm.xml").write_text(
        f"""<policies><inbound><base />{statement.replace("KEY", key)}</inbound></policies>"""
    )
    body = {"model": "slow", "max_tokens": 7, "messages": [{"role": "user", "content": "hi"}]}
    with (
        fake_provider(provider_port),
        serving(tmp_path, os.environ) as first,
        serving(tmp_path, os.environ) as second,
    ):
        urls = [f"{base}/llm/chat/completions" for base in (first, second)] * (CALLS // 2)
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            statuses = list(pool.map(lambda url: httpx.post(url, json=body).status_code, urls))
    assert set(statuses) <= {200, 429}
    return statuses.count(200) * PER_CALL


@pytest.mark.parametrize("mode", ["apim", "reserve-and-settle"])
@pytest.mark.parametrize("statement", [TOKEN_LIMIT, COST_LIMIT], ids=["tokens", "cost"])
def test_overshoot_is_bounded_by_calls_in_flight_and_none_when_reserving(
    tmp_path: Path, mode: str, statement: str
) -> None:
    require_redis()
    clear_of_window_edge()  # the per-minute window must not renew mid-test
    admitted = admitted_tokens(tmp_path, mode, statement)
    overshoot = max(admitted - LIMIT, 0)
    print(
        f"\n{mode} {statement.split()[0]}: {admitted} tokens admitted, limit {LIMIT}: +{overshoot}"
    )
    if mode == "apim":
        assert admitted >= LIMIT  # the limit was reached
        assert overshoot <= CONCURRENCY * PER_CALL  # only calls already in flight got through
    else:
        assert 0 < admitted <= LIMIT  # never past the limit
