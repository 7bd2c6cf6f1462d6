"""The ledger in a SQLite file, through the standard library's sqlite3 on one worker thread
of its own: a write never blocks the event loop, and one thread owns the connection (no
aiosqlite needed for that: it is the same thread-plus-queue, one dependency more).

WAL mode and a busy timeout let the workers of `aigw run --workers N` share the file.
Costs are TEXT; `decimal_sum` adds them as exact decimals.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from gateway.ledger.record import COLUMNS, Record
from gateway.ledger.schema import MIGRATIONS, MIGRATIONS_TABLE, TABLE, Migration, migrations_table

T = TypeVar("T")
# A cost is stored as the decimal's text (exact; `decimal_sum` adds it up). sqlite3's adapters
# are the process's: this one only gives a Decimal, which sqlite3 refuses to bind otherwise,
# its text, wherever one is bound.
sqlite3.register_adapter(Decimal, str)
INSERT = f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


class DecimalSum:
    """SUM for TEXT decimals, exactly (SQLite's own SUM would make them floats)."""

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: object) -> None:
        if value is not None:
            self.total = (self.total or Decimal(0)) + Decimal(str(value))

    def finalize(self) -> str | None:
        return None if self.total is None else str(self.total)


class SqliteLedger:
    dialect = "sqlite"

    def __init__(self, path: Path, create: bool = True) -> None:
        self.path = path
        self.create = create
        self.described = f"sqlite:///{path}"
        self.connection: sqlite3.Connection | None = None
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="aigw-ledger")

    def _connect(self) -> sqlite3.Connection:
        if self.connection is None:
            if not self.create and not self.path.is_file():
                raise FileNotFoundError(f"no ledger at {self.path}")
            connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            connection.execute("PRAGMA busy_timeout = 5000")
            connection.execute("PRAGMA journal_mode = WAL")
            # WAL with NORMAL syncs at checkpoints, not at every commit: a power cut may undo
            # the last batches, as it loses the records still queued anyway; never corrupts.
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.create_aggregate("decimal_sum", 1, DecimalSum)
            self.connection = connection
        return self.connection

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            return work(self._connect())

        return await asyncio.get_running_loop().run_in_executor(self.thread, call)

    async def migrate(self) -> list[Migration]:
        def apply(connection: sqlite3.Connection) -> list[Migration]:
            connection.execute("BEGIN IMMEDIATE")  # one migrator at a time
            try:
                connection.execute(migrations_table("sqlite"))
                done = {
                    row[0] for row in connection.execute(f"SELECT version FROM {MIGRATIONS_TABLE}")
                }
                applied = [m for m in MIGRATIONS if m.version not in done]
                for migration in applied:
                    for statement in migration.statements("sqlite"):
                        connection.execute(statement)
                    connection.execute(
                        f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, ?, ?)",
                        (migration.version, migration.description, time.time()),
                    )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            return applied

        return await self._run(apply)

    async def write(self, records: Sequence[Record]) -> None:
        def insert(connection: sqlite3.Connection) -> None:
            connection.execute("BEGIN")  # one transaction: all the batch or none of it
            try:
                # The records themselves are the rows: their costs bound as text by the
                # adapter below, in sqlite3's C loop, not a tuple remade per record.
                connection.executemany(INSERT, records)
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

        await self._run(insert)

    async def fetch(self, sql: str, parameters: Sequence[object]) -> list[tuple[object, ...]]:
        return await self._run(lambda c: c.execute(sql, tuple(parameters)).fetchall())

    async def close(self) -> None:
        def close(_: sqlite3.Connection) -> None:
            if self.connection is not None:
                self.connection.close()
                self.connection = None

        if self.connection is not None:
            await self._run(close)
        self.thread.shutdown(wait=False)
