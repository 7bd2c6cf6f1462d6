"""The ledger in PostgreSQL, through asyncpg: for a fleet of gateways writing to one place.

One connection per gateway process, made when first needed and made again after a failure
(the database restarted, the network broke). The schema is `aigw ledger migrate`'s to create:
a gateway's database user may well have no right to. A URL's query parameters other than
libpq's (`?search_path=...`) are the session's settings, as asyncpg reads them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import asyncpg

from gateway.ledger.record import COLUMNS, Record
from gateway.ledger.schema import MIGRATIONS, MIGRATIONS_TABLE, TABLE, Migration, migrations_table
from gateway.ledger.urls import redact

CONNECT_TIMEOUT = 5.0  # seconds: a database that is away must not hold the writer long
INSERT = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(COLUMNS) + 1))})"
)
MIGRATION_LOCK = 0x616967776C6564  # an advisory lock's key: one migrator at a time


class NoSchema(Exception):
    def __init__(self) -> None:
        super().__init__("the ledger's tables are missing: run 'aigw ledger migrate DIR'")


class PostgresLedger:
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self.described = redact(url)
        self.connection: Any = None

    async def _connect(self) -> Any:
        if self.connection is None or self.connection.is_closed():
            self.connection = await asyncpg.connect(self.url, timeout=CONNECT_TIMEOUT)
        return self.connection

    async def _forget(self) -> None:
        """After a failure: the next use connects afresh."""
        connection, self.connection = self.connection, None
        if connection is not None:
            connection.terminate()

    async def migrate(self) -> list[Migration]:
        connection = await self._connect()
        async with connection.transaction():
            await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await connection.execute(migrations_table("postgres"))
            done = {
                row[0] for row in await connection.fetch(f"SELECT version FROM {MIGRATIONS_TABLE}")
            }
            applied = [m for m in MIGRATIONS if m.version not in done]
            for migration in applied:
                for statement in migration.statements("postgres"):
                    await connection.execute(statement)
                await connection.execute(
                    f"INSERT INTO {MIGRATIONS_TABLE} VALUES ($1, $2, $3)",
                    migration.version,
                    migration.description,
                    time.time(),
                )
        return applied

    async def write(self, records: Sequence[Record]) -> None:
        try:
            connection = await self._connect()
            async with connection.transaction():
                await connection.executemany(INSERT, records)  # each a tuple
        except asyncpg.UndefinedTableError:
            raise NoSchema() from None
        except BaseException:
            await self._forget()
            raise

    async def fetch(self, sql: str, parameters: Sequence[object]) -> list[tuple[object, ...]]:
        numbered = _numbered(sql)
        connection = await self._connect()
        try:
            return [tuple(row) for row in await connection.fetch(numbered, *parameters)]
        except asyncpg.UndefinedTableError:
            raise NoSchema() from None

    async def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and not connection.is_closed():
            await connection.close(timeout=CONNECT_TIMEOUT)


def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2...`."""
    parts = sql.split("?")
    return "".join(part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, 1))
