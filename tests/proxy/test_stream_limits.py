"""Streams an upstream makes endless or huge (tests/fakes/hostile.py), through a running
gateway: what it keeps of them is bounded by `limits.max-stream-retained`, and a client's
going closes the upstream's response."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.proxy.processes import fake_provider, free_port, output_of, start_gateway, stop

RETAINED = 1024 * 1024  # limits.max-stream-retained in these tests
MiB = 1024 * 1024
# Completions cached (the semantic cache keeps a stream once it is complete), every request
# logged (the access log waits for every stream).
CACHED = """<policies>
    <inbound><base /><llm-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="embed"
        embeddings-backend-auth="system-assigned" /></inbound>
    <outbound><base /><llm-semantic-cache-store duration="60" /></outbound>
</policies>"""


@dataclass
class Served:
    url: str  # the gateway's
    process: subprocess.Popen[bytes]  # the gateway's
    provider: int  # the fake provider's port


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Served]:
    """A gateway whose API `chat` streams from the hostile fake (tests/fakes/hostile.py)."""
    provider_port, port = free_port(), free_port()
    provider = f"http://127.0.0.1:{provider_port}"
    (tmp_path / "gateway.yaml").write_text(
        f"""
limits: {{max-stream-retained: {RETAINED}}}
backends:
  hostile: {{url: "{provider}/hostile/v1"}}
  embed: {{url: "{provider}/v1/embeddings"}}
apis:
  chat: {{path: chat, style: openai, backend: hostile, subscription-required: false}}
"""
    )
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "chat.xml").write_text(CACHED)
    with fake_provider(provider_port):
        process = start_gateway(tmp_path, port, os.environ)
        try:
            yield Served(f"http://127.0.0.1:{port}", process, provider_port)
        finally:
            stop(process)


def peak_memory(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def ends(port: int) -> dict[str, int]:
    return httpx.get(f"http://127.0.0.1:{port}/hostile/-/ends").json()


def ask(gateway: str, prompt: str, stream: bool, **headers: str) -> httpx.Response:
    body = {"model": "m", "messages": [{"role": "user", "content": prompt}], "stream": stream}
    return httpx.post(f"{gateway}/chat/chat/completions", json=body, headers=headers, timeout=60)


def streamed(gateway: str, prompt: str, size: int, **headers: str) -> bytes:
    """A stream of about `size` bytes, read whole as fast as it comes: its last bytes."""
    body = {"model": "m", "messages": [{"role": "user", "content": prompt}], "stream": True}
    got, tail = 0, b""
    url = f"{gateway}/chat/chat/completions"
    with httpx.stream("POST", url, json=body, headers={"x-fake-bytes": str(size), **headers},
                      timeout=60) as response:  # fmt: skip
        for chunk in response.iter_raw():
            got += len(chunk)
            tail = (tail + chunk)[-64:]
        cache = response.headers.get("x-aigw-cache")
    # Said in full when it fails: seen once in CI (14 bytes, `data: [DONE]` alone?).
    assert got >= size, f"{got} bytes, ending {tail!r}; x-aigw-cache: {cache}"
    return tail


def test_a_huge_stream_passes_whole_without_the_gateway_keeping_it(gateway: Served) -> None:
    url, process = gateway.url, gateway.process
    assert streamed(url, "a warm-up", MiB // 4).endswith(b"data: [DONE]\n\n")
    before = peak_memory(process.pid)
    # 48 MiB: kept whole (and joined into one body) it would take twice that.
    assert streamed(url, "Tell me everything, at length", 48 * MiB).endswith(b"data: [DONE]\n\n")
    assert peak_memory(process.pid) - before < 24 * MiB
    # Too long to keep: not cached (the same question is asked of the provider again)...
    assert ask(url, "Tell me everything, at length", False).headers.get("x-aigw-cache") != "hit"
    # ... while one within the limit is, as ever.
    assert ask(url, "a warm-up", False).headers.get("x-aigw-cache") == "hit"


def test_an_event_that_never_ends_is_not_held_by_the_gateway(gateway: Served) -> None:
    url, process = gateway.url, gateway.process
    streamed(url, "a warm-up", MiB // 4)
    before = peak_memory(process.pid)
    # One `data:` line of 32 MiB, its end never coming: read no further than the limit.
    assert streamed(url, "one line", 32 * MiB, **{"x-fake-line": "1"}).endswith(b"x" * 64)
    assert peak_memory(process.pid) - before < 24 * MiB


def test_a_client_gone_from_an_endless_stream_cuts_the_upstream(gateway: Served) -> None:
    url, process, provider_port = gateway.url, gateway.process, gateway.provider
    streamed(url, "a warm-up", MiB // 4)
    before, cut = peak_memory(process.pid), ends(provider_port)["cut"]
    body = {"model": "m", "messages": [{"role": "user", "content": "go on"}], "stream": True}
    with httpx.stream("POST", f"{url}/chat/chat/completions", json=body, timeout=60) as response:
        for number, _ in enumerate(response.iter_raw()):  # a slow reader of an endless stream
            time.sleep(0.02)
            if number == 60:
                break  # then it goes
    deadline = time.monotonic() + 10
    while ends(provider_port)["cut"] == cut or ends(provider_port)["open"]:
        assert time.monotonic() < deadline, "the gateway kept reading a stream nobody reads"
        time.sleep(0.1)
    assert peak_memory(process.pid) - before < 24 * MiB
    # The access log says the client went before the end.
    while "client went before the stream ended" not in output_of(process):
        assert time.monotonic() < deadline, output_of(process)[-2000:]
        time.sleep(0.1)
