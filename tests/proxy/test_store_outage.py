"""A running gateway whose Redis goes away and comes back: fail open or closed, then recover."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from tests.conftest import clear_of_window_edge
from tests.proxy.processes import free_port, output_of, start_gateway, stop
from tests.redis_servers import RedisServer, free_ports

POLICY = """<policies><inbound>
    <rate-limit-by-key calls="2" renewal-period="60" counter-key="team" {closed} />
    <mock-response />
</inbound></policies>"""


def redis_and_directory(root: Path, open_policy: str, closed_policy: str) -> RedisServer:
    """A private Redis, started, and a directory whose APIs `open` and `closed` count in it."""
    (redis_port,) = free_ports(1)
    redis = RedisServer(redis_port, root / "redis").start()
    (root / "gateway.yaml").write_text(
        f"""
stores: {{default: "redis://127.0.0.1:{redis_port}/0"}}
apis:
  open: {{path: open, style: openai, subscription-required: false}}
  closed: {{path: closed, style: openai, subscription-required: false}}
"""
    )
    (root / "apis").mkdir()
    (root / "apis" / "open.xml").write_text(open_policy)
    (root / "apis" / "closed.xml").write_text(closed_policy)
    return redis


def test_limits_fail_open_or_closed_while_redis_is_away_and_recover(tmp_path: Path) -> None:
    clear_of_window_edge()
    closed = POLICY.format(closed='on-store-failure="closed"')
    redis = redis_and_directory(tmp_path, POLICY.format(closed=""), closed)
    port, admin = free_port(), free_port()
    gateway = start_gateway(tmp_path, port, None, admin)
    try:

        def statuses(api: str, count: int) -> list[int]:
            url = f"http://127.0.0.1:{port}/{api}/chat/completions"
            return [httpx.post(url, json={"messages": []}).status_code for _ in range(count)]

        assert statuses("closed", 3) == [200, 200, 429]
        redis.stop()
        assert statuses("open", 3) == [200, 200, 200]  # the default: let calls through
        refused = httpx.post(f"http://127.0.0.1:{port}/closed/chat/completions", json={})
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert "counter store is unreachable" in refused.text
        redis.start()  # back (empty): after at most a second the limits count again
        deadline = time.monotonic() + 10
        while statuses("closed", 1) == [503]:
            assert time.monotonic() < deadline, "the gateway did not reconnect to Redis"
            time.sleep(0.2)
        assert statuses("closed", 2) == [200, 429]
        metrics = httpx.get(f"http://127.0.0.1:{admin}/metrics").text
    finally:
        stop(gateway)
        redis.stop()
    found = {
        (m.group("labels"), float(m.group("value")))
        for m in re.finditer(
            r"aigw_store_failures_total\{(?P<labels>[^}]*)\} (?P<value>\S+)", metrics
        )
    }
    allowed = [v for labels, v in found if 'outcome="allowed"' in labels]
    refused_counts = [v for labels, v in found if 'outcome="refused"' in labels]
    assert allowed == [3.0]
    assert refused_counts and refused_counts[0] >= 1.0


LOADED = """<policies><inbound>
    <rate-limit-by-key calls="{calls}" renewal-period="60" counter-key="@(context.Api.Id)"
        {closed} />
    <mock-response />
</inbound></policies>"""
LIMIT = 40  # the closed API's calls a minute: a whole window is used before and after


def refused_from(outcomes: list[str], start: int) -> None:
    """Wait until the calls from `start` on include a 429 (the limit's window is used up)."""
    deadline = time.monotonic() + 20
    while "429" not in outcomes[start:]:
        assert time.monotonic() < deadline, Counter(outcomes[start:])
        time.sleep(0.05)


def test_redis_killed_under_load_and_back_loses_no_count_and_fails_no_call(tmp_path: Path) -> None:
    """16 clients call back to back while Redis is killed and started again (empty). Calls
    under a fail-open limit all pass; under a fail-closed one each gets 200, 429 or 503 with
    Retry-After, never another error; and the counts hold on each side of the outage: exactly
    LIMIT calls pass in the first Redis and LIMIT in the second, none beyond."""
    clear_of_window_edge(margin=20)
    closed = LOADED.format(calls=LIMIT, closed='on-store-failure="closed"')
    redis = redis_and_directory(tmp_path, LOADED.format(calls=10**9, closed=""), closed)
    port = free_port()
    gateway = start_gateway(tmp_path, port)
    outcomes: dict[str, list[str]] = {"open": [], "closed": []}
    running = threading.Event()
    running.set()

    def call_repeatedly(api: str) -> None:
        url = f"http://127.0.0.1:{port}/{api}/chat/completions"
        with httpx.Client(timeout=10) as client:
            while running.is_set():
                try:
                    answer = client.post(url, json={"messages": []})
                except httpx.HTTPError as error:
                    outcomes[api].append(f"transport error {error!r}")
                    continue
                retry_after = answer.headers.get("retry-after")
                outcomes[api].append(
                    f"{answer.status_code} {retry_after if answer.status_code == 503 else ''}".strip()
                )

    callers = [
        threading.Thread(target=call_repeatedly, args=(api,))
        for api in ("open", "closed")
        for _ in range(8)
    ]
    try:
        for caller in callers:
            caller.start()
        refused_from(outcomes["closed"], 0)  # the first Redis: the closed API's minute used up
        redis.stop()  # killed: no goodbye to the gateway's connections
        time.sleep(2)
        during = {api: len(seen) for api, seen in outcomes.items()}
        redis.start()  # back, empty: the gateway finds it within a second
        refused_from(outcomes["closed"], during["closed"])  # the second minute used up too
        running.clear()
        for caller in callers:
            caller.join()
    finally:
        running.clear()
        stop(gateway)
        redis.stop()
    assert set(outcomes["open"]) == {"200"}, Counter(outcomes["open"])
    closed_seen = Counter(outcomes["closed"])
    assert set(closed_seen) == {"200", "429", "503 1"}, closed_seen
    assert closed_seen["200"] == 2 * LIMIT  # LIMIT in each Redis, not one more
    assert min(during.values()) > 0 and len(outcomes["open"]) > during["open"] + 20
    assert "Traceback" not in output_of(gateway)
