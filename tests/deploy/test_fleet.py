"""The chart's pods as real processes: two replicas of the rendered container command, each
with its workers, the ConfigMap laid out as the kubelet mounts it (and updates it on an
upgrade) and the Secret as files, sharing the real Redis; and `aigw check` on what the chart
rendered, as the gate before it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import REDIS_URL, REPO, clear_of_window_edge, require_redis
from tests.deploy.chart import (
    Manifest,
    container_command,
    example_values,
    lay_out_config_map,
    one,
    render,
)
from tests.proxy.processes import free_port, stop, wait_for_workers, wait_until_up

SUBSCRIPTION_KEY = "k-fleet-team"
ADMIN_KEY = "adm-fleet-4471"
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}  # what the ServiceMonitor's Prometheus sends


def fleet_values(secrets: Path, counter: str, calls: int = 6) -> dict[str, Any]:
    values = example_values("mock")
    values["gateway"]["apis"]["mock"]["subscription-required"] = True
    values["gateway"]["subscriptions"] = {
        "team": {"scope": "all-apis", "primary-key": f"${{file:{secrets}/team-key}}"}
    }
    values["policies"]["files"]["global.xml"] = (
        f'<policies><inbound><rate-limit-by-key calls="{calls}" renewal-period="60" '
        f'counter-key="{counter}" /></inbound></policies>\n'
    )
    return {
        **values,
        "workers": 2,
        "secretsPath": str(secrets),
        "secrets": {"values": {"team-key": SUBSCRIPTION_KEY}},
        "redis": {"enabled": True, "url": REDIS_URL},
        "adminKey": {"value": ADMIN_KEY, "mountPath": str(secrets.parent / "admin")},
        # The ledger's file on the pod's data emptyDir: here a folder of the test's.
        "ledger": {"sqlitePath": str(secrets.parent / "data" / "ledger.sqlite")},
        "serviceMonitor": {"enabled": True},
    }


def lay_out_pod(manifests: list[Manifest], root: Path, version: str = "2026_12_07_00") -> Path:
    """What a pod sees: the policies ConfigMap as the kubelet mounts it (or updates it, with a
    new `version`), each Secret's keys as files where its volume is mounted (the admin key's
    under the name its volume's items give it). Returns the policies directory."""
    spec = one(manifests, "Deployment")["spec"]["template"]["spec"]
    mounts = {m["name"]: Path(m["mountPath"]) for m in spec["containers"][0]["volumeMounts"]}
    for source in (v for v in spec["volumes"] if "secret" in v):
        data = one(manifests, "Secret", source["secret"]["secretName"])["stringData"]
        items = source["secret"].get("items") or [{"key": key, "path": key} for key in data]
        mounts[source["name"]].mkdir(parents=True, exist_ok=True)
        for item in items:
            (mounts[source["name"]] / item["path"]).write_text(data[item["key"]])
    config_map = one(manifests, "ConfigMap")
    (volume,) = [v for v in spec["volumes"] if v["name"] == "policies"]
    gateway = yaml.safe_load(config_map["data"]["gateway.yaml"])
    Path(gateway["ledger"]["url"]).parent.mkdir(exist_ok=True)  # the emptyDir, there at start
    config_map = {"data": {**config_map["data"], "gateway.yaml": yaml.safe_dump(gateway)}}
    (root / "policies").mkdir(exist_ok=True)
    policies = lay_out_config_map(config_map, volume, root / "policies", version)
    return policies


@contextmanager
def pod(manifests: list[Manifest], policies: Path) -> Iterator[tuple[str, str]]:
    """One replica: the rendered container command, on free loopback ports; yields its
    traffic and admin base URLs."""
    port, admin = free_port(), free_port()
    command = container_command(manifests, policies, {8080: port, 9090: admin})
    log = tempfile.TemporaryFile()  # noqa: SIM115 - kept for the process's life
    process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/-/health", process)
        wait_for_workers(f"http://127.0.0.1:{admin}", 2, process, ADMIN)
        assert httpx.get(f"http://127.0.0.1:{admin}/-/ready").status_code == 200  # no key
        yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}"
    finally:
        stop(process)
        log.close()


def versions(admin: str) -> set[str]:
    """The versions every worker of one replica serves (a worker reloads on its own watch)."""
    answer = httpx.get(f"{admin}/-/workers", headers=ADMIN, timeout=10).json()
    return {str(worker.get("status", {}).get("version")) for worker in answer["workers"]}


def test_replicas_of_the_chart_share_one_rate_limit_and_reload_an_upgrade(tmp_path: Path) -> None:
    require_redis()
    clear_of_window_edge()
    secrets, counter = tmp_path / "secrets", f"fleet-{uuid.uuid4().hex}"
    manifests = render(fleet_values(secrets, counter))
    policies = lay_out_pod(manifests, tmp_path)
    with ExitStack() as stack:
        replicas = [stack.enter_context(pod(manifests, policies)) for _ in range(2)]
        calls = [f"{base}/mock/chat/completions" for base, _ in replicas] * 5

        # The admin key guards /metrics: Prometheus's scrape, with the key the ServiceMonitor
        # names in the chart's Secret, gets in; one without it gets 401. The probes stay open.
        (endpoint,) = one(manifests, "ServiceMonitor")["spec"]["endpoints"]
        reference = endpoint["authorization"]["credentials"]
        credential = one(manifests, "Secret", reference["name"])["stringData"][reference["key"]]
        for base, admin in replicas:
            scraped = httpx.get(
                f"{admin}/metrics", headers={"Authorization": f"Bearer {credential}"}
            )
            assert scraped.status_code == 200 and "# TYPE" in scraped.text
            assert httpx.get(f"{admin}/metrics").status_code == 401
            assert (
                httpx.get(f"{admin}/metrics", headers={"Authorization": "Bearer no"}).status_code
                == 401
            )
            assert httpx.get(f"{admin}/-/ready").status_code == 200
            assert httpx.get(f"{base}/-/health").status_code == 200

        def post(url: str, key: str = SUBSCRIPTION_KEY) -> int:
            body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
            return httpx.post(
                url, json=body, headers={"Authorization": f"Bearer {key}"}
            ).status_code

        assert post(calls[0], "not-the-key") == 401  # the key is the Secret's file
        with ThreadPoolExecutor(4) as threads:
            statuses = list(threads.map(post, calls))
        assert sorted(statuses) == [200] * 6 + [429] * 4  # 10 calls, 6 allowed across both

        # `helm upgrade` with a higher limit: the kubelet swaps the ConfigMap in, every pod
        # reloads it (reload.watch), none restarts, and the shared count goes on.
        before = [versions(admin) for _, admin in replicas]
        lay_out_pod(render(fleet_values(secrets, counter, calls=12)), tmp_path, "2026_12_07_01")

        def reloaded() -> bool:  # every worker of every replica serves a version it did not
            return all(
                not versions(admin) & old for (_, admin), old in zip(replicas, before, strict=True)
            )

        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and not reloaded():
            time.sleep(0.2)
        assert reloaded()
        with ThreadPoolExecutor(4) as threads:
            statuses = list(threads.map(post, calls))
    # 12 in all now, the 6 counted before included (refused calls are not counted): 6 more.
    assert sorted(statuses) == [200] * 6 + [429] * 4


def test_aigw_check_gates_what_the_chart_rendered(tmp_path: Path) -> None:
    require_redis()
    manifests = render(fleet_values(tmp_path / "secrets", "unused"))
    policies = lay_out_pod(manifests, tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check", str(policies)],
        cwd=REPO,
        env=os.environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("ok    redis stores.default  ")
    assert REDIS_URL.split("://")[1].split("/")[0] in lines[0]
    assert lines[1].startswith("ok    sqlite ledger.url  ")  # the pod's file, in its folder


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pods get their secrets from files only."""
    for name in ("OPENAI_API_KEY", "AIGW_STARTER_KEY"):
        monkeypatch.delenv(name, raising=False)
