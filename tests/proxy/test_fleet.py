"""The process group of `aigw run --workers N`: each worker reachable by its siblings."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.proxy.processes import children_of, free_port, start_gateway, stop


def gateway_yaml(root: Path) -> Path:
    (root / "gateway.yaml").write_text(
        """
backends:
  fake: {url: "http://127.0.0.1:9/v1"}
apis:
  llm: {path: llm, style: openai, backend: fake, subscription-required: false}
"""
    )
    return root


def listed_workers(admin: str) -> tuple[int, list[dict[str, object]]]:
    answer = httpx.get(f"{admin}/-/workers", timeout=10)
    return answer.status_code, answer.json()["workers"]


def test_every_worker_answers_through_whichever_worker_takes_the_admin_call(
    tmp_path: Path,
) -> None:
    port, admin_port = free_port(), free_port()
    server = start_gateway(gateway_yaml(tmp_path), port, None, admin_port, "--workers", "3")
    admin = f"http://127.0.0.1:{admin_port}"
    try:
        workers = sorted(children_of(server.pid))
        assert len(workers) == 3
        for _ in range(6):  # whichever worker the kernel hands the call to, all three answer
            status, listed = listed_workers(admin)
            assert status == 200
            assert [entry["pid"] for entry in listed] == workers
            assert all(entry["ok"] and entry["status"]["pid"] == entry["pid"] for entry in listed)

        # A worker killed outright is replaced; the group lists the new one, not the dead one.
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            status, listed = listed_workers(admin)
            pids = [entry["pid"] for entry in listed]
            if status == 200 and len(pids) == 3 and workers[0] not in pids:
                break  # (a worker still starting is listed, not yet ok: 503 until it serves)
            time.sleep(0.2)
        assert status == 200, listed
        assert workers[0] not in pids and len(pids) == 3
        assert sorted(pids) == sorted(children_of(server.pid))
    finally:
        stop(server)
    assert server.returncode == 0


def test_a_single_process_is_a_group_of_one(tmp_path: Path) -> None:
    port, admin_port = free_port(), free_port()
    server = start_gateway(gateway_yaml(tmp_path), port, None, admin_port)
    try:
        status, listed = listed_workers(f"http://127.0.0.1:{admin_port}")
        assert status == 200
        assert [entry["pid"] for entry in listed] == [server.pid]
    finally:
        stop(server)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_workers_directory_is_removed_when_the_gateway_stops(
    tmp_path: Path, workers: int
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    env = dict(os.environ, TMPDIR=str(temporary))
    server = start_gateway(
        gateway_yaml(tmp_path), free_port(), env, free_port(), "--workers", str(workers)
    )
    try:
        (directory,) = temporary.glob("aigw-workers-*")
        assert len(list(directory.glob("*.sock"))) == workers
    finally:
        stop(server)  # SIGTERM
    assert server.returncode in (0, -signal.SIGTERM)
    assert list(temporary.iterdir()) == []
