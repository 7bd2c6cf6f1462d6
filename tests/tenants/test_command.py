"""`aigw subscriptions` against a running gateway: the same admin API from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gateway.tenants.command import COLUMNS
from tests.proxy.admin_gateways import ADMIN_KEY, status_with, write_directory
from tests.proxy.processes import REPO, free_port, start_gateway, stop


def aigw(admin_url: str, *arguments: str, key: str = ADMIN_KEY) -> subprocess.CompletedProcess:
    env = {**os.environ, "AIGW_ADMIN_KEY": key}
    command = [sys.executable, "-m", "gateway.cli", "subscriptions", "--admin", admin_url]
    return subprocess.run(
        [*command, *arguments], cwd=REPO, env=env, capture_output=True, text=True, timeout=30
    )


def test_create_use_suspend_and_audit_from_the_command_line(tmp_path: Path) -> None:
    root = write_directory(tmp_path / "policies")
    port, admin_port = free_port(), free_port()
    env = {**os.environ, "AIGW_TEST_ADMIN_KEY": ADMIN_KEY}
    gateway = start_gateway(root, port, env, admin_port)
    admin_url, traffic = f"http://127.0.0.1:{admin_port}", f"http://127.0.0.1:{port}"
    try:
        created = aigw(admin_url, "create", "--scope", "product/starter", "--id", "team-c")
        assert created.returncode == 0, created.stderr
        key = created.stdout.split("primaryKey: ")[1].split()[0]
        assert "shown this once" in created.stderr
        assert status_with(traffic, key) == 200
        assert aigw(admin_url, "suspend", "team-c").returncode == 0
        assert status_with(traffic, key) == 401
        listed = aigw(admin_url, "list").stdout.splitlines()
        assert listed[0].split() == list(COLUMNS)
        assert listed[2].split()[:4] == ["team-c", "suspended", "product/starter", "admin"]
        assert key not in "\n".join(listed)
        audit = aigw(admin_url, "audit").stdout.splitlines()
        assert [line.split()[1] for line in audit] == ["suspend", "create"]
        assert "(aigw subscriptions) from 127.0.0.1" in audit[0]
        refused = aigw(admin_url, "reactivate", "fixed")
        assert refused.returncode == 1
        assert "409: fixed is defined in gateway.yaml" in refused.stderr
        wrong = aigw(admin_url, "list", key="not-the-key-4711")
        assert wrong.returncode == 1 and "401: the admin key is wrong" in wrong.stderr
        assert "4711" not in wrong.stderr
    finally:
        stop(gateway)


def test_no_admin_key_no_call() -> None:
    env = {k: v for k, v in os.environ.items() if k != "AIGW_ADMIN_KEY"}
    answer = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "subscriptions", "list"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert answer.returncode == 2
    assert "set AIGW_ADMIN_KEY or --admin-key-file" in answer.stderr
