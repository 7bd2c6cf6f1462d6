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
