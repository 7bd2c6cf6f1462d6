"""A running gateway as integration tests read it: its access log and its /metrics."""

from __future__ import annotations

import json
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.telemetry.access_log import FLUSH_AFTER
from tests.proxy.processes import output_of
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
