"""What the gateway's HTTP/1.1 client writes on the wire (gateway.proxy.http1); its
exchanges with real servers are in tests/proxy/test_pool.py."""

from __future__ import annotations

import pytest

from gateway.proxy.http1 import request_head
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
