"""A gateway for the dashboard's tests: the ledger's test directory (tests/ledger/directories:
a subscription in product `team`, an API behind the semantic cache, prices) with an admin key,
per-subscription limits in the product's policy, a rate limit that refuses the cached API's
third call; started as a real process in front of the fake provider, and called with the
official `openai` SDK: a plain call, a stream, a cache miss and hit, and a refusal."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import openai

from tests.ledger.directories import CACHE, KEY, migrate, wait_for_rows, write_directory
from tests.proxy.processes import fake_provider, free_port, start_gateway, stop

ADMIN_KEY = "dashboard-admin-key-7f3a"
ASK = [{"role": "user", "content": "hi"}]
TEAM_POLICY = """<policies>
    <inbound><base />
        <rate-limit calls="100" renewal-period="60" />
        <llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="5000"
            estimate-prompt-tokens="false" />
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
</policies>"""
# The cached API's policy (the ledger tests'), its third call refused by a limit per address.
REFUSING = """
        <rate-limit-by-key calls="2" renewal-period="300"
            counter-key='@(context.Request.IpAddress + "-{run}")' />"""
CACHED_POLICY = CACHE.replace("<inbound><base />", "<inbound><base />" + REFUSING, 1)
LEDGER_CALLS = 5  # a plain call, a stream, a miss, a hit (the refusal may add one: see rows)


@dataclass
class Running:
    root: Path
    admins: list[str]  # each replica's admin listener, its base URL
    traffic: str  # the replica the calls went through: the last
    ledger_url: str
    flaky: str  # the backend whose breaker the calls opened

    @property
    def admin(self) -> str:
        return self.admins[0]


# A backend whose breaker opens at its first 404 (the fake provider has no /nowhere), behind
# an HTTP API; and the OpenAI backend given a breaker that stays closed.
FLAKY_BACKEND = """  {flaky}:
    url: http://127.0.0.1:{port}/nowhere
    circuit-breaker:
      rules: [{{failure-condition: {{count: 1, interval: 60, status-code-ranges: ["404"]}},
               trip-duration: 300}}]
"""
FLAKY_API = """  flaky:
    path: flaky
    style: http
    backend: {flaky}
    subscription-required: false
    operations: [{{id: get, method: GET, url-template: /x}}]
"""
CLOSED = (
    ", circuit-breaker: {rules: [{failure-condition: "
    '{count: 50, interval: 60, status-code-ranges: ["500-599"]}, trip-duration: 30}]}}'
)


def dashboard_directory(
    root: Path, provider_port: int, ledger_url: str, run: str, store: str
) -> None:
    """`run` names what a shared Redis keeps between runs: the refusing limit's counter, the
    flaky backend (`flaky-<run>`, whose breaker stays open five minutes)."""
    extra = f'admin: {{key: {ADMIN_KEY}}}\nstores: {{default: "{store}", cache: memory}}\n'
    write_directory(root, provider_port, ledger_url, extra)
    config = root / "gateway.yaml"
    text = config.read_text()
    flaky = FLAKY_BACKEND.format(port=provider_port, flaky=f"flaky-{run}")
    text = text.replace("backends:\n", "backends:\n" + flaky)
    text = text.replace("apis:\n", "apis:\n" + FLAKY_API.format(flaky=f"flaky-{run}"))
    text = text.replace("provider: openai}", "provider: openai" + CLOSED, 1)
    config.write_text(text)
    (root / "products").mkdir(exist_ok=True)
    (root / "products" / "team.xml").write_text(TEAM_POLICY)
    (root / "apis" / "cached.xml").write_text(CACHED_POLICY.replace("{run}", run))


def make_calls(traffic: str) -> None:
    """The calls the dashboard must show, made as a user's code makes them."""
    team = openai.OpenAI(base_url=f"{traffic}/chat", api_key=KEY, max_retries=0)
    team.chat.completions.create(model="m", messages=ASK)
    stream = team.chat.completions.create(
        model="m", messages=ASK, stream=True, stream_options={"include_usage": True}
    )
    for _ in stream:
        pass
    anyone = openai.OpenAI(base_url=f"{traffic}/cached", api_key="none", max_retries=0)
    asked = [{"role": "user", "content": "what is the capital of France"}]
    anyone.chat.completions.create(model="m", messages=asked)
    hit = anyone.chat.completions.with_raw_response.create(model="m", messages=asked)
    assert hit.headers.get("x-aigw-cache") == "hit"
    try:
        anyone.chat.completions.create(model="m", messages=asked)
        raise AssertionError("the third call to the cached API should be refused")
    except openai.RateLimitError:
        pass
    assert httpx.get(f"{traffic}/flaky/x").status_code == 404  # its backend's breaker opens


@contextmanager
def running_dashboard(
    tmp_path: Path, ledger_url: str | None = None, store: str = "memory", replicas: int = 1
) -> Iterator[Running]:
    """`replicas` gateways on one directory, the calls made through the last, in the ledger."""
    root = tmp_path / "policies"
    root.mkdir()
    url = ledger_url or f"sqlite:///{tmp_path / 'calls.ledger.sqlite'}"
    provider_port, run = free_port(), uuid.uuid4().hex[:8]
    dashboard_directory(root, provider_port, url, run, store)
    if url.startswith("postgresql"):
        migrate(root)  # PostgreSQL's tables are `aigw ledger migrate`'s to make
    with fake_provider(provider_port), ExitStack() as replicas_running:
        ports = [(free_port(), free_port()) for _ in range(replicas)]
        for port, admin_port in ports:
            gateway = start_gateway(root, port, os.environ, admin_port)
            replicas_running.callback(stop, gateway)
        traffic = f"http://127.0.0.1:{ports[-1][0]}"
        make_calls(traffic)
        wait_for_rows(url, LEDGER_CALLS)
        admins = [f"http://127.0.0.1:{admin_port}" for _, admin_port in ports]
        yield Running(root, admins, traffic, url, f"flaky-{run}")


def bearer() -> dict[str, str]:
    return {"authorization": f"Bearer {ADMIN_KEY}"}


def admin_get(running: Running, path: str, **params: str) -> httpx.Response:
    return httpx.get(running.admin + path, params=params, headers=bearer(), timeout=30)
