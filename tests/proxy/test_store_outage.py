"""A running gateway whose Redis goes away and comes back: fail open or closed, then recover."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from tests.conftest import clear_of_window_edge
from tests.proxy.processes import free_port, start_gateway, stop
from tests.redis_servers import RedisServer, free_ports

POLICY = """<policies><inbound>
    <rate-limit-by-key calls="2" renewal-period="60" counter-key="team" {closed} />
    <mock-response />
</inbound></policies>"""


def test_limits_fail_open_or_closed_while_redis_is_away_and_recover(tmp_path: Path) -> None:
    clear_of_window_edge()
    (redis_port,) = free_ports(1)
    redis = RedisServer(redis_port, tmp_path / "redis").start()
    (tmp_path / "gateway.yaml").write_text(
        f"""
stores: {{default: "redis://127.0.0.1:{redis_port}/0"}}
apis:
  open: {{path: open, style: openai, subscription-required: false}}
  closed: {{path: closed, style: openai, subscription-required: false}}
"""
    )
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "open.xml").write_text(POLICY.format(closed=""))
    (tmp_path / "apis" / "closed.xml").write_text(POLICY.format(closed='on-store-failure="closed"'))
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
