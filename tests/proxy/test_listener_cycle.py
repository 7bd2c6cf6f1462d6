"""The listener's own request cycle (gateway.proxy.cycle) over a real socket: uvicorn serving a
small ASGI app through gateway.proxy.listener's protocol in a thread, a raw socket as the
client. What the cycle does itself: pipelined requests answered in order, 100-continue,
chunked uploads, chunked and HEAD responses, Connection: close and HTTP/1.0, a 500 for an app
that fails before answering, header values that would split a response refused, the
keep-alive wait, and `http.disconnect` (and `disconnected`) for a client gone."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from gateway.config.settings import Limits
from gateway.proxy import cycle
from gateway.proxy.listener import listener_options

GONE: list[str] = []  # what each request whose client went saw: its receive()'s last message
FLAGS: list[bool] = []  # and its receive.__self__.disconnected (gateway.proxy.sender's flag)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/fail":
        raise RuntimeError("failed before answering (expected in this test)")
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            GONE.append(message["type"])
            FLAGS.append(receive.__self__.disconnected)
            return
        body += message["body"]
        if not message["more_body"]:
            break
    answer = b"%s %s %s" % (scope["method"].encode(), scope["raw_path"], body)
    if path == "/header":  # a value from the query: printable or not, valid or not
        value = bytes.fromhex(scope["query_string"].decode())
        headers = [(b"content-length", b"%d" % len(answer)), (b"X-Value", value)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})
        return
    if path == "/name":  # a header's name from the query
        name = bytes.fromhex(scope["query_string"].decode())
        headers = [(b"content-length", b"%d" % len(answer)), (name, b"v")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})
        return
    if path == "/chunked":  # no content-length: the listener frames it chunked
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for piece in (answer[:3], answer[3:]):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [(b"content-length", b"%d" % len(answer)), (b"X-Query", scope["query_string"])]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    options = listener_options(Limits(keep_alive_timeout=1), None)
    config = uvicorn.Config(app, loop="uvloop", log_level="critical", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield int(listening.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(10)


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def read_until_closed(client: socket.socket) -> bytes:
    received = b""
    while chunk := client.recv(65536):
        received += chunk
    return received


def read_responses(client: socket.socket, count: int) -> list[bytes]:
    """`count` whole responses (each with a content-length) from a connection kept open."""
    received, responses = b"", []
    while len(responses) < count:
        received += client.recv(65536)
        while (end := received.find(b"\r\n\r\n")) >= 0:
            head = received[:end].lower()
            length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
            if len(received) < end + 4 + length:
                break
            responses.append(received[: end + 4 + length])
            received = received[end + 4 + length :]
    return responses


def answered_then_closed(port: int, request: bytes) -> bytes:
    """What the listener sends to `request` on a new connection, until it closes it."""
    client = connect(port)
    client.sendall(request)
    return read_until_closed(client)


def post(path: bytes, body: bytes) -> bytes:
    return b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n%s" % (path, len(body), body)


def test_pipelined_requests_are_answered_in_order(port: int) -> None:
    client = connect(port)
    client.sendall(b"".join(post(b"/%d" % n, b"body %d" % n) for n in range(5)))
    responses = read_responses(client, 5)
    assert [r.split(b"\r\n\r\n")[1] for r in responses] == [
        b"POST /%d body %d" % (n, n) for n in range(5)
    ]
    assert all(r.startswith(b"HTTP/1.1 200 OK\r\n") for r in responses)


def test_a_response_is_its_head_and_body_with_the_query(port: int) -> None:
    client = connect(port)
    client.sendall(b"GET /a%20b?x=1 HTTP/1.1\r\nHost: t\r\n\r\n")
    [response] = read_responses(client, 1)
    head, body = response.split(b"\r\n\r\n")
    assert b"\r\nx-query: x=1" in head and b"\r\ndate: " in head
    assert body == b"GET /a%20b "


def answered_in_two_parts(port: int, first: bytes, second: bytes, interim: bytes = b"") -> bytes:
    """The response to a request sent in two parts, the second once `interim` came (if any;
    else after a pause: the body in two reads, the app waiting for the rest)."""
    client = connect(port)
    client.sendall(first)
    if interim:
        assert client.recv(65536) == interim
    else:
        time.sleep(0.1)
    client.sendall(second)
    [response] = read_responses(client, 1)
    return response


def test_expect_100_continue_is_answered_before_the_body_is_sent(port: int) -> None:
    head = b"POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
    response = answered_in_two_parts(port, head, b"hello", b"HTTP/1.1 100 Continue\r\n\r\n")
    assert response.endswith(b"\r\n\r\nPOST /up hello")


def test_a_chunked_upload_is_received_whole(port: int) -> None:
    head = b"POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    response = answered_in_two_parts(port, head + b"3\r\nabc\r\n", b"2\r\nde\r\n0\r\n\r\n")
    assert response.endswith(b"\r\n\r\nPOST /c abcde")


def test_a_response_without_a_length_is_sent_chunked(port: int) -> None:
    response = answered_then_closed(
        port, b"GET /chunked HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    assert b"\r\ntransfer-encoding: chunked\r\n" in response
    assert b"\r\nconnection: close\r\n" in response
    assert response.endswith(b"\r\n\r\n3\r\nGET\r\na\r\n /chunked \r\n0\r\n\r\n")


def test_head_gets_the_head_alone(port: int) -> None:
    response = answered_then_closed(
        port, b"HEAD /h HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    assert response.startswith(b"HTTP/1.1 200 OK\r\n") and response.endswith(b"\r\n\r\n")
    assert b"content-length: 8\r\n" in response


def test_http_1_0_closes_after_its_response(port: int) -> None:
    response = answered_then_closed(port, b"GET /old HTTP/1.0\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 200 OK\r\n") and b"connection: close\r\n" in response
    assert response.endswith(b"GET /old ")


def test_an_app_failing_before_it_answers_gets_500(port: int) -> None:
    response = answered_then_closed(port, b"GET /fail HTTP/1.1\r\nHost: t\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 500 ") and response.endswith(b"Internal Server Error")


def test_an_idle_keep_alive_connection_closes_after_its_timeout(port: int) -> None:
    client = connect(port)
    for _ in range(3):  # each response restarts the wait
        client.sendall(post(b"/k", b""))
        read_responses(client, 1)
        time.sleep(0.6)
    started = time.monotonic()
    assert read_until_closed(client) == b""
    assert time.monotonic() - started < 2


def test_a_client_gone_mid_body_is_a_disconnect(port: int) -> None:
    before = len(GONE)
    client = connect(port)
    client.sendall(b"POST /gone HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nab")
    time.sleep(0.2)  # the app has read "ab" and waits for more
    client.close()
    deadline = time.monotonic() + 5
    while len(GONE) == before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert GONE[before:] == ["http.disconnect"] and FLAGS[before:] == [True]


@pytest.mark.parametrize(
    ("value", "passes"),
    [
        (b"a\tb", True),
        (b"caf\xc3\xa9 \x80\xa0", True),
        (b"a\r\nx-evil: 1", False),
        (b"a\x00", False),
    ],
)
def test_a_header_value_that_would_split_the_response_is_never_sent(
    port: int, value: bytes, passes: bool
) -> None:
    client = connect(port)
    client.sendall(b"GET /header?%s HTTP/1.1\r\nHost: t\r\n\r\n" % value.hex().encode())
    if passes:
        [response] = read_responses(client, 1)
        assert b"\r\nx-value: %s\r\n" % value in response
    else:  # the app's send raised: nothing of the response was written, the connection ends
        assert read_until_closed(client) == b""


def test_a_valid_header_name_is_checked_and_lowered_once() -> None:
    cycle._NAMES.clear()
    assert cycle._checked(b"X-Request-Id") == b"x-request-id"
    assert cycle._NAMES == {b"X-Request-Id": b"x-request-id"}


@pytest.mark.parametrize("name", [b"x-evil\r\nset-cookie", b"bad name", b"a:b"])
def test_an_invalid_header_name_is_refused_every_time_and_never_kept(name: bytes) -> None:
    cycle._NAMES.clear()
    for _ in range(2):
        with pytest.raises(RuntimeError, match="Invalid HTTP header name"):
            cycle._checked(name)
    assert cycle._NAMES == {}


def test_the_checked_names_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cycle, "_MOST_NAMES", 3)
    cycle._NAMES.clear()
    for number in range(4):
        cycle._checked(b"x-%d" % number)
    assert cycle._NAMES == {b"x-3": b"x-3"}  # full at three: cleared, then the fourth kept


def test_an_invalid_header_name_is_never_sent(port: int) -> None:
    client = connect(port)
    client.sendall(b"GET /name?%s HTTP/1.1\r\nHost: t\r\n\r\n" % b"x-a\r\nx-evil".hex().encode())
    assert read_until_closed(client) == b""  # the app's send raised: nothing was written


def test_the_servers_own_lines_follow_each_new_list_of_them() -> None:
    first = [(b"date", b"Tue, 08 Dec 2026 01:00:00 GMT"), (b"server", b"aigw")]
    lines = cycle._server_lines(first)
    assert lines == b"date: Tue, 08 Dec 2026 01:00:00 GMT\r\nserver: aigw\r\n"
    assert cycle._server_lines(first) is lines  # the same list: its lines as written
    later = [(b"date", b"Tue, 08 Dec 2026 01:00:01 GMT")]  # uvicorn's next second: a new list
    assert cycle._server_lines(later) == b"date: Tue, 08 Dec 2026 01:00:01 GMT\r\n"
    assert cycle._server_lines([]) == b""
