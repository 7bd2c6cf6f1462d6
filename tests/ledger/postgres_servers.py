"""PostgreSQL for the ledger tests: the machine's server (a schema of its own per test, in the
database `test`), or a private server a test starts, stops and starts again (outages).

The machine's server on 127.0.0.1:5432 is required under CI=true; elsewhere its absence skips
these tests loudly.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

SHARED = os.environ.get("AIGW_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")
BINARIES = Path("/usr/lib/postgresql/15/bin")


def _skip_or_fail(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: PostgreSQL is required)")
    print(f"\n*** SKIPPING: {message} ***", file=sys.stderr)
    pytest.skip(message)


async def _run(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(url, timeout=3)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextlib.contextmanager
def shared_schema() -> Iterator[str]:
    """A fresh schema in the machine's `test` database; yields a URL whose tables go there."""
    schema = f"ledger_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_run(SHARED, f"CREATE SCHEMA {schema}"))
    except (OSError, asyncpg.PostgresError) as error:
        _skip_or_fail(f"PostgreSQL is not reachable at {SHARED} ({error})")
    try:
        yield f"{SHARED}?search_path={schema}"
    finally:
        asyncio.run(_run(SHARED, f"DROP SCHEMA {schema} CASCADE"))


def fetch(url: str, sql: str) -> list[dict[str, object]]:
    async def rows() -> list[dict[str, object]]:
        connection = await asyncpg.connect(url, timeout=3)
        try:
            return [dict(row) for row in await connection.fetch(sql)]
        finally:
            await connection.close()

    return asyncio.run(rows())


@dataclass
class PrivateServer:
    """A PostgreSQL server of the test's own, in a temporary directory, on `port`."""

    directory: Path
    port: int
    password: str | None = None  # set: the server asks for it (scram-sha-256), else trust

    @property
    def url(self) -> str:
        user = "postgres" if self.password is None else f"postgres:{self.password}"
        return f"postgresql://{user}@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *arguments: str) -> None:
        command = [str(BINARIES / "pg_ctl"), "-D", str(self.directory / "data"), *arguments]
        subprocess.run(_as_postgres(command), check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        self._ctl("-w", "-l", str(self.directory / "log"), "-o", options, "start")

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextlib.contextmanager
def private_server(port: int, password: str | None = None) -> Iterator[PrivateServer]:
    """A server of the test's own; with `password`, one that refuses any other."""
    initdb = BINARIES / "initdb"
    if not initdb.exists() or (os.geteuid() == 0 and not shutil.which("runuser")):
        _skip_or_fail(f"no PostgreSQL binaries at {BINARIES}: the outage test cannot run")
    directory = Path(tempfile.mkdtemp(prefix="aigw-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    command = [str(initdb), "-D", str(directory / "data"), "-U", "postgres", "-A", "trust"]
    if password is not None:
        (directory / "password").write_text(password + "\n")
        if os.geteuid() == 0:
            shutil.chown(directory / "password", "postgres", "postgres")
        command[-1] = "scram-sha-256"
        command.append(f"--pwfile={directory / 'password'}")
    subprocess.run(_as_postgres(command), check=True, capture_output=True, timeout=120)
    server = PrivateServer(directory, port, password)
    server.start()
    try:
        yield server
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)
