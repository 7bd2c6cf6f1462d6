"""A running gateway as integration tests read it: its access log and its /metrics."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gateway.telemetry.access_log import FLUSH_AFTER
from tests.proxy.processes import fake_provider, free_port, output_of, start_gateway, stop
from tests.proxy.prometheus import sample


@dataclass
class Gateway:
    base: str
    admin: str
    process: subprocess.Popen[bytes]

    def logged(self) -> int:
        """How many lines the access log has, once those of calls made so far are written."""
        time.sleep(FLUSH_AFTER + 0.1)
        return len(self.log())

    def log(self, at_least: int = 0) -> list[dict[str, Any]]:
        """The access log's lines so far, once there are `at_least` (written in batches)."""
        deadline = time.monotonic() + 5
        while True:
            output = output_of(self.process).splitlines()
            lines = [json.loads(line) for line in output if line.startswith("{")]
            if len(lines) >= at_least or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)

    def line_of(self, request_id: str) -> dict[str, Any]:
        """The access log's line of the request with that id, once it is written."""
        deadline = time.monotonic() + 5
        while True:
            found = [line for line in self.log() if line.get("request_id") == request_id]
            if found or time.monotonic() > deadline:
                assert found, f"no access log line for {request_id}"
                return found[0]
            time.sleep(0.05)

    def metric(self, name: str, **labels: str) -> float:
        """A series on /metrics, once it is there (a stream's is added after its last chunk)."""
        deadline = time.monotonic() + 3
        while True:
            text = httpx.get(f"{self.admin}/metrics").text
            try:
                return sample(text, name, **labels)
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def policies_directory(root: Path, gateway_yaml: str, apis: Mapping[str, str]) -> Path:
    """`root` made a policies directory: gateway.yaml and each API's policy (apis/NAME.xml)."""
    (root / "gateway.yaml").write_text(gateway_yaml)
    (root / "apis").mkdir()
    for name, policy in apis.items():
        (root / "apis" / f"{name}.xml").write_text(policy, encoding="utf-8")
    return root


@contextmanager
def observed(root: Path, env: Mapping[str, str] | None = None) -> Iterator[Gateway]:
    """`aigw run ROOT` on free ports for the duration of the block, its log readable."""
    port, admin = free_port(), free_port()
    process = start_gateway(root, port, env, admin)
    try:
        yield Gateway(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", process)
    finally:
        stop(process)


def observed_directory(
    root: Path, gateway_yaml: str, apis: Mapping[str, str], provider_port: int | None = None
) -> Iterator[Gateway]:
    """A module fixture's body: the directory written (`policies_directory`), the gateway
    running on it (`observed`), in front of the fake provider on `provider_port` if given."""
    policies_directory(root, gateway_yaml, apis)
    with ExitStack() as stack:
        if provider_port is not None:
            stack.enter_context(fake_provider(provider_port))
        yield stack.enter_context(observed(root))
