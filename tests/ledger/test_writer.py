"""The writer's batches: records wait for `flush-interval` (or a full batch), and a gateway
that stops writes what it still holds before it exits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from gateway.config.settings import Ledger
from gateway.ledger.writer import LedgerWriter
from tests.ledger.directories import KEY, rows_of, wait_for_rows, write_directory
from tests.proxy.processes import fake_provider, free_port, start_gateway, stop

CALL = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def calls(port: int, count: int) -> None:
    url = f"http://127.0.0.1:{port}/chat/chat/completions"
    with httpx.Client(headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client:
        for _ in range(count):
            assert client.post(url, json=CALL).status_code == 200


def test_a_full_batch_is_written_at_once_and_the_rest_when_the_gateway_stops(
    tmp_path: Path,
) -> None:
    provider_port, port = free_port(), free_port()
    url = f"sqlite:///{tmp_path / 'batches.ledger.sqlite'}"
    root = tmp_path / "policies"
    root.mkdir()
    write_directory(root, provider_port, url)
    settings = (root / "gateway.yaml").read_text().replace("flush-interval: 0.1", "")
    (root / "gateway.yaml").write_text(settings + "  flush-interval: 60\n  batch-size: 10\n")
    with fake_provider(provider_port):
        gateway = start_gateway(root, port)
        try:
            calls(port, 3)
            time.sleep(1)
            assert rows_of(url) == [], "three records wait for the interval"
            calls(port, 9)  # the tenth record fills a batch: written now, not in a minute
            assert len(wait_for_rows(url, 10, timeout=10)) == 10
        finally:
            stop(gateway)  # SIGTERM: the two records left are written before it exits
    assert len(rows_of(url)) == 12


def test_a_reload_keeps_the_writer_or_closes_it_and_no_record_is_lost_or_doubled(
    tmp_path: Path,
) -> None:
    provider_port, port, admin = free_port(), free_port(), free_port()
    url = f"sqlite:///{tmp_path / 'reloads.ledger.sqlite'}"
    root = tmp_path / "policies"
    root.mkdir()
    write_directory(root, provider_port, url)
    config = root / "gateway.yaml"
    settings = config.read_text().replace("flush-interval: 0.1", "flush-interval: 60")
    config.write_text(settings)
    with fake_provider(provider_port):
        gateway = start_gateway(root, port, None, admin)
        try:
            calls(port, 2)  # held by the writer: its interval is a minute
            config.write_text(settings + "# an unrelated change\n")
            assert httpx.post(f"http://127.0.0.1:{admin}/-/reload").status_code == 200
            calls(port, 2)
            assert rows_of(url) == [], "the same writer still holds all four"
            config.write_text(settings.replace("flush-interval: 60", "flush-interval: 30"))
            assert httpx.post(f"http://127.0.0.1:{admin}/-/reload").status_code == 200
            assert len(wait_for_rows(url, 4, timeout=10)) == 4  # the old writer, closed, wrote
            calls(port, 1)
        finally:
            stop(gateway)
    rows = rows_of(url)
    assert len(rows) == 5 and len({row["request_id"] for row in rows}) == 5


class Batches:
    """A database that keeps each batch it is given, or fails while `down`."""

    dialect = "sqlite"
    described = "batches"

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.down = False

    async def write(self, records: Sequence[Any]) -> None:
        if self.down:
            raise OSError("down")
        self.batches.append(list(records))


class Dropped:
    def __init__(self) -> None:
        self.count = 0.0

    def add(self, namespace: str, name: str, value: float, dimensions: Any) -> None:
        assert (namespace, name) == ("aigw", "ledger_dropped")
        self.count += value


def writer(database: Batches, buffer_limit: int, batch_size: int) -> tuple[LedgerWriter, Dropped]:
    dropped = Dropped()
    settings = Ledger(batch_size=batch_size, buffer_limit=buffer_limit)
    return LedgerWriter(database, settings, dropped), dropped  # type: ignore[arg-type]


def test_a_flush_writes_in_batches_in_order_and_keeps_what_a_failure_left() -> None:
    database = Batches()
    ledger, dropped = writer(database, buffer_limit=100, batch_size=4)
    ledger.queue.extend(range(10))
    database.down = True
    asyncio.run(ledger.flush())  # nothing written: all ten kept, none dropped
    assert (database.batches, list(ledger.buffer), list(ledger.queue)) == ([], [*range(10)], [])
    ledger.queue.extend(range(10, 12))
    database.down = False
    asyncio.run(ledger.flush())
    assert database.batches == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert not ledger.buffer and dropped.count == 0
    ledger.queue.extend(range(12, 15))  # one batch, the whole buffer
    asyncio.run(ledger.flush())
    assert database.batches[-1] == [12, 13, 14] and not ledger.buffer


def test_records_beyond_the_buffer_limit_are_dropped_the_first_kept() -> None:
    database = Batches()
    ledger, dropped = writer(database, buffer_limit=5, batch_size=100)
    database.down = True
    ledger.queue.extend(range(3))
    asyncio.run(ledger.flush())
    ledger.queue.extend(range(3, 7))  # room for two of the four
    asyncio.run(ledger.flush())
    assert (list(ledger.buffer), dropped.count) == ([0, 1, 2, 3, 4], 2)
    ledger.queue.extend(range(7, 9))  # no room: both dropped
    asyncio.run(ledger.flush())
    assert (list(ledger.buffer), list(ledger.queue), dropped.count) == ([*range(5)], [], 4)
    database.down = False
    asyncio.run(ledger.flush())
    assert database.batches == [[0, 1, 2, 3, 4]] and dropped.count == 4
