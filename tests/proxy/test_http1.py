"""What the gateway's HTTP/1.1 client writes on the wire (gateway.proxy.http1); its
exchanges with real servers are in tests/proxy/test_pool.py."""

from __future__ import annotations

import asyncio

import pytest

from gateway.proxy.http1 import Connection, request_head
from gateway.proxy.upstream_errors import InvalidRequest


def test_a_request_head_carries_its_line_host_headers_and_framing_in_order() -> None:
    head = request_head(
        "POST",
        "/v1/chat?x=1",
        "api.example:8443",
        [("A", "1"), ("A", "2")],
        "Content-Length: 2\r\n",
    )
    assert head == (
        b"POST /v1/chat?x=1 HTTP/1.1\r\nHost: api.example:8443\r\nA: 1\r\nA: 2\r\n"
        b"Content-Length: 2\r\n\r\n"
    )


def test_header_bytes_go_as_they_came_and_text_beyond_latin_1_as_utf_8() -> None:
    # A client's header is read as Latin-1 (one character per byte): it leaves byte for byte.
    came = "caf\xc3\xa9"  # the UTF-8 bytes of "café", as read
    assert request_head("GET", "/", "h", [("X", came)], "").endswith(b"X: caf\xc3\xa9\r\n\r\n")
    # A policy may write any text: beyond Latin-1, it goes as UTF-8 rather than failing.
    assert b"X: \xe2\x82\xac\r\n" in request_head("GET", "/", "h", [("X", "\u20ac")], "")


@pytest.mark.parametrize(
    "header", [("X", "1\r\nInjected: yes"), ("X", "1\nInjected: yes"), ("X\r\nY", "1"), ("X", "\r")]
)
def test_a_line_break_in_a_header_is_refused(header: tuple[str, str]) -> None:
    with pytest.raises(InvalidRequest):
        request_head("GET", "/", "h", [header], "")


def test_fixed_lines_go_after_the_calls_own_headers_and_before_the_framing() -> None:
    head = request_head("POST", "/", "h", [("A", "1")], "Content-Length: 0\r\n", "K: v\r\n")
    assert head == b"POST / HTTP/1.1\r\nHost: h\r\nA: 1\r\nK: v\r\nContent-Length: 0\r\n\r\n"


class _Transport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def test_an_answer_is_taken_whole_without_waiting_only_once_all_of_it_came() -> None:
    loop = asyncio.new_event_loop()
    released: list[Connection] = []
    connection = Connection(loop, released.append)
    connection.connection_made(_Transport())  # type: ignore[arg-type]
    response = connection.start("GET", b"GET / HTTP/1.1\r\n\r\n", None, 30)
    connection.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel")
    assert response.whole() is None  # not all of it: `read` waits for the rest
    assert released == []
    connection.data_received(b"lo")
    assert response.whole() == b"hello"
    assert released == [connection]  # back to its pool, as after `read`
    connection.close()
    loop.close()
