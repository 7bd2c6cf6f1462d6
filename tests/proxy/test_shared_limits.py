"""Limits through running gateways: replicas sharing Redis, token counts landing in Redis."""

from __future__ import annotations

import contextlib
import os
import shlex
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import REDIS_URL, clear_of_window_edge, require_redis
from tests.proxy.processes import fake_provider, free_port, serving


@pytest.mark.parametrize("topology", ["redis", "redis_cluster", "redis_sentinel"])
def test_two_replicas_share_one_rate_limit(
    tmp_path: Path, topology: str, request: pytest.FixtureRequest
) -> None:
    if topology == "redis":
        require_redis()
        url = REDIS_URL
    else:
        url = request.getfixturevalue(topology + "_url")
    clear_of_window_edge()
    key = f"replicas-{uuid.uuid4().hex}"
    (tmp_path / "gateway.yaml").write_text(
        f"""
stores: {{default: "{url}"}}
apis:
  llm: {{path: llm, style: openai, subscription-required: false}}
"""
    )
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "llm.xml").write_text(
        f"""<policies><inbound>
            <rate-limit-by-key calls="10" renewal-period="60" counter-key="{key}" />
            <mock-response />
        </inbound></policies>"""
    )
    with serving(tmp_path, os.environ) as first, serving(tmp_path, os.environ) as second:
        urls = [f"{base}/llm/chat/completions" for base in (first, second)] * 15

        def post(url: str) -> int:
            return httpx.post(url, json={"model": "m", "messages": []}).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(post, urls))
    assert statuses.count(200) == 10
    assert statuses.count(429) == 20


def limited_api(tmp_path: Path, provider_port: int, statement: str) -> None:
    """A gateway directory in tmp_path: counters in Redis, one LLM API whose inbound runs
    `statement`, its backend the fake provider on `provider_port`."""
    (tmp_path / "gateway.yaml").write_text(
        f"""
stores: {{default: "{REDIS_URL}"}}
backends:
  fake: {{url: "http://127.0.0.1:{provider_port}/v1"}}
apis:
  llm: {{path: llm, style: openai, backend: fake, subscription-required: false}}
"""
    )
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "llm.xml").write_text(
        f"<policies><inbound><base />{statement}</inbound></policies>"
    )


def test_token_counts_reach_redis_as_the_provider_reported(tmp_path: Path) -> None:
    require_redis()
    clear_of_window_edge()
    import redis

    key = f"tokens-{uuid.uuid4().hex}"
    provider_port = free_port()
    limited_api(
        tmp_path,
        provider_port,
        f"""<llm-token-limit counter-key="{key}" tokens-per-minute="100000"
            estimate-prompt-tokens="false" tokens-consumed-header-name="x-tokens" />""",
    )
    with fake_provider(provider_port), serving(tmp_path, os.environ) as gateway:
        client = openai.OpenAI(base_url=f"{gateway}/llm", api_key="-", max_retries=0)
        raw = client.chat.completions.with_raw_response.create(
            model="m", messages=[{"role": "user", "content": "hi"}]
        )
        assert raw.parse().usage.total_tokens == 12  # type: ignore[union-attr]
        assert raw.headers["x-tokens"] == "12"
        asked = client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        assert [c.usage.total_tokens for c in asked if c.usage is not None] == [8]
        # Not asked: the gateway asks the provider for usage, counts it, and hides it again.
        plain = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        chunks = list(plain)
        assert [c.usage for c in chunks if c.usage is not None] == []
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
            "one two three "
        )
        time.sleep(0.3)  # a stream's count lands right after its last chunk
    client_redis = redis.Redis.from_url(REDIS_URL)
    [counter] = list(client_redis.scan_iter(f"aigw:{{tokens:{key}:minute}}:*"))
    assert int(client_redis.get(counter) or 0) == 12 + 8 + 8


class RedisMonitor:
    """The commands Redis runs for one counter key, as MONITOR shows them, in order."""

    def __init__(self, url: str, key: str) -> None:
        import redis

        self.key, self.seen = key, list[list[str]]()
        self._monitor = redis.Redis.from_url(url).monitor().__enter__()
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        with contextlib.suppress(Exception):  # ends when close() closes the connection
            while True:
                command = self._monitor.next_command()
                if command["client_type"] != "lua" and self.key in command["command"]:
                    self.seen.append(shlex.split(command["command"]))

    def wait_for(self, count: int) -> list[list[str]]:
        deadline = time.monotonic() + 10
        while len(self.seen) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.seen)

    def close(self) -> None:
        self._monitor.connection.disconnect()


def ours(command: list[str], key: str) -> dict[str, tuple[str, str]]:
    """An EVALSHA of the counter store's script: (added first, amount) for each of `key`'s
    counters (`minute`, `quota`) that it touches (a write behind may touch others too)."""
    assert command[0] == "EVALSHA"
    count = int(command[2])
    keys, args = command[3 : 3 + count], command[3 + count :]
    found = {}
    for index, stored in enumerate(keys):
        if f"tokens:{key}:" in stored:
            counter = stored.split(f"tokens:{key}:")[1].split("}")[0]
            found[counter] = (args[4 * index], args[4 * index + 1])
    return found


def test_a_token_limited_call_makes_one_round_trip_before_forwarding_and_one_after(
    tmp_path: Path,
) -> None:
    """Both counters (tokens per minute, token quota) are checked in one script run; the
    usage is counted in one more, after the answer (the client does not wait for it)."""
    require_redis()
    clear_of_window_edge()
    key = f"trips-{uuid.uuid4().hex}"
    provider_port = free_port()
    limited_api(
        tmp_path,
        provider_port,
        """<llm-token-limit counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-key&quot;,&quot;&quot;))"
            tokens-per-minute="1000" token-quota="5000" token-quota-period="Monthly"
            estimate-prompt-tokens="false" remaining-tokens-header-name="x-left"
            remaining-quota-tokens-header-name="x-quota-left" />""",
    )
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    with fake_provider(provider_port), serving(tmp_path, os.environ) as gateway:
        url = f"{gateway}/llm/chat/completions"
        httpx.post(url, json=body, headers={"x-key": "warm-up"})  # Redis has the script now
        monitor = RedisMonitor(REDIS_URL, key)
        try:
            lefts = []
            for number in range(1, 4):
                answer = httpx.post(url, json=body, headers={"x-key": key})
                assert answer.status_code == 200
                lefts.append((answer.headers["x-left"], answer.headers["x-quota-left"]))
                commands = monitor.wait_for(2 * number)  # the check, then the count after
                check, count = (ours(command, key) for command in commands[-2:])
                assert check == {"minute": ("0", "0"), "quota": ("0", "0")}  # read both at once
                assert count == {"minute": ("12", "0"), "quota": ("12", "0")}  # the usage, after
                assert len(commands[-2]) == 3 + 2 + 2 * 4  # the check touched nothing else
            time.sleep(0.3)  # nothing else comes
            assert len(monitor.seen) == 6
        finally:
            monitor.close()
    assert lefts == [("988", "4988"), ("976", "4976"), ("964", "4964")]
