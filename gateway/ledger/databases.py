"""Where the ledger is: gateway.yaml's `ledger.url`, or the default SQLite file, opened as the
database it names. Both databases answer the same small contract (`Database`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from gateway.config.settings import GatewayConfig
from gateway.ledger.record import Record
from gateway.ledger.schema import Migration
from gateway.ledger.urls import redact

SQLITE_SUFFIX = ".ledger.sqlite"


class Database(Protocol):
    dialect: str  # "sqlite" or "postgres": which SQL the queries write
    described: str  # where it is, fit to log: a URL's password is never in it

    async def migrate(self) -> list[Migration]:
        """Apply the migrations not yet applied; the ones applied now."""
        ...

    async def write(self, records: Sequence[Record]) -> None:
        """Insert the records in one transaction (all or none)."""
        ...

    async def fetch(self, sql: str, parameters: Sequence[object]) -> list[tuple[object, ...]]:
        """Rows of a query whose parameters are written `?`."""
        ...

    async def close(self) -> None: ...


def default_path(root: Path) -> Path:
    """The SQLite file beside the policies directory: `/srv/pol` -> `/srv/pol.ledger.sqlite`."""
    directory = root.resolve()
    return directory.parent / (directory.name + SQLITE_SUFFIX)


def ledger_url(config: GatewayConfig, root: Path) -> str | None:
    """The ledger's URL (`sqlite:///ABSOLUTE` or `postgresql://...`); None when it is off."""
    settings = config.ledger
    if not settings.enabled:
        return None
    if settings.url is None:
        return "sqlite:///" + str(default_path(root))
    url = settings.url.resolve().strip()
    if url.startswith(("postgresql://", "postgres://")):
        return url
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
    if re.match(r"^[a-z][a-z0-9+.-]*://", path):
        raise ValueError(
            f"ledger.url: {redact(url)} is neither sqlite:///PATH, a path, nor postgresql://..."
        )
    found = Path(path)
    return "sqlite:///" + str(found if found.is_absolute() else (root / found).resolve())


def open_database(url: str, create: bool = True) -> Database:
    """The database `url` names (from `ledger_url`); nothing connects until it is used.
    `create=False` (the CLI's readers): a SQLite file that does not exist is an error."""
    if url.startswith("sqlite:///"):
        from gateway.ledger.sqlite import SqliteLedger

        return SqliteLedger(Path(url.removeprefix("sqlite:///")), create)
    try:
        from gateway.ledger.postgres import PostgresLedger
    except ImportError:  # asyncpg is the `postgres` extra
        raise ValueError(
            f"ledger.url {redact(url)} is PostgreSQL: install aigw[postgres] (asyncpg)"
        ) from None
    return PostgresLedger(url)
