"""The SQLite ledger's rows: each record inserted as it is, its cost as the decimal's exact
text (bound by the Decimal adapter the module registers, not by a row remade per record)."""

from __future__ import annotations

import asyncio
import sqlite3
from decimal import Decimal
from pathlib import Path

from gateway.ledger.record import COLUMNS, Record
from gateway.ledger.sqlite import SqliteLedger


def record(request_id: str, cost: Decimal | None) -> Record:
    values: dict[str, object] = {name: None for name in COLUMNS}
    values.update(
        time=1.5, day="2026-12-08", request_id=request_id, api="chat", operation="op",
        attempts=1, attempt_log="east:200", prompt_tokens=12, completion_tokens=9,
        cached_tokens=0, cache_write_tokens=0, reasoning_tokens=0, cost=cost, status=200,
        latency_ms=0.25,
    )  # fmt: skip
    return Record(**values)  # type: ignore[arg-type]


def test_records_are_rows_as_they_are_with_their_cost_as_exact_text(tmp_path: Path) -> None:
    records = [
        record("a", Decimal("0.0000072")),
        record("b", None),
        record("c", Decimal("1.10")),  # the text as it is: not 1.1, not a float
        record("d", Decimal("123456789.123456789123456789")),
    ]
    ledger = SqliteLedger(tmp_path / "ledger.sqlite")

    async def write() -> None:
        await ledger.migrate()
        await ledger.write(records)
        await ledger.close()

    asyncio.run(write())
    with sqlite3.connect(tmp_path / "ledger.sqlite") as connection:
        rows = connection.execute(
            f"SELECT {', '.join(COLUMNS)}, typeof(cost) FROM aigw_ledger ORDER BY request_id"
        ).fetchall()
    at = COLUMNS.index("cost")
    costs = ["0.0000072", None, "1.10", "123456789.123456789123456789"]
    assert [row[at] for row in rows] == costs
    assert [row[-1] for row in rows] == ["text", "null", "text", "text"]
    # Every other column is the record's own value.
    assert [(*row[:at], *row[at + 1 : -1]) for row in rows] == [
        (*r[:at], *r[at + 1 :]) for r in records
    ]
