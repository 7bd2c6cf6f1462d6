"""Process life: SIGTERM drains in-flight streams; --workers shares the listeners."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.proxy.processes import (
    children_of,
    fake_provider,
    free_port,
    output_of,
    start_gateway,
    stop,
)


def policies(root: Path, provider_port: int) -> Path:
    (root / "gateway.yaml").write_text(
        f"""
backends:
  fake: {{url: "http://127.0.0.1:{provider_port}/v1"}}
apis:
  llm: {{path: llm, style: openai, backend: fake, subscription-required: false}}
"""
    )
    return root


def test_sigterm_lets_a_stream_in_flight_finish_and_refuses_new_requests(tmp_path: Path) -> None:
    provider_port, port = free_port(), free_port()
    with fake_provider(provider_port):
        server = start_gateway(policies(tmp_path, provider_port), port)
        client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/llm", api_key="-", max_retries=0)
        words: list[str] = []
        first_chunk = threading.Event()
        failure: list[BaseException] = []

        def read_stream() -> None:
            try:
                stream = client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "hi"}], stream=True
                )
                for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        words.append(chunk.choices[0].delta.content)
                        first_chunk.set()
            except BaseException as error:  # reported by the assertion below
                failure.append(error)
                first_chunk.set()

        reader = threading.Thread(target=read_stream)
        reader.start()
        assert first_chunk.wait(10)
        server.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        with pytest.raises(httpx.TransportError):  # the listener is closed: no new requests
            httpx.get(f"http://127.0.0.1:{port}/-/health", timeout=2)
        reader.join(10)
        assert not failure, failure
        assert "".join(words) == "one two three "  # every chunk arrived after SIGTERM
        # uvicorn re-raises SIGTERM once drained: the process ends "by the signal", as asked.
        assert server.wait(10) in (0, -signal.SIGTERM)


def test_workers_share_the_listener_and_stop_together(tmp_path: Path) -> None:
    provider_port, port = free_port(), free_port()
    with fake_provider(provider_port):
        server = start_gateway(policies(tmp_path, provider_port), port, None, 0, "--workers", "2")
        try:
            workers = children_of(server.pid)
            assert len(workers) == 2
            client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/llm", api_key="-")
            for _ in range(4):
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "x"}]
                )
        finally:
            stop(server)
        assert server.returncode == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_admin_host_puts_the_admin_listener_on_its_own_address(tmp_path: Path) -> None:
    """In a container both listeners bind 0.0.0.0; on a shared host the admin one may stay
    private: `--admin-host` binds it apart from the traffic listener's `--host`."""
    port, admin_port = free_port(), free_port()
    server = start_gateway(
        policies(tmp_path, free_port()), port, None, admin_port, "--admin-host", "127.0.0.2"
    )
    try:
        assert httpx.get(f"http://127.0.0.2:{admin_port}/-/ready").status_code == 200
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{admin_port}/-/ready")
        with pytest.raises(httpx.ConnectError):  # the traffic listener kept --host's address
            httpx.get(f"http://127.0.0.2:{port}/-/health")
        assert httpx.get(f"http://127.0.0.1:{port}/-/health").status_code == 200
    finally:
        stop(server)
    assert "admin listener on http://127.0.0.2:" in output_of(server)


def test_sigterm_with_a_stream_longer_than_the_drain_cuts_it_without_a_fake_end(
    tmp_path: Path,
) -> None:
    """A stream still going when the 30 s drain ends is cut: the client's read fails (no
    `[DONE]` the backend never sent), and the call is still logged before the process ends."""
    provider_port, port = free_port(), free_port()
    with fake_provider(provider_port):
        server = start_gateway(policies(tmp_path, provider_port), port)
        body = {"model": "long", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
        url = f"http://127.0.0.1:{port}/llm/chat/completions"
        lines: list[str] = []
        try:
            # 100 chunks a second apart: the stream would take 100 s, three times the drain.
            with httpx.stream(
                "POST", url, json=body, headers={"x-fake-pause": "1"}, timeout=60
            ) as answer:
                request_id = answer.headers["x-request-id"]
                with pytest.raises(httpx.RemoteProtocolError):
                    for line in answer.iter_lines():
                        lines.append(line)
                        if len(lines) == 1:
                            server.send_signal(signal.SIGTERM)
        finally:
            if server.poll() is None:
                server.wait(20)
    data = [line for line in lines if line.startswith("data:")]
    assert 20 < len(data) < 100  # it went on through the drain, then was cut
    assert "data: [DONE]" not in data
    logged = [line for line in output_of(server).splitlines() if request_id in line]
    assert logged and '"status":200' in logged[0]
