"""The writer's batches: records wait for `flush-interval` (or a full batch), and a gateway
that stops writes what it still holds before it exits."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

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
