"""The listener's limits against a real `aigw run`, over raw sockets: heads too large or too
many, a URL too long, heads and bodies trickled, keep-alive connections held open, the
process's memory under a flood of header bytes, and whose X-Forwarded-For is believed."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.proxy.processes import free_port, output_of, start_gateway, stop
from tests.proxy.prometheus import total

REFUSED = "aigw_connections_refused_total"
HEAD = b"POST /llm/chat/completions HTTP/1.1\r\nHost: gw\r\n"


@dataclass
class Gateway:
    process: subprocess.Popen[bytes]
    port: int
    admin_port: int

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def refused(self, reason: str) -> float:
        text = httpx.get(f"http://127.0.0.1:{self.admin_port}/metrics", timeout=10).text
        return total(text, REFUSED, reason=reason)

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    root = tmp_path_factory.mktemp("listener")
    (root / "gateway.yaml").write_text(
        """
apis:
  llm: {path: llm, style: openai, subscription-required: false}
limits:
  header-timeout: 1
  body-timeout: 1
  keep-alive-timeout: 1
"""
    )
    (root / "apis").mkdir()
    # The body read whole (a policy reads it), so a trickled body keeps the gateway waiting.
    (root / "apis" / "llm.xml").write_text(
        """<policies><inbound>
  <set-variable name="body" value="@(context.Request.Body.As<string>(preserveContent: true))" />
  <mock-response />
</inbound></policies>"""
    )
    port, admin_port = free_port(), free_port()
    process = start_gateway(root, port, None, admin_port)
    try:
        yield Gateway(process, port, admin_port)
    finally:
        stop(process)


def answer_and_close(client: socket.socket) -> bytes:
    """Everything the gateway sends until it closes the connection."""
    received = b""
    while chunk := client.recv(65536):
        received += chunk
    return received


def health(client: socket.socket) -> bytes:
    """GET /-/health on `client`, and its whole response (the connection stays open)."""
    client.sendall(b"GET /-/health HTTP/1.1\r\nHost: gw\r\n\r\n")
    received = b""
    while not received.endswith(b"}"):
        received += client.recv(65536)
    return received


def send_all(client: socket.socket, data: bytes) -> None:
    """Send what the gateway reads: it may stop (and close) as soon as it refused."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        client.sendall(data)


def test_a_megabyte_of_headers_gets_431_and_memory_stays_flat(gateway: Gateway) -> None:
    """Thirty connections each sending a megabyte header that never ends: each is refused
    with 431 once past limits.max-header-bytes, and the process holds none of it."""
    before, refused = gateway.rss_kib(), gateway.refused("header-bytes")
    clients = [gateway.connect() for _ in range(30)]
    for client in clients:
        send_all(client, HEAD + b"X-Big: " + b"a" * (1024 * 1024))
    for client in clients:
        assert answer_and_close(client).startswith(b"HTTP/1.1 431 ")
    grown = gateway.rss_kib() - before  # every connection answered: all it read, it read
    for client in clients:
        client.close()
    assert grown < 16 * 1024, f"RSS grew {grown} KiB"  # 30 MB were sent
    assert gateway.refused("header-bytes") == refused + 30


def test_two_hundred_headers_get_431(gateway: Gateway) -> None:
    refused = gateway.refused("header-count")
    client = gateway.connect()
    headers = b"".join(b"X-H%d: v\r\n" % n for n in range(200))
    send_all(client, HEAD + headers + b"Content-Length: 0\r\n\r\n")
    assert answer_and_close(client).startswith(b"HTTP/1.1 431 ")
    assert gateway.refused("header-count") == refused + 1


def test_a_whole_head_over_the_limit_in_one_send_gets_431(gateway: Gateway) -> None:
    """Three 15 KiB headers, the head ended and a body after it: over 32 KiB, parsed whole."""
    client = gateway.connect()
    headers = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 15_000) for n in range(3))
    send_all(client, HEAD + headers + b"Content-Length: 2\r\n\r\n{}")
    assert answer_and_close(client).startswith(b"HTTP/1.1 431 ")


def test_a_long_url_gets_414(gateway: Gateway) -> None:
    client = gateway.connect()
    send_all(client, b"GET /llm/" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: gw\r\n\r\n")
    assert answer_and_close(client).startswith(b"HTTP/1.1 414 ")


def trickle(client: socket.socket, data: bytes, pause: float) -> bytes:
    """Send `data` a byte at a time, `pause` seconds apart, until the gateway answers and
    closes; what it answered (b"" if it never did)."""
    client.settimeout(pause)
    for byte in data:
        try:
            client.sendall(bytes([byte]))
            answered = client.recv(65536)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return b""
        client.settimeout(10)
        return answered + answer_and_close(client)
    return b""


def test_a_slowloris_trickling_its_head_gets_408(gateway: Gateway) -> None:
    """A head sent a byte every 0.3 s never finishes: header-timeout (1 s here) ends it."""
    refused = gateway.refused("header-timeout")
    client = gateway.connect()
    answered = trickle(client, HEAD + b"X-Slow: " + b"s" * 40, pause=0.3)
    assert answered.startswith(b"HTTP/1.1 408 ")
    assert gateway.refused("header-timeout") == refused + 1


def test_a_body_trickled_slower_than_the_body_timeout_gets_408(gateway: Gateway) -> None:
    refused = gateway.refused("body-timeout")
    client = gateway.connect()
    client.sendall(HEAD + b"Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{")
    answered = trickle(client, b'"model": "m", "messages": []}', pause=2.5)
    assert answered.startswith(b"HTTP/1.1 408 ")
    assert gateway.refused("body-timeout") == refused + 1


def test_blank_lines_do_not_hold_a_keep_alive_connection_open(gateway: Gateway) -> None:
    """Between requests, CRLFs begin no request: they must not keep resetting the idle
    keep-alive timer, as they did in uvicorn (a connection held with two bytes a second)."""
    client = gateway.connect()
    assert health(client).startswith(b"HTTP/1.1 200 ")
    client.settimeout(0.3)
    for _ in range(60):
        try:
            client.sendall(b"\r\n")
            if client.recv(65536) == b"":
                break
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
    else:
        raise AssertionError("still open after 60 blank lines, 18 s")


def test_an_idle_keep_alive_connection_is_closed(gateway: Gateway) -> None:
    client = gateway.connect()
    assert health(client).startswith(b"HTTP/1.1 200 ")
    assert answer_and_close(client) == b""


def test_a_request_within_the_limits_passes_whole(gateway: Gateway) -> None:
    """A request sent a piece at a time, each within the timeouts, is answered as usual."""
    client = gateway.connect()
    body = b'{"model": "m", "messages": [{"role": "user", "content": "hi"}]}'
    head = HEAD + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    for piece in (head[:20], head[20:], body[:10], body[10:]):
        client.sendall(piece)
        time.sleep(0.2)
    assert client.recv(65536).startswith(b"HTTP/1.1 200 ")


def ip_filtered(root: Path, limits: str) -> Path:
    """An API open to 10.1.2.3 alone; `limits`: gateway.yaml's limits section."""
    root.mkdir()
    (root / "gateway.yaml").write_text(
        f"apis:\n  llm: {{path: llm, style: openai, subscription-required: false}}\n{limits}\n"
    )
    (root / "apis").mkdir()
    (root / "apis" / "llm.xml").write_text(
        """<policies><inbound>
  <ip-filter action="allow"><address>10.1.2.3</address></ip-filter>
  <mock-response />
</inbound></policies>"""
    )
    return root


def test_a_forged_x_forwarded_for_from_loopback_does_not_pass_ip_filter(tmp_path: Path) -> None:
    """A local client claiming `X-Forwarded-For: 10.1.2.3` is still 127.0.0.1 to ip-filter,
    unless limits.trusted-proxies lists 127.0.0.1 (a proxy in front that sets the header)."""
    chat = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    forged = {"x-forwarded-for": "10.1.2.3"}
    statuses = []
    for name, limits in [("default", ""), ("trusted", "limits: {trusted-proxies: [127.0.0.1]}")]:
        port = free_port()
        process = start_gateway(ip_filtered(tmp_path / name, limits), port)
        try:
            url = f"http://127.0.0.1:{port}/llm/chat/completions"
            statuses.append(httpx.post(url, json=chat, headers=forged, timeout=10).status_code)
        finally:
            stop(process)
    assert statuses == [403, 200]


def test_a_client_gone_mid_body_is_logged_as_499_without_a_traceback(gateway: Gateway) -> None:
    client = gateway.connect()
    client.sendall(HEAD + b"Content-Type: application/json\r\nContent-Length: 4000\r\n\r\n{")
    time.sleep(0.2)  # the head is read and the body awaited before the client goes
    client.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and '"status":499' not in output_of(gateway.process):
        time.sleep(0.1)
    printed = output_of(gateway.process)
    gone = [line for line in printed.splitlines() if '"status":499' in line]
    assert gone and '"path":"/llm/chat/completions"' in gone[0]
    assert "Traceback" not in printed  # nothing failed: the client went, nobody to answer
