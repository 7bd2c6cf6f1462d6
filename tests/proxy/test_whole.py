"""A whole response sends what Starlette's Response with the same headers added sent."""

from __future__ import annotations

import asyncio

import pytest
from starlette.responses import Response

from gateway.proxy.whole import WholeResponse, raw_headers

HEADERS = [
    ("Content-Type", "application/json"),
    ("Content-Length", "99"),  # the server's own: left out
    ("Date", "Mon, 07 Dec 2026 19:00:00 GMT"),
    ("X-Request-Id", "abc"),
    ("x-request-id", "second"),
    ("Set-Cookie", "a=1"),
    ("Set-Cookie", "b=2"),
]


def sent(response: Response) -> list[dict[str, object]]:
    messages: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        messages.append(message)

    asyncio.run(response({"type": "http"}, receive, send))
    return messages


def starlette(status: int, headers: list[tuple[str, str]], body: bytes) -> Response:
    response = Response(body, status)
    response.raw_headers.extend(
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in headers
        if name.lower() not in {"content-length", "transfer-encoding", "date"}
    )
    return response


@pytest.mark.parametrize("status", [200, 101, 204, 304, 429, 500])
@pytest.mark.parametrize("body", [b"", b'{"ok": true}'])
def test_a_whole_response_sends_what_starlette_sent(status: int, body: bytes) -> None:
    for _ in range(2):  # the second time, the names come from the cache
        assert sent(WholeResponse(status, list(HEADERS), body)) == sent(
            starlette(status, HEADERS, body)
        )


def test_a_value_beyond_latin_1_goes_as_utf_8() -> None:
    headers = [("X-Note", "caf\u00e9"), ("X-Name", "\u2603"), ("Date", "x")]
    assert raw_headers(headers) == [(b"x-note", b"caf\xe9"), (b"x-name", "\u2603".encode())]


def test_a_name_beyond_latin_1_goes_as_utf_8() -> None:
    assert raw_headers([("X-\u2603", "v")]) == [("x-\u2603".encode(), b"v")]


@pytest.mark.parametrize("body", [memoryview(b"ab"), "caf\u00e9", None])
def test_a_body_of_another_type_sends_what_starlette_sent(body: object) -> None:
    expected = sent(starlette(200, HEADERS, body))  # type: ignore[arg-type]
    assert sent(WholeResponse(200, list(HEADERS), body)) == expected  # type: ignore[arg-type]
