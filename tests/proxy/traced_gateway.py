"""A gateway served in the test's own process, with tracing on and spans kept in memory.

The tests that read spans need the SDK's `InMemorySpanExporter`, which lives in the process
that makes the spans: the gateway runs here under uvicorn, in a thread, exactly as `aigw run`
builds it (`create_app` of a `Live` with a `Tracing`), and is called over loopback like any other; its
backends are the fake provider processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.load import load_gateway
from gateway.proxy.app import create_app
from gateway.proxy.live import Live
from gateway.telemetry.tracing import Tracing
from tests.proxy.processes import free_port


@contextmanager
def traced_gateway(
    root: Path, exporter: InMemorySpanExporter, sampling: float = 1.0
) -> Iterator[str]:
    """The gateway of `root` on a free loopback port, its spans exported (one by one, as
    each ends) to `exporter`; yields its base URL."""
    tracing = Tracing(sampling, exporter, batch=False)
    app = create_app(Live(load_gateway(root), None, tracing))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{base}/-/health", timeout=0.5)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or not thread.is_alive():
                raise AssertionError("the in-process gateway did not come up") from None
            time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def finished_spans(exporter: InMemorySpanExporter, count: int, timeout: float = 5.0) -> list:
    """The exported spans once there are at least `count` (the request's span ends after
    the response's last byte, a moment after the client has it)."""
    deadline = time.monotonic() + timeout
    while len(exporter.get_finished_spans()) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return list(exporter.get_finished_spans())
