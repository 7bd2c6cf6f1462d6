"""The ledger's database stops under load and starts again: no request fails or waits for
it, and every record made meanwhile (fewer than `buffer-limit`) is written once it is back,
with one log line when it went and one when it came back. The server is a private
PostgreSQL the test starts, stops and starts again."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.ledger.directories import KEY, migrate, wait_for_rows, write_directory
from tests.ledger.postgres_servers import private_server
from tests.proxy.processes import fake_provider, free_port, output_of, start_gateway, stop

BUFFER_LIMIT = 20_000


def test_records_made_while_the_database_is_away_are_written_when_it_is_back(
    tmp_path: Path,
) -> None:
    provider_port, port = free_port(), free_port()
    with private_server(free_port()) as database, fake_provider(provider_port):
        root = tmp_path / "policies"
        root.mkdir()
        write_directory(root, provider_port, database.url, f"  buffer-limit: {BUFFER_LIMIT}")
        migrate(root)
        gateway = start_gateway(root, port)
        answered: list[str] = []
        failures: list[str] = []
        running = threading.Event()
        running.set()

        def call_repeatedly() -> None:
            url = f"http://127.0.0.1:{port}/chat/chat/completions"
            body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
            with httpx.Client(headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client:
                while running.is_set():
                    reply = client.post(url, json=body)
                    if reply.status_code == 200:
                        answered.append(reply.headers["x-request-id"])
                    else:
                        failures.append(f"{reply.status_code} {reply.text}")

        callers = [threading.Thread(target=call_repeatedly) for _ in range(4)]
        try:
            for caller in callers:
                caller.start()
            time.sleep(1.5)
            before = len(answered)
            database.stop()
            stopped_at = len(answered)
            time.sleep(3)
            during = len(answered) - stopped_at
            database.start()
            time.sleep(1.5)
            running.clear()
            for caller in callers:
                caller.join()
            rows = wait_for_rows(database.url, len(answered), timeout=30)
        finally:
            running.clear()
            stop(gateway)
    assert failures == []
    assert before > 0 and during > 20, "calls went on while the database was away"
    assert len(answered) < BUFFER_LIMIT
    assert sorted(str(row["request_id"]) for row in rows) == sorted(answered)
    log = output_of(gateway)
    assert log.count("ledger: cannot write to postgresql://postgres@127.0.0.1") == 1, log[-3000:]
    assert log.count("ledger: the database postgresql://postgres@127.0.0.1") == 1


def test_records_beyond_the_buffer_limit_are_dropped_and_counted(tmp_path: Path) -> None:
    provider_port, port, admin = free_port(), free_port(), free_port()
    with private_server(free_port()) as database, fake_provider(provider_port):
        root = tmp_path / "policies"
        root.mkdir()
        write_directory(root, provider_port, database.url, "  buffer-limit: 5")
        migrate(root)
        gateway = start_gateway(root, port, None, admin)
        try:
            database.stop()
            url = f"http://127.0.0.1:{port}/chat/chat/completions"
            body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
            with httpx.Client(headers={"Authorization": f"Bearer {KEY}"}, timeout=10) as client:
                slowest = 0.0
                for _ in range(20):
                    started = time.monotonic()
                    assert client.post(url, json=body).status_code == 200
                    slowest = max(slowest, time.monotonic() - started)
                    time.sleep(0.05)  # the writer takes each into its buffer meanwhile
            dropped = _wait_for_dropped(f"http://127.0.0.1:{admin}/metrics", 15)
            database.start()
            rows = wait_for_rows(database.url, 5, timeout=30)
            time.sleep(0.5)  # no more come
            rows = wait_for_rows(database.url, 6, timeout=0)
        finally:
            stop(gateway)
    assert dropped == 15, "20 calls, 5 kept"
    assert len(rows) == 5
    assert slowest < 1.0, "no call waited for the database"


def _wait_for_dropped(metrics: str, count: int) -> float:
    deadline = time.monotonic() + 20
    while True:
        text = httpx.get(metrics).text
        dropped = [
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("aigw_ledger_dropped_total")
        ]
        if (dropped and dropped[0] >= count) or time.monotonic() > deadline:
            assert dropped, text
            return dropped[0]
        time.sleep(0.2)
