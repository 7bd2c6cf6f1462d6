"""The ledger's database, unless `ledger.enabled: false`.

SQLite (the default file DIR.ledger.sqlite beside the policies directory, or `ledger.url`'s
path): the file opens and is a ledger no newer than this aigw, or it does not exist yet and
its folder is writable. The gateway applies SQLite's migrations itself at start, so a file
not yet migrated answers. PostgreSQL: a connection with the real credentials, the server's
version, and the schema at the current migration with the right to insert; the gateway never
creates that schema (its user may have no right to), so a missing or older one fails and says
to run `aigw ledger migrate DIR`. A URL is shown without its password.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from gateway.checks.probe import Checked, Found, Probe, Reach, Secrets
from gateway.ledger.databases import ledger_url
from gateway.ledger.schema import LATEST, MIGRATIONS_TABLE, TABLE
from gateway.ledger.urls import redact


def ledger_probes(checked: Checked) -> list[Probe]:
    settings = checked.config.ledger
    if not settings.enabled:
        return []
    raw = "" if settings.url is None else settings.url.raw.strip()
    if raw.startswith(("postgresql://", "postgres://")):
        kind = "postgresql"
    elif settings.url is None or not settings.url.is_reference:
        kind = "sqlite"
    else:  # which database a reference names is known once it is read
        kind = "database"
    where = "ledger.url" if settings.url is not None else "ledger (default)"
    return [Probe(f"{kind} {where}", _reacher(checked))]


def _reacher(checked: Checked) -> Reach:
    async def reach(secrets: Secrets, timeout: float) -> Found:
        url = ledger_url(checked.config, checked.root)
        assert url is not None  # enabled: ledger_probes asked
        if url.startswith("sqlite:///"):
            return await asyncio.to_thread(_sqlite, Path(url.removeprefix("sqlite:///")))
        for password in _passwords(url):
            secrets.use(password)
        return await _postgres(url, checked.root, timeout)

    return reach


def _passwords(url: str) -> list[str]:
    """The password a PostgreSQL URL holds, as written and decoded, in userinfo or query."""
    parts = urlsplit(url)
    found = [parts.password or "", *parse_qs(parts.query).get("password", [])]
    return [form for value in found for form in (value, unquote(value)) if form]


def _sqlite(path: Path) -> Found:
    shown = f"sqlite:///{path} (SQLite {sqlite3.sqlite_version})"
    folder = path.parent
    if not path.exists():
        if not folder.is_dir():
            return Found(False, f"{shown}: its folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            return Found(False, f"{shown}: cannot create it, its folder {folder} is not writable")
        return Found(True, f"{shown}: not there yet; the gateway creates it at start")
    # WAL mode writes DIR.ledger.sqlite-wal and -shm beside the file: the folder too.
    if not os.access(path, os.W_OK) or not os.access(folder, os.W_OK | os.X_OK):
        return Found(False, f"{shown}: the file or its folder is not writable")
    try:
        # mode=rw: a file that vanished since is an error, never an empty one made here.
        connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5)
        try:
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            version = None
            if MIGRATIONS_TABLE in tables:
                query = f"SELECT max(version) FROM {MIGRATIONS_TABLE}"
                version = connection.execute(query).fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error as error:
        return Found(False, f"{shown}: {type(error).__name__}: {error}")
    return _judged(shown, version, TABLE in tables, migrate=None)


async def _postgres(url: str, root: Path, timeout: float) -> Found:
    shown = redact(url)
    try:
        import asyncpg
    except ImportError:  # asyncpg is the `postgres` extra
        return Found(False, f"{shown}: PostgreSQL needs aigw[postgres] (asyncpg) installed")
    try:
        connection: Any = await asyncpg.connect(url, timeout=timeout)
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        return Found(False, f"{shown}: {type(error).__name__}: {error}")
    try:
        server = connection.get_settings().server_version.split()[0]  # "15.20 (Debian ...)"
        shown = f"{shown} (PostgreSQL {server})"
        # to_regclass: the table as the URL's search_path finds it, NULL when it is not there.
        migrations, table = await connection.fetchrow(
            f"SELECT to_regclass('{MIGRATIONS_TABLE}'), to_regclass('{TABLE}')"
        )
        version = None
        if migrations is not None:
            version = await connection.fetchval(f"SELECT max(version) FROM {MIGRATIONS_TABLE}")
        if table is not None and not await connection.fetchval(
            f"SELECT has_table_privilege('{TABLE}', 'INSERT')"
        ):
            return Found(False, f"{shown}: this user may not insert into {TABLE}")
    finally:
        await connection.close(timeout=timeout)
    return _judged(shown, version, table is not None, migrate=f"aigw ledger migrate {root}")


def _judged(shown: str, version: int | None, table: bool, *, migrate: str | None) -> Found:
    """The schema's verdict; `migrate` is the command that brings it up to date, None when the
    gateway does it at start (SQLite)."""
    if version is not None and version > LATEST:
        return Found(
            False, f"{shown}: at migration {version}, newer than this aigw's {LATEST}: upgrade it"
        )
    if version == LATEST and table:
        return Found(True, f"{shown}: the ledger's schema at migration {LATEST}")
    if migrate is None:
        return Found(True, f"{shown}: the gateway migrates it to {LATEST} at start")
    if version is None:
        return Found(False, f"{shown}: the ledger's tables are missing: run '{migrate}'")
    return Found(False, f"{shown}: at migration {version} of {LATEST}: run '{migrate}'")
