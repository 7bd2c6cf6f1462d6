"""The worker processes of one `aigw run`, and how any one of them asks all of them.

Workers share the admin listener's socket, so a scrape or a reload lands on whichever worker
the kernel picks; that worker answers for the group. Each worker also serves the worker
routes (`/-/worker/...`, never on a TCP port) on a Unix socket of its own, `<pid>.sock` in a
directory the serving process makes before it forks; `Fleet.ask_all` sends one request to
every socket there, the asking worker's own included, and gathers the answers.

Why sockets and not shared memory (prometheus_client's multiprocess files, say): a request
keeps updating plain in-process dictionaries, the cheapest thing there is; the sums are read
exactly and at the moment of the scrape; and a reload, which must run in each process and
report back, travels the same way.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

WORKER_PREFIX = "/-/worker/"  # the routes served only on the workers' Unix sockets
ASK_TIMEOUT = 30.0  # seconds a worker may take to answer (a reload compiles a directory)


@dataclass(frozen=True, slots=True)
class Answer:
    """One worker's answer: its JSON body, or why it could not be had."""

    pid: int
    status: int  # 0: no answer
    body: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300


def make_directory() -> Path:
    """The group's directory of worker sockets, made once before the workers start."""
    return Path(tempfile.mkdtemp(prefix="aigw-workers-"))


def remove_directory(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def socket_of(directory: Path, pid: int) -> Path:
    return directory / f"{pid}.sock"


def bind_worker_socket(directory: Path) -> socket.socket:
    """This process's own socket in the group's directory (call it in the worker)."""
    path = socket_of(directory, os.getpid())
    path.unlink(missing_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    return listener


def forget_worker(directory: Path, pid: int) -> None:
    """A worker has exited: no one should ask it again."""
    socket_of(directory, pid).unlink(missing_ok=True)


class Fleet:
    """The workers serving one `aigw run`, as seen from one of them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def pids(self) -> list[int]:
        return sorted(
            int(path.stem) for path in self.directory.glob("*.sock") if path.stem.isdigit()
        )

    async def ask_all(
        self, method: str, route: str, payload: Any = None, timeout: float = ASK_TIMEOUT
    ) -> list[Answer]:
        """Send `method WORKER_PREFIX+route` to every worker at once; answers in pid order."""
        pids = self.pids()
        return list(
            await asyncio.gather(*(self._ask(pid, method, route, payload, timeout) for pid in pids))
        )

    async def _ask(self, pid: int, method: str, route: str, payload: Any, timeout: float) -> Answer:
        connector = aiohttp.UnixConnector(path=str(socket_of(self.directory, pid)))
        try:
            async with (
                aiohttp.ClientSession(
                    connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
                ) as session,
                session.request(
                    method, f"http://worker{WORKER_PREFIX}{route}", json=payload
                ) as response,
            ):
                body = await response.json(content_type=None)
                return Answer(pid, response.status, body)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            return Answer(pid, 0, error=f"{type(error).__name__}: {error}".rstrip(": "))
