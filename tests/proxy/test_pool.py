"""The gateway's own HTTP/1.1 client (gateway.proxy.pool over gateway.proxy.http1), against
real servers on loopback that answer as the test scripts them, byte for byte."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from gateway.proxy.limits import ClientGone
from gateway.proxy.pool import Pool
from gateway.proxy.upstream_errors import (
    ConnectRefused,
    Disconnected,
    InvalidRequest,
    InvalidResponse,
    Timeout,
    TooManyRedirects,
    Truncated,
)

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class Server:
    """A loopback server running `script` for each connection; counts connections and keeps
    what each request sent (its head, then its body as read by the script)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.heads: list[bytes] = []
        self.port = 0

    async def __aenter__(self) -> Server:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *_: object) -> None:
        self.server.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self.script(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def head(self, reader: asyncio.StreamReader) -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        self.heads.append(head)
        return head


def answering(*answers: bytes, keep: bool = True) -> Callable[[Server], Script]:
    """A script answering each request on a connection with the next of `answers` (reading
    a Content-Length body first), then waiting for more, or closing when `keep` is false."""

    def script_for(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            for answer in answers:
                head = await server.head(reader)
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        await reader.readexactly(int(line.split(b":")[1]))
                writer.write(answer)
                await writer.drain()
            if keep:
                await reader.read()

        return script

    return script_for


async def serving(script_for: Callable[[Server], Script]) -> Server:
    server = Server(None)  # type: ignore[arg-type]
    server.script = script_for(server)
    return await server.__aenter__()


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


def test_a_kept_alive_connection_carries_the_next_call() -> None:
    async def scenario() -> None:
        server = await serving(answering(OK, OK))
        pool = Pool()
        for _ in range(2):
            response = await pool.request("POST", server.url + "/v1/x", [], b"{}", 5)
            assert (response.status, await response.read()) == (200, b"{}")
        assert server.connections == 1
        head = server.heads[1].decode()
        assert head.startswith("POST /v1/x HTTP/1.1\r\n")
        assert f"Host: 127.0.0.1:{server.port}\r\n" in head
        assert "Content-Length: 2\r\n" in head
        pool.close()

    run(scenario)


def test_a_chunked_answer_is_read_whole_and_its_headers_kept_in_order() -> None:
    chunked = (
        b"HTTP/1.1 201 Created\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\nX-A: 2\r\n\r\n"
        b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
    )

    async def scenario() -> None:
        server = await serving(answering(chunked, OK))
        pool = Pool()
        response = await pool.request("GET", server.url + "/", [], None, 5)
        assert response.status == 201 and response.reason == "Created"
        assert [v for k, v in response.headers if k == "X-A"] == ["1", "2"]
        assert await response.read() == b"abcdefg"
        again = await pool.request("GET", server.url + "/", [], None, 5)
        assert await again.read() == b"{}"
        assert server.connections == 1

    run(scenario)


def test_an_answer_ended_by_the_close_is_whole_and_its_connection_not_reused() -> None:
    async def scenario() -> None:
        server = await serving(answering(b"HTTP/1.1 200 OK\r\n\r\nuntil the end", keep=False))
        pool = Pool()
        response = await pool.request("GET", server.url + "/", [], None, 5)
        assert await response.read() == b"until the end"
        response = await pool.request("GET", server.url + "/", [], None, 5)
        assert await response.read() == b"until the end"
        assert server.connections == 2

    run(scenario)


def test_head_and_interim_answers_are_no_body() -> None:
    head_answer = b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"
    interim = b"HTTP/1.1 100 Continue\r\n\r\n" + OK

    async def scenario() -> None:
        server = await serving(answering(head_answer, interim))
        pool = Pool()
        response = await pool.request("HEAD", server.url + "/", [], None, 5)
        assert (response.status, await response.read()) == (200, b"")
        response = await pool.request("POST", server.url + "/", [], b"{}", 5)
        assert (response.status, await response.read()) == (200, b"{}")
        assert server.connections == 1

    run(scenario)


def test_a_reused_connection_the_backend_drops_unanswered_is_replaced_and_the_call_resent() -> None:
    def script_for(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            first = server.connections == 1
            await server.head(reader)
            await reader.readexactly(2)
            writer.write(OK)
            if first:  # then it drops the connection as the next request arrives
                await server.head(reader)
            else:
                await reader.read()

        return script

    async def scenario() -> None:
        server = await serving(script_for)
        pool = Pool()
        for _ in range(2):
            response = await pool.request("POST", server.url + "/", [], b"{}", 5)
            assert (response.status, await response.read()) == (200, b"{}")
        assert (server.connections, len(server.heads)) == (2, 3)

    run(scenario)


def test_a_backend_closing_on_a_new_connection_is_an_error_not_a_retry() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")

    async def scenario() -> None:
        server = await serving(lambda _: hang_up)
        with pytest.raises(Disconnected):
            await Pool().request("POST", server.url + "/", [], b"{}", 5)
        assert server.connections == 1

    run(scenario)


def test_an_answer_cut_short_of_its_length_is_truncated() -> None:
    short = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}"

    async def scenario() -> None:
        server = await serving(answering(short, keep=False))
        response = await Pool().request("POST", server.url + "/", [], b"{}", 5)
        with pytest.raises(Truncated):
            await response.read()

    run(scenario)


def test_a_silent_backend_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    async def scenario() -> None:
        server = await serving(lambda _: silent)
        with pytest.raises(Timeout) as raised:
            await Pool().request("POST", server.url + "/", [], b"{}", 0.2)
        assert isinstance(raised.value, TimeoutError)

    run(scenario)


def test_an_answer_that_is_not_http_is_refused() -> None:
    async def scenario() -> None:
        server = await serving(answering(b"SSH-2.0-OpenSSH_9.2\r\n\r\n"))
        with pytest.raises(InvalidResponse):
            await Pool().request("GET", server.url + "/", [], None, 5)

    run(scenario)


def test_a_closed_port_is_a_refused_connection() -> None:
    async def scenario() -> None:
        server = await serving(answering(OK))
        server.server.close()
        await server.server.wait_closed()
        with pytest.raises(ConnectRefused):
            await Pool().request("GET", server.url + "/", [], None, 5)

    run(scenario)


def test_a_header_with_a_line_break_is_refused_before_anything_is_sent() -> None:
    async def scenario() -> None:
        server = await serving(answering(OK))
        with pytest.raises(InvalidRequest):
            await Pool().request("GET", server.url + "/", [("X-A", "1\r\nX-B: 2")], None, 5)
        assert server.connections == 0

    run(scenario)


def redirecting(server_to: Callable[[], str], status: int = 302) -> Callable[[Server], Script]:
    """POSTs are redirected to `server_to()` with `status`; other calls are answered."""

    def script_for(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while True:
                head = await server.head(reader)
                if head.startswith(b"POST"):
                    await reader.readexactly(2)
                    where = server_to().encode()
                    writer.write(
                        b"HTTP/1.1 %d Moved\r\nLocation: %b\r\nContent-Length: 0\r\n\r\n"
                        % (status, where)
                    )
                else:
                    writer.write(OK)

        return script

    return script_for


def test_redirects_are_followed_only_when_asked_and_credentials_stay_home() -> None:
    async def scenario() -> None:
        target = await serving(answering(OK))
        server = await serving(redirecting(lambda: target.url + "/there"))
        pool = Pool()
        headers = [("Authorization", "Bearer secret"), ("Content-Type", "application/json")]
        response = await pool.request("POST", server.url + "/", headers, b"{}", 5)
        assert response.status == 302
        await response.read()
        response = await pool.request("POST", server.url + "/", headers, b"{}", 5, True)
        assert (response.status, await response.read()) == (200, b"{}")
        assert target.heads[0].startswith(b"GET /there HTTP/1.1")  # a 302 after a POST: GET
        assert b"secret" not in target.heads[0]  # another origin gets no credentials

    run(scenario)


def test_fixed_header_lines_are_refused_with_redirects_which_edit_every_header() -> None:
    with pytest.raises(ValueError):
        Pool().request("GET", "http://h/", [], None, 1, follow_redirects=True, fixed="K: v\r\n")


def test_a_redirect_loop_ends_with_too_many_redirects() -> None:
    async def scenario() -> None:
        server: Server | None = None
        server = await serving(redirecting(lambda: server.url + "/", 307))  # type: ignore[union-attr]
        with pytest.raises(TooManyRedirects):
            await Pool().request("POST", server.url + "/", [], b"{}", 5, True)

    run(scenario)


async def body(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await asyncio.sleep(0)
        yield chunk


def echoing(server: Server) -> Script:
    """Reads a chunked or sized body and answers with it."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await server.head(reader)).lower()
        if b"transfer-encoding: chunked" in head:
            received = b""
            while size := int((await reader.readline()).strip(), 16):
                received += await reader.readexactly(size)
                await reader.readline()
            await reader.readline()
        else:
            length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
            received = await reader.readexactly(length)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(received), received))
        await reader.read()

    return script


@pytest.mark.parametrize("length", [None, "9"])
def test_a_streamed_body_goes_chunked_or_by_its_length(length: str | None) -> None:
    async def scenario() -> None:
        server = await serving(echoing)
        headers = [("Content-Length", length)] if length else []
        response = await Pool().request(
            "POST", server.url + "/", headers, body(b"abc", b"defghi"), 5
        )
        assert await response.read() == b"abcdefghi"
        assert (b"Transfer-Encoding: chunked" in server.heads[0]) == (length is None)

    run(scenario)


def test_a_client_gone_while_its_body_streams_ends_the_call_as_a_client_gone() -> None:
    async def gone() -> AsyncIterator[bytes]:
        yield b"abc"
        raise ClientGone("the client went away")

    async def scenario() -> None:
        server = await serving(echoing)
        with pytest.raises(ClientGone):
            await Pool().request("POST", server.url + "/", [], gone(), 5)

    run(scenario)


def test_a_streamed_answer_comes_chunk_by_chunk_before_its_end() -> None:
    release = asyncio.Event()

    def script_for(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.head(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
            await writer.drain()
            await release.wait()
            writer.write(b"4\r\nlast\r\n0\r\n\r\n")
            await reader.read()

        return script

    async def scenario() -> None:
        server = await serving(script_for)
        response = await Pool().request("GET", server.url + "/", [], None, 5)
        chunks = response.chunks()
        assert await anext(chunks) == b"first"  # while the backend waits
        release.set()
        assert [chunk async for chunk in chunks] == [b"last"]

    run(scenario)


def test_a_call_cancelled_while_it_waits_closes_its_connection() -> None:
    asked, closed = asyncio.Event(), asyncio.Event()

    def script_for(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.head(reader)
            asked.set()
            if not await reader.read():  # the end of the stream: the client closed it
                closed.set()

        return script

    async def scenario() -> None:
        server = await serving(script_for)
        call = asyncio.ensure_future(Pool().request("GET", server.url + "/", [], None, 30))
        await asyncio.wait_for(asked.wait(), 5)
        call.cancel()
        await asyncio.wait_for(closed.wait(), 5)  # not left open for the backend to close

    run(scenario)


def test_a_connection_answered_before_its_streamed_body_ended_is_not_reused() -> None:
    answered = asyncio.Event()

    def script_for(server: Server) -> Script:
        async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await server.head(reader)
            if server.connections == 1:  # refuses at once, the body still coming
                writer.write(b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
            else:
                writer.write(OK)
            await reader.read()

        return script

    async def slow_body() -> AsyncIterator[bytes]:
        yield b"abc"
        await answered.wait()
        yield b"def"  # after the answer: never sent, and the connection is not kept

    async def scenario() -> None:
        server = await serving(script_for)
        pool = Pool()
        response = await pool.request("POST", server.url + "/", [], slow_body(), 5)
        answered.set()
        await asyncio.sleep(0.05)  # the body's next chunk comes, finds the answer complete
        assert (response.status, await response.read()) == (413, b"")
        response = await pool.request("GET", server.url + "/", [], None, 2)
        assert (response.status, await response.read()) == (200, b"{}")
        assert server.connections == 2

    run(scenario)


def test_a_whole_answer_closed_unread_gives_its_connection_back() -> None:
    async def scenario() -> None:
        server = await serving(answering(OK, OK))
        pool = Pool()
        response = await pool.request("GET", server.url + "/", [], None, 5)
        response.close()  # a status HTTP does not have, say: the answer is dropped
        response = await pool.request("GET", server.url + "/", [], None, 5)
        assert (response.status, await response.read()) == (200, b"{}")
        assert server.connections == 1

    run(scenario)
