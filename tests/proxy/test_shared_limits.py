"""Two gateway processes sharing one Redis enforce one limit between them."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.conftest import REDIS_URL, require_redis
from tests.proxy.processes import serving


def test_two_replicas_share_one_rate_limit(tmp_path: Path) -> None:
    require_redis()
    key = f"replicas-{uuid.uuid4().hex}"
    (tmp_path / "gateway.yaml").write_text(
        f"""
stores: {{default: "{REDIS_URL}"}}
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
