"""Gateways with an admin key for the admin API's tests: a policies directory whose API answers
with mock-response, and a client for the admin listener."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

ADMIN_KEY = "admin-key-for-tests-0123456789"
FIXED_KEY = "fixed-key-of-gateway-yaml-000001"


def write_directory(root: Path, stores: str = "memory", admin: str = "") -> Path:
    """An API `llm` in a product `starter`, a gateway.yaml subscription `fixed`, the admin key
    from the environment variable AIGW_TEST_ADMIN_KEY."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "gateway.yaml").write_text(
        f"""
stores: {{default: "{stores}"}}
apis:
  llm: {{path: llm, style: openai}}
  other: {{path: other, style: openai}}
products:
  starter: {{apis: [llm]}}
subscriptions:
  fixed: {{scope: product/starter, primary-key: {FIXED_KEY}}}
admin:
  key: "${{env:AIGW_TEST_ADMIN_KEY}}"
{admin}
"""
    )
    (root / "apis").mkdir(exist_ok=True)
    for api in ("llm", "other"):
        (root / "apis" / f"{api}.xml").write_text(
            "<policies><inbound><base /><mock-response /></inbound></policies>"
        )
    return root


def admin(base: str, key: str | None = ADMIN_KEY) -> httpx.Client:
    headers = {"authorization": f"Bearer {key}"} if key is not None else {}
    return httpx.Client(base_url=f"{base}/-/api", headers=headers, timeout=10)


def status_with(gateway: str, key: str, api: str = "llm") -> int:
    """The status of a chat call through `gateway` presenting the subscription key `key`."""
    answer = httpx.post(
        f"{gateway}/{api}/chat/completions",
        headers={"authorization": f"Bearer {key}"},
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        timeout=10,
    )
    return answer.status_code


def seconds_until(check: Callable[[], bool], limit: float = 5.0) -> float:
    """How long until `check()` holds (it must within `limit` seconds)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > limit:
            raise AssertionError(f"still not so after {limit} s")
        time.sleep(0.02)
    return time.monotonic() - started
