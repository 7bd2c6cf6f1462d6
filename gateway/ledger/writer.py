"""The ledger's writer: records are queued on the request path and written in batches by a
task of their own, so that writing never slows or fails a request.

- `record` only appends to a bounded queue (no I/O, no await); a full queue drops the record
  and counts it (`aigw.ledger_dropped`).
- The writer takes what is queued into its buffer and writes it in batches of `batch-size`,
  once `flush-interval` has passed or a batch is full.
- While the database is away the buffer keeps up to `buffer-limit` records (more are
  dropped, counted) and one line is logged; the writer tries again every interval, and logs
  one line when the database is back and what was kept is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from itertools import islice
from pathlib import Path

from gateway.config.settings import GatewayConfig, Ledger
from gateway.ledger.databases import Database, ledger_url, open_database
from gateway.ledger.record import Record, record_of
from gateway.runtime.context import Action, RequestContext
from gateway.runtime.services import Metrics

log = logging.getLogger("aigw.ledger")
CLOSE_TIMEOUT = 10.0  # seconds the last flush may take when the gateway stops


class LedgerWriter:
    def __init__(
        self,
        database: Database,
        settings: Ledger,
        metrics: Metrics | None,
        create_schema: bool = False,
    ) -> None:
        self.database = database
        self.create_schema = create_schema  # SQLite: the gateway makes its own file's tables
        self.metrics = metrics
        self.queue_size = settings.queue_size
        self.batch_size = settings.batch_size
        self.buffer_limit = settings.buffer_limit
        self.interval = settings.flush_interval
        self.queue: deque[Record] = deque()
        self.buffer: deque[Record] = deque()
        self.wake: asyncio.Event | None = None
        self.task: asyncio.Task[None] | None = None
        self.away = False  # the database failed the last write
        self.closing = False

    def record(self, record: Record) -> None:
        """Queue a record (the request path: no I/O, never raises for a full queue)."""
        if len(self.queue) >= self.queue_size:
            self._drop(1)
            return
        self.queue.append(record)
        if self.task is None:
            self.wake = asyncio.Event()
            self.task = asyncio.get_running_loop().create_task(self._run())
        elif len(self.queue) >= self.batch_size and self.wake is not None:
            self.wake.set()

    def action(self, status: int, headers: list[tuple[str, str]]) -> Action:
        """A DONE action that records the request, which ended with `status` and `headers`."""

        def record_call(context: RequestContext) -> None:
            self.record(record_of(context, status, headers))

        return record_call

    async def _run(self) -> None:
        if self.create_schema and not await self._migrated():
            return
        assert self.wake is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.interval)
            self.wake.clear()
            await self.flush()
            if self.closing:  # the flush after close() woke it was the last
                return

    async def _migrated(self) -> bool:
        """The schema, before the first write: tried until it works (False: closed first)."""
        while not self.closing:
            try:
                await self.database.migrate()
                return True
            except Exception as error:
                self._went_away(error)
                await asyncio.sleep(self.interval)
        return False

    async def flush(self) -> None:
        """Write what is queued, batch by batch; on a failure keep it for the next try."""
        # The queue into the buffer, up to its limit, the rest dropped: whole deques at a time
        # (C loops), not a Python step per record.
        room = max(self.buffer_limit - len(self.buffer), 0)
        if len(self.queue) > room:
            self._drop(len(self.queue) - room)
            self.buffer.extend(islice(self.queue, room))
        else:
            self.buffer.extend(self.queue)
        self.queue.clear()
        while self.buffer:
            batch = list(islice(self.buffer, self.batch_size))
            try:
                await self.database.write(batch)
            except Exception as error:
                self._went_away(error)
                return
            if len(batch) == len(self.buffer):
                self.buffer.clear()  # the usual case: the whole buffer was one batch
            else:
                for _ in batch:
                    self.buffer.popleft()
            if self.away:
                self.away = False
                log.warning(
                    "ledger: the database %s is back; the records kept are being written",
                    self.database.described,
                )

    def _went_away(self, error: Exception) -> None:
        if not self.away:
            self.away = True
            log.warning(
                "ledger: cannot write to %s (%s: %s); keeping up to %d records until it is back",
                self.database.described,
                type(error).__name__,
                error,
                self.buffer_limit,
            )

    def _drop(self, count: int) -> None:
        if self.metrics is not None:
            self.metrics.add("aigw", "ledger_dropped", count, {})

    async def close(self) -> None:
        """Stop the writer once it has written what is left (for a while), close the database.
        The writer is not cancelled in the middle of a write: a batch the database took but
        the writer never heard of would be written twice."""
        self.closing = True
        if self.task is not None and self.wake is not None:
            self.wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(self.task), CLOSE_TIMEOUT)
            except TimeoutError:
                self.task.cancel()
        left = len(self.queue) + len(self.buffer)
        if left:
            log.warning("ledger: %d records could not be written before the gateway stopped", left)
        with contextlib.suppress(Exception):
            await self.database.close()


def ledger_writer(
    config: GatewayConfig, root: Path, metrics: Metrics | None
) -> LedgerWriter | None:
    """The writer gateway.yaml's `ledger` asks for (None: it is off). Nothing connects yet."""
    url = ledger_url(config, root)
    if url is None:
        return None
    database = open_database(url)
    return LedgerWriter(
        database, config.ledger, metrics, create_schema=database.dialect == "sqlite"
    )
