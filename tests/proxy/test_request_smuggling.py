"""Request smuggling: shapes of HTTP/1.1 framing that two parsers may read differently.

A gateway in front of a backend is the classic smuggling pair: if the gateway reads one
request where the backend reads two, the second one skips every policy. The gateway's parser
(llhttp, through uvicorn's httptools protocol) refuses every ambiguous framing with 400 and
closes the connection, so nothing after the ambiguity is read as a request, let alone
forwarded. Each test sends the raw bytes and asks the fake provider what it received.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from tests.proxy.processes import fake_provider, free_port, open_chat_yaml, serving

BODY = b'{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]}'
SMUGGLED = b"GET /v1/models HTTP/1.1\r\nHost: backend\r\n\r\n"
HEAD = (
    b"POST /chat/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
)

SHAPES = {
    # Content-Length and Transfer-Encoding both: which one frames the body?
    "content_length_and_chunked": HEAD
    + b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    + SMUGGLED,
    # Two lengths that disagree.
    "two_content_lengths": HEAD
    + b"Content-Length: %d\r\nContent-Length: 0\r\n\r\n" % len(BODY)
    + BODY
    + SMUGGLED,
    # A transfer coding the gateway does not know, which a backend may read as chunked.
    "obfuscated_transfer_encoding": HEAD + b"Transfer-Encoding: xchunked\r\n\r\n" + BODY + SMUGGLED,
    "transfer_encoding_with_space_before_colon": HEAD
    + b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n"
    + SMUGGLED,
    # A chunk size that is not hexadecimal.
    "bad_chunk_size": HEAD
    + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n"
    + BODY
    + b"\r\n0\r\n\r\n"
    + SMUGGLED,
    # A header name with a space before its colon: some parsers drop it, some keep it.
    "content_length_with_space_before_colon": HEAD
    + b"Content-Length : %d\r\n\r\n" % len(BODY)
    + BODY
    + SMUGGLED,
    # A header folded over two lines (obsolete since RFC 7230).
    "folded_header": HEAD
    + b"Content-Length: %d\r\nX-Folded: a\r\n b\r\n\r\n" % len(BODY)
    + BODY
    + SMUGGLED,
    # A bare LF inside a header line.
    "bare_lf_in_header": HEAD + b"X-A: 1\nContent-Length: 0\r\n\r\n" + SMUGGLED,
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    provider = free_port()
    root = tmp_path_factory.mktemp("smuggling")
    (root / "gateway.yaml").write_text(open_chat_yaml(provider))
    with fake_provider(provider), serving(root) as url:
        yield url, provider


def send_raw(url: str, data: bytes) -> bytes:
    """Send `data` on one connection and read until the gateway closes it."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(data)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def requests_seen(provider: int) -> list[dict[str, str]]:
    return httpx.get(f"http://127.0.0.1:{provider}/-/requests").json()


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_an_ambiguously_framed_request_is_refused_and_nothing_is_smuggled(
    gateway: tuple[str, int], shape: str
) -> None:
    url, provider = gateway
    httpx.delete(f"http://127.0.0.1:{provider}/-/requests")
    answer = send_raw(url, SHAPES[shape])
    # One answer, a 400, and the connection closed: the bytes after it were never a request.
    assert answer.startswith(b"HTTP/1.1 400 "), answer[:200]
    assert answer.count(b"HTTP/1.1 ") == 1
    assert requests_seen(provider) == []


def test_a_well_framed_request_on_the_same_listener_is_served(gateway: tuple[str, int]) -> None:
    # The control: the same bytes framed plainly are one request, answered and forwarded.
    url, provider = gateway
    httpx.delete(f"http://127.0.0.1:{provider}/-/requests")
    plain = HEAD + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY) + BODY
    answer = send_raw(url, plain)
    assert answer.startswith(b"HTTP/1.1 200 ")
    seen = {"method": "POST", "path": "/v1/chat/completions", "raw_path": "/v1/chat/completions"}
    assert requests_seen(provider) == [seen]
