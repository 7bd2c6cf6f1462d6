"""bench/bare_forwarder.py passes a stream on chunk by chunk, as the baseline a gateway's
streams are held to must: the first event reaches the client while the upstream still holds
back the rest."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.bench.conftest import BENCH

FIRST, REST = b"data: {}\n\n", b"data: [DONE]\n\n"


class HeldStream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    release = threading.Event()  # the rest of the stream waits for it

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.chunk(FIRST)
        self.release.wait(30)
        self.chunk(REST)
        self.wfile.write(b"0\r\n\r\n")

    def chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def forwarder() -> Iterator[int]:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), HeldStream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = free_port()
    command = [sys.executable, str(BENCH / "bare_forwarder.py"), "--port", str(port)]
    command += ["--upstream", f"http://127.0.0.1:{upstream.server_address[1]}"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "the bare forwarder did not come up"
            time.sleep(0.05)
        yield port
    finally:
        HeldStream.release.set()
        process.terminate()
        process.wait(10)
        upstream.shutdown()
        upstream.server_close()


def test_the_first_event_arrives_before_the_upstream_sends_the_rest(forwarder: int) -> None:
    HeldStream.release.clear()
    connection = http.client.HTTPConnection("127.0.0.1", forwarder, timeout=20)
    connection.request("POST", "/v1/chat/completions", b'{"stream": true}')
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("content-type", "").startswith("text/event-stream")
    assert response.read1() == FIRST  # the upstream is still holding the rest back
    HeldStream.release.set()
    assert response.read() == REST
    connection.close()
