"""Retry, pools and circuit breakers against fake providers that fail on purpose.

Each member of the pool is its own fake provider process; `/-/faults` makes it answer 429
with Retry-After, 500 or 503, hang, or reset the connection, on every call or every n-th.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import REDIS_URL, require_redis
from tests.proxy.processes import (
    chat_calls,
    fake_providers,
    free_port,
    inject_faults,
    serving,
)
from tests.proxy.retry_policy import RETRY


@pytest.fixture
def members() -> Iterator[list[int]]:
    """Three fake providers; yields their ports."""
    with fake_providers(3) as ports:
        yield ports


faults = inject_faults


def write_directory(
    root: Path, ports: list[int], *, breaker: str = "", store: str = "memory", timeout: int = 5
) -> None:
    backends = "\n".join(
        f"""  m{index}:
    url: "http://127.0.0.1:{port}/v1"
{breaker}"""
        for index, port in enumerate(ports)
    )
    (root / "gateway.yaml").write_text(
        f"""
stores: {{default: "{store}"}}
backends:
{backends}
  pool:
    pool:
      services: [{", ".join(f"m{i}" for i in range(len(ports)))}]
apis:
  chat: {{path: chat, style: openai, backend: pool, subscription-required: false}}
"""
    )
    (root / "apis").mkdir(exist_ok=True)
    (root / "apis" / "chat.xml").write_text(RETRY.format(timeout=timeout))


def ask(base: str) -> int:
    answer = httpx.post(
        f"{base}/chat/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        timeout=30,
    )
    return answer.status_code


def test_a_member_failing_half_its_calls_costs_clients_nothing(
    tmp_path: Path, members: list[int]
) -> None:
    write_directory(tmp_path, members)
    faults(members[1], mode="500", every=2)
    with serving(tmp_path, os.environ) as gateway:
        client = openai.OpenAI(base_url=f"{gateway}/chat", api_key="-", max_retries=0)
        attempts = []
        for _ in range(30):  # the SDK raises on any error status
            raw = client.chat.completions.with_raw_response.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )
            attempts.append(raw.headers["x-aigw-attempts"])
            assert raw.headers["x-aigw-backend"] == attempts[-1].split(", ")[-1].split(":")[0]
    assert "m1:500, m2:200" in attempts  # retried on the next member, and it says so
    calls = [chat_calls(port) for port in members]
    assert sum(calls) > 30  # some calls were retried on another member
    assert min(calls[0], calls[2]) >= 10  # and the healthy members shared the load


@pytest.mark.parametrize("mode", ["429", "503", "hang", "reset"])
def test_every_kind_of_fault_is_retried_on_another_member(
    tmp_path: Path, members: list[int], mode: str
) -> None:
    write_directory(tmp_path, members, timeout=1)
    faults(members[0], mode=mode)
    with serving(tmp_path, os.environ) as gateway:
        statuses = [ask(gateway) for _ in range(6)]
    # A timeout or a reset raises in forward-request; APIM's retry does not catch errors, so
    # those reach on-error: the pool's breaker-free members still answered the others.
    if mode in ("429", "503"):
        assert statuses == [200] * 6
    else:
        assert statuses.count(200) >= 4 and set(statuses) <= {200, 500, 504}


BREAKER = """    circuit-breaker:
      rules:
        - failure-condition: {count: 1, interval: 60, status-code-ranges: ["429"]}
          trip-duration: 60
          accept-retry-after: true"""


def test_a_tripped_member_gets_no_traffic_until_its_retry_after_ends(
    tmp_path: Path, members: list[int]
) -> None:
    write_directory(tmp_path, members, breaker=BREAKER)
    faults(members[0], mode="429", retry_after=2)
    with serving(tmp_path, os.environ) as gateway:
        assert [ask(gateway) for _ in range(9)] == [200] * 9
        tripped = chat_calls(members[0])
        assert tripped == 1  # one 429, then the breaker kept it out
        skipped = httpx.post(f"{gateway}/chat/chat/completions", json={"messages": []})
        assert skipped.headers["x-aigw-attempts"].startswith("m0:open")
        faults(members[0], mode="ok")
        time.sleep(2.2)  # its Retry-After has passed: it is back in the rotation
        assert [ask(gateway) for _ in range(6)] == [200] * 6
        assert chat_calls(members[0]) > tripped


def test_two_gateways_share_breaker_state_through_redis(tmp_path: Path, members: list[int]) -> None:
    require_redis()
    write_directory(tmp_path, members, breaker=BREAKER, store=REDIS_URL)
    faults(members[0], mode="429", retry_after=30)
    with serving(tmp_path, os.environ) as first, serving(tmp_path, os.environ) as second:
        while chat_calls(members[0]) == 0:  # the first gateway meets the 429 and trips it
            assert ask(first) == 200
        time.sleep(0.6)  # the second reads breaker marks at most every 0.5 s
        with ThreadPoolExecutor(4) as pool:
            statuses = list(pool.map(lambda _: ask(second), range(12)))
    assert statuses == [200] * 12
    assert chat_calls(members[0]) == 1  # the second gateway never sent it a call


def test_a_stream_that_breaks_mid_way_ends_with_an_error_event_not_a_fake_end(
    tmp_path: Path, members: list[int]
) -> None:
    from tests.proxy.processes import output_of, start_gateway, stop

    write_directory(tmp_path, members)
    for port in members:
        faults(port, mode="reset")
    port = free_port()
    gateway = start_gateway(tmp_path, port)
    try:
        body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        url = f"http://127.0.0.1:{port}/chat/chat/completions"
        with httpx.stream("POST", url, json=body, timeout=30) as answer:
            events = [line for line in answer.iter_lines() if line.startswith("data:")]
        assert '"content": "one "' in events[0]  # what arrived before the break passed through
        assert '"stream_broken"' in events[-1] and "data: [DONE]" not in events
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/chat", api_key="-", max_retries=0)
        with pytest.raises(openai.APIError, match="broke off"):
            list(client.chat.completions.create(model="m", messages=[], stream=True))
    finally:
        stop(gateway)
    logged = [line for line in output_of(gateway).splitlines() if line.startswith("{")]
    assert all("stream broke off" in line for line in logged)
