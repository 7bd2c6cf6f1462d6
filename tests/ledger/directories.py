"""A policies directory whose calls the ledger records: an OpenAI-style API retried on a 429,
one behind the semantic cache, a subscription, a dated price; and the ledger's rows read back
with the databases' own clients (sqlite3, asyncpg), not the gateway's code."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import REPO
from tests.ledger.postgres_servers import fetch
from tests.proxy.retry_policy import RETRY_BACKEND

KEY = "ledger-team-key"
PRICE = (1.5, 2.25, "2026-11-30")  # dollars a million (input, output), the row's date
# Anthropic's model's (input, output), and the realtime model's (input, cached input, output).
CLAUDE_PRICE = (3, 15)
REALTIME_PRICE = (4, 0.4, 16)
CACHE = """<policies>
    <inbound><base />
        <llm-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embed"
            embeddings-backend-auth="system-assigned" />
    </inbound>
    <backend><base /></backend>
    <outbound><base /><llm-semantic-cache-store duration="60" /></outbound>
</policies>"""


def write_directory(root: Path, provider_port: int, url: str, extra: str = "") -> None:
    provider = f"http://127.0.0.1:{provider_port}"
    (root / "gateway.yaml").write_text(
        f"""
backends:
  p: {{url: "{provider}/v1", provider: openai}}
  c: {{url: "{provider}", provider: anthropic}}
  embed: {{url: "{provider}/v1/embeddings"}}
apis:
  chat: {{path: chat, style: openai, backend: p}}
  cached: {{path: cached, style: openai, backend: p, subscription-required: false}}
  claude: {{path: claude, style: anthropic, backend: c}}
  rt: {{path: rt, style: openai, backend: p}}
  plain-http: {{path: plain, style: http, backend: p}}
products:
  team: {{apis: [chat, claude, rt, plain-http]}}
subscriptions:
  team-a: {{scope: product/team, primary-key: {KEY}}}
pricing:
  - {{provider: openai, model: m, input: {PRICE[0]}, output: {PRICE[1]}, date: "{PRICE[2]}"}}
  - {{provider: anthropic, model: claude-x, input: {CLAUDE_PRICE[0]}, output: {CLAUDE_PRICE[1]},
      date: "{PRICE[2]}"}}
  - {{provider: openai, model: gpt-realtime, input: {REALTIME_PRICE[0]},
      cached-input: {REALTIME_PRICE[1]}, output: {REALTIME_PRICE[2]}, date: "{PRICE[2]}"}}
ledger:
  url: "{url}"
  flush-interval: 0.1
{extra}"""
    )
    (root / "apis").mkdir(exist_ok=True)
    retry = f"<policies><inbound><base /></inbound>{RETRY_BACKEND.format(timeout=10)}</policies>"
    (root / "apis" / "chat.xml").write_text(retry)
    (root / "apis" / "cached.xml").write_text(CACHE)


def migrate(root: Path) -> str:
    """`aigw ledger migrate ROOT`: what it printed."""
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "ledger", "migrate", str(root)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def rows_of(url: str) -> list[dict[str, object]]:
    sql = "SELECT * FROM aigw_ledger ORDER BY id"
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not path.exists():
            return []
        with sqlite3.connect(path) as connection:
            connection.row_factory = sqlite3.Row
            try:
                return [dict(row) for row in connection.execute(sql)]
            except sqlite3.OperationalError:  # no table yet
                return []
    return fetch(url, sql)


def wait_for_rows(url: str, count: int, timeout: float = 20) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        rows = rows_of(url)
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)
