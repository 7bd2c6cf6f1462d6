"""A prepared ledger: a policies directory whose default SQLite ledger holds six calls on
three days (two providers, two subscriptions, a cache hit), for `aigw usage` and
`aigw reconcile` to print exact totals and differences from; and `aigw` run on it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import REPO
from tests.ledger.directories import migrate

EXPORTS = REPO / "tests" / "data" / "ledger"
GATEWAY = """
backends:
  p: {url: "http://127.0.0.1:9/v1", provider: openai}
  c: {url: "http://127.0.0.1:9", provider: anthropic}
apis:
  chat: {path: chat, style: openai, backend: p}
  claude: {path: claude, style: anthropic, backend: c}
"""
COLUMNS = (
    "time, day, request_id, subscription, product, api, operation, model_requested, "
    "model_served, backend, attempts, attempt_log, prompt_tokens, completion_tokens, "
    "cached_tokens, cache_write_tokens, reasoning_tokens, cost, price_date, cache, status, "
    "latency_ms"
)
MINI, FOUR, SONNET = "gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06", "claude-sonnet-4-20250514"
CHAT, MESSAGES = ("chat", "ChatCompletions_Create"), ("claude", "Messages_Create")
# (UTC time, subscription, (api, operation), model, backend, prompt, completion, cached, cost)
CALLS = [
    ("2026-10-15T09:00", "team-a", CHAT, MINI, "p", 100, 10, 0, "0.000021"),
    ("2026-11-02T10:00", "team-a", CHAT, MINI, "p", 1000, 200, 0, "0.00027"),
    ("2026-11-02T11:00", "team-b", CHAT, MINI, "p", 500, 100, 0, "0.000135"),
    ("2026-11-03T08:00", "team-a", CHAT, FOUR, "p", 2000, 300, 0, "0.008"),
    ("2026-11-03T09:00", "team-a", MESSAGES, SONNET, "c", 1200, 400, 200, "0.00906"),
    ("2026-11-03T10:00", "team-b", CHAT, None, None, 0, 0, 0, None),  # a cache hit
]


def prepared_ledger(tmp_path: Path) -> Path:
    """The policies directory; its ledger is `<dir>.ledger.sqlite` beside it (the default)."""
    root = tmp_path / "policies"
    root.mkdir()
    (root / "gateway.yaml").write_text(GATEWAY)
    migrate(root)
    rows = []
    for number, (moment, team, (api, operation), model, backend, *figures) in enumerate(CALLS):
        prompt, completion, cached, cost = figures
        at = epoch(moment)
        hit = backend is None
        rows.append(
            (at, moment[:10], f"request-{number}", team, "team", api, operation, MINI if hit else model,
             model, backend, 0 if hit else 1, "" if hit else f"{backend}:200", prompt, completion,
             cached, 0, 0, cost, None if hit else "2026-10-01", "hit" if hit else None, 200, 12.5)
        )  # fmt: skip
    with sqlite3.connect(tmp_path / "policies.ledger.sqlite") as connection:
        marks = ", ".join("?" * len(rows[0]))
        connection.executemany(f"INSERT INTO aigw_ledger ({COLUMNS}) VALUES ({marks})", rows)
    return root


def epoch(moment: str) -> float:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC).timestamp()


def aigw(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
