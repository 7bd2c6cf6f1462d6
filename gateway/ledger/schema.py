"""The ledger's tables, as numbered migrations: each applied once, in order, and noted in
`aigw_ledger_migrations`, so running them again changes nothing (`aigw ledger migrate`).

Costs are exact: NUMERIC in PostgreSQL; TEXT (the decimal's digits) in SQLite, which has no
exact decimal type, summed by an aggregate the gateway registers (gateway.ledger.sqlite).
Times are seconds since the epoch (UTC) with the UTC day beside them, so totals by day and
`--since` read the same in both databases.
"""

from __future__ import annotations

from dataclasses import dataclass

TABLE = "aigw_ledger"
MIGRATIONS_TABLE = "aigw_ledger_migrations"


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]

    def statements(self, dialect: str) -> tuple[str, ...]:
        return self.sqlite if dialect == "sqlite" else self.postgres


def _create_table(serial: str, real: str, money: str) -> str:
    return f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id {serial},
    time {real} NOT NULL,
    day TEXT NOT NULL,
    request_id TEXT NOT NULL,
    subscription TEXT,
    product TEXT,
    api TEXT NOT NULL,
    operation TEXT NOT NULL,
    model_requested TEXT,
    model_served TEXT,
    backend TEXT,
    attempts INTEGER NOT NULL,
    attempt_log TEXT NOT NULL,
    prompt_tokens BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL,
    cache_write_tokens BIGINT NOT NULL,
    reasoning_tokens BIGINT NOT NULL,
    cost {money},
    price_date TEXT,
    cache TEXT,
    status INTEGER NOT NULL,
    latency_ms {real} NOT NULL
)"""


# Only by time (what --since and reconciling's days select by): each index more costs every
# insert about as much as the row itself does (SQLite, measured).
_INDEXES = (f"CREATE INDEX IF NOT EXISTS {TABLE}_time ON {TABLE} (time)",)

MIGRATIONS = (
    Migration(
        1,
        "the ledger table, indexed by time",
        # The row id, not AUTOINCREMENT: that keeps a table of its own up to date per insert.
        (_create_table("INTEGER PRIMARY KEY", "REAL", "TEXT"), *_INDEXES),
        (_create_table("BIGSERIAL PRIMARY KEY", "DOUBLE PRECISION", "NUMERIC"), *_INDEXES),
    ),
)

LATEST = MIGRATIONS[-1].version


def migrations_table(dialect: str) -> str:
    moment = "REAL" if dialect == "sqlite" else "DOUBLE PRECISION"
    return (
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
        f"(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at {moment} NOT NULL)"
    )
