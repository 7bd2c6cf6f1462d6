"""Subscriptions in a JSON file, for one process or the workers of one: persisted, so a
restart keeps them. Writers take an exclusive lock and replace the file whole (a new inode),
so readers never see half a file and the version (inode, size, time) changes with every write.
The audit log is a JSON-lines file beside it."""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from gateway.tenants.record import Tenant
from gateway.tenants.store import StoreUnavailable

Result = TypeVar("Result")
AUDIT_TAIL = 1 << 20  # bytes read from the end of the audit file for the latest entries


class FileTenants:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)
        self.audit_path = path.with_name(path.stem + ".audit.jsonl")
        self._lock_path = path.with_name(path.name + ".lock")

    async def version(self) -> str:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return "absent"
        except OSError as error:
            raise StoreUnavailable(f"{self.path}: {error.strerror}") from error
        return f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"

    async def load(self) -> dict[str, Tenant]:
        return await self._in_thread(self._read)

    async def swap(self, id: str, old: Tenant | None, new: Tenant | None) -> bool:
        def swap_locked() -> bool:
            with self._locked():
                records = self._read()
                if records.get(id) != old:
                    return False
                if new is None:
                    records.pop(id, None)
                else:
                    records[id] = new
                self._write(records)
                return True

        return await self._in_thread(swap_locked)

    async def audit(self, entry: str) -> None:
        def append() -> None:
            with self._locked(), self.audit_path.open("a", encoding="utf-8") as file:
                file.write(entry + "\n")

        await self._in_thread(append)

    async def audit_log(self, limit: int) -> list[str]:
        def tail() -> list[str]:
            try:
                with self.audit_path.open("rb") as file:
                    file.seek(max(0, file.seek(0, os.SEEK_END) - AUDIT_TAIL))
                    lines = file.read().decode("utf-8", "replace").splitlines()
            except FileNotFoundError:
                return []
            return [line for line in reversed(lines) if line.startswith("{")][:limit]

        return await self._in_thread(tail)

    async def close(self) -> None:
        return None

    def _read(self) -> dict[str, Tenant]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        stored = json.loads(text)["subscriptions"]
        return {id: Tenant(**fields) for id, fields in stored.items()}

    def _write(self, records: dict[str, Tenant]) -> None:
        body = {"subscriptions": {id: json.loads(t.encode()) for id, t in sorted(records.items())}}
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        with temporary.open("w", encoding="utf-8") as file:
            json.dump(body, file, indent=1)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, self.path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock_path.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    async def _in_thread(self, work: Callable[[], Result]) -> Result:
        try:
            return await asyncio.to_thread(work)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise StoreUnavailable(f"{self.path}: {error}") from error
