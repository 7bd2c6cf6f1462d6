"""HTTP/1.1 to a backend: one connection, a request written on it and its response parsed.

The gateway's calls to backends used to go through aiohttp's client, which cost about 60 µs
of CPU a call on the project's machine (its request and response objects, stream reader,
timers and hooks); a connection of our own, whose response httptools parses (the parser
uvicorn uses for requests), costs about 12. A gateway needs little of a general client: no
cookies, no proxies from the environment, no decompression (responses pass through as sent),
no multipart. What it needs is here: keep-alive, bodies by length, chunked or until the
connection closes, a request body as bytes or streamed (by its length, or chunked), interim
1xx answers skipped, HEAD, a read timeout that counts idle time only, and reading paused
while a streamed response's reader is behind (gateway.proxy.pool keeps the connections).

Errors are `UpstreamError`s (gateway.proxy.upstream_errors), each with `why`: a few general
words for the client (gateway.proxy.unreachable); their text, with the host, goes to the log only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httptools

from gateway.proxy.upstream_errors import (
    Disconnected,
    InvalidRequest,
    InvalidResponse,
    Reset,
    Timeout,
    Truncated,
    UpstreamError,
)

# A streamed response's reader this far behind pauses reading from the backend.
HIGH_WATER = 256 * 1024
_FRAMING = frozenset({"content-length", "transfer-encoding"})


def request_head(
    method: str,
    target: str,
    host: str,
    headers: list[tuple[str, str]],
    framing: str,
    fixed: str = "",
) -> bytes:
    """The request line and headers, then `fixed` (header lines formatted once for every call
    to a backend: ASCII, no line break inside one, gateway.proxy.credentials), then `framing`
    (the body's Content-Length or chunked Transfer-Encoding line, or nothing). A line break in
    a name or value would smuggle a header in: refused (the policies refuse them long before;
    this guards the wire itself)."""
    lines = "".join([f"{name}: {value}\r\n" for name, value in headers])
    if lines.count("\n") != len(headers) or lines.count("\r") != len(headers):
        raise InvalidRequest("a header's name or value holds a line break")
    text = f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{lines}{fixed}{framing}\r\n"
    try:
        return text.encode("latin-1")  # as the client's headers were read
    except UnicodeEncodeError:  # a policy wrote text beyond Latin-1: UTF-8, as servers read it
        return text.encode("utf-8")


class Connection(asyncio.Protocol):
    """One connection to a backend, carrying one exchange at a time; once an answer is read
    whole and the backend keeps the connection alive, it goes to `release` (its pool)."""

    __slots__ = (
        "_drained",
        "idle_since",
        "loop",
        "lost",
        "parser",
        "release",
        "response",
        "reused",
        "timer",
        "transport",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        release: Callable[[Connection], None] | None = None,
    ) -> None:
        self.loop = loop
        self.release = release  # takes the connection back once it is idle (or closes it)
        self.transport: asyncio.Transport | None = None
        self.response: Response | None = None  # the exchange in progress
        self.parser: httptools.HttpResponseParser | None = None
        self.lost = False
        self.reused = False
        self.idle_since = 0.0
        # The read timeout's timer, kept from one exchange to the next: a timer made and
        # cancelled for every call showed in profiles. It may fire early (an exchange began
        # since, or a longer timeout): then it is set again for when the wait would be over.
        self.timer: asyncio.TimerHandle | None = None
        self._drained: asyncio.Future[None] | None = None

    # asyncio's callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        response, parser = self.response, self.parser
        if response is None or parser is None:  # nothing asked: a server out of step
            self.close()
            return
        response.last_read = self.loop.time()
        response.received = True
        try:
            parser.feed_data(data)
        except httptools.HttpParserError as error:
            response.fail(InvalidResponse(f"unparsable answer: {error}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self._stop_timer()
        if self.response is not None:
            self.response.connection_lost(exc)
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    def pause_writing(self) -> None:
        self._drained = self.loop.create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    # the exchange

    def start(self, method: str, head: bytes, body: bytes | None, timeout: float) -> Response:
        """Write a request whose body is bytes (or none); its response, being read. The
        response fails when nothing comes from the backend for `timeout` seconds."""
        response = self._expect(method, timeout)
        assert self.transport is not None
        self.transport.write(head + body if body else head)
        return response

    def start_streamed(
        self, method: str, head: bytes, body: AsyncIterator[bytes], chunked: bool, timeout: float
    ) -> Response:
        """Write a request whose body streams in (the client's, as it arrives)."""
        response = self._expect(method, timeout)
        assert self.transport is not None
        self.transport.write(head)
        response.sending = self.loop.create_task(self._send(body, chunked, response))
        return response

    def _expect(self, method: str, timeout: float) -> Response:
        response = Response(self, method == "HEAD", timeout)
        self.response = response
        self.parser = httptools.HttpResponseParser(response)
        response.last_read = now = self.loop.time()
        due = now + timeout
        timer = self.timer
        if timer is None or timer.when() > due:  # none set, or set too late for this call
            if timer is not None:
                timer.cancel()
            self.timer = self.loop.call_at(due, self.check_idle)
        return response

    def check_idle(self) -> None:
        """The read timeout's timer: the exchange in progress checks its idle time."""
        self.timer = None
        if self.response is not None:
            self.response.check_idle()

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    async def _send(self, body: AsyncIterator[bytes], chunked: bool, response: Response) -> None:
        transport = self.transport
        assert transport is not None
        try:
            async for chunk in body:
                if response.complete or self.lost:  # answered early (a 413, say): the rest
                    self.close()  # goes unsent, so the connection cannot carry another call
                    return
                if chunk:
                    transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk) if chunked else chunk)
                    response.last_read = self.loop.time()  # sending is not idling
                if self._drained is not None:
                    await self._drained
            else:
                if chunked and not self.lost:
                    transport.write(b"0\r\n\r\n")
        except BaseException as error:  # the client's body failed (gone, too large)
            response.fail(error)
            self.close()
            if not isinstance(error, Exception):
                raise

    def finished(self, response: Response) -> None:
        """`response` was read to its end: back to the pool for another exchange, or closed."""
        if self.response is not response:
            return
        self.response = self.parser = None
        sending = response.sending
        if self.lost or not response.keep_alive or (sending is not None and not sending.done()):
            self.close()
        elif self.release is not None:
            self.release(self)

    def close(self) -> None:
        self.lost = True
        self._stop_timer()
        if self.transport is not None:
            self.transport.close()


class Response:
    """A backend's response as it is parsed: status, headers, then the body's chunks.

    Also the parser's callback object (httptools calls its `on_*` methods)."""

    __slots__ = (
        "_buffered",
        "_chunks",
        "_paused",
        "_streaming",
        "_waiter",
        "complete",
        "connection",
        "error",
        "got_head",
        "head_only",
        "headers",
        "keep_alive",
        "last_read",
        "reason",
        "received",
        "sending",
        "status",
        "timeout",
    )

    def __init__(self, connection: Connection, head_only: bool, timeout: float) -> None:
        self.connection = connection
        self.head_only = head_only
        self.timeout = timeout
        self.status = 0
        self.reason = ""
        self.headers: list[tuple[str, str]] = []
        self.keep_alive = False
        self.complete = False
        self.received = False  # any byte of it: a failure after that is not a stale connection
        self.last_read = 0.0
        self.sending: asyncio.Task[None] | None = None
        self.got_head = False
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._streaming = False
        self._paused = False
        self.error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None

    # httptools' callbacks

    def on_status(self, reason: bytes) -> None:
        self.reason = reason.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        # Every header of every answer comes here: kept, nothing more (whether the body is
        # framed is read from them only when a connection closes mid-answer: rare).
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        parser = self.connection.parser
        assert parser is not None
        status = parser.get_status_code()
        if 100 <= status < 200:  # an interim answer (100 Continue): the real one follows
            self.headers, self.reason = [], ""
            return
        self.status = status
        self.keep_alive = parser.should_keep_alive()
        self.got_head = True
        if self.head_only or status in (204, 304):  # no body, whatever the headers say
            self.on_message_complete()
        else:
            self._wake()

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)
        self._buffered += len(body)
        if self._streaming:
            self._wake()
            if not self._paused and self._buffered > HIGH_WATER:
                self._paused = True
                transport = self.connection.transport
                if transport is not None:
                    transport.pause_reading()

    def on_message_complete(self) -> None:
        if not self.got_head:  # the end of an interim answer
            return
        if self.complete:
            return
        self.complete = True  # the connection's timer, when it fires, finds nothing to check
        self._wake()

    # the connection's and the timer's news

    def connection_lost(self, exc: Exception | None) -> None:
        if self.complete:
            return
        if self.got_head and not self._framed():  # a body delimited by the connection's close
            self.keep_alive = False
            self.on_message_complete()
            return
        if not self.got_head:
            error: UpstreamError = (Reset if exc is not None else Disconnected)(
                f"the connection closed before the answer's head: {exc or 'closed'}"
            )
        elif exc is not None:
            error = Reset(f"the connection was lost mid-answer: {exc}")
        else:
            error = Truncated("the answer ended before its length or its last chunk")
        self.fail(error)

    def _framed(self) -> bool:
        """Whether the body is framed by Content-Length or chunks, rather than by the close."""
        return any(name.lower() in _FRAMING for name, _ in self.headers)

    def check_idle(self) -> None:
        """The read timeout's check (its connection's timer): fail when nothing came for
        `timeout` seconds, unless the reader is what stopped the reading."""
        connection = self.connection
        now, due = connection.loop.time(), self.last_read + self.timeout
        if self.complete or self.error is not None:
            return
        if self._paused or due > now:
            connection.timer = connection.loop.call_at(
                now + self.timeout if self._paused else due, connection.check_idle
            )
            return
        self.fail(Timeout(f"nothing came for {self.timeout:g} seconds"))
        connection.close()

    def fail(self, error: BaseException) -> None:
        if self.error is None and not self.complete:
            self.error = error
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def waiting(self) -> asyncio.Future[None]:
        """A future for the next news (`_wake` sets it; a done one is never set again)."""
        waiter = self._waiter = self.connection.loop.create_future()
        return waiter

    async def _wait(self) -> None:
        # (gateway.proxy.pool waits for the head the same way, inline: a coroutine fewer.)
        try:
            await self.waiting()
        except BaseException:  # cancelled (a race's loser, a client gone): abandoned
            self.close()
            raise

    # the reader's side

    def header(self, name: str) -> str | None:
        """A header's first value, by its lower-case name."""
        size = len(name)  # lengths first: no lower-case copy of the names that differ in it
        for key, value in self.headers:
            if len(key) == size and key.lower() == name:
                return value
        return None

    def whole(self) -> bytes | None:
        """The whole body if it has all come (the connection goes back to its pool), else
        None: then `read`. Most answers are whole once their head is read, and need no
        coroutine of `read`'s to be taken."""
        if not self.complete:
            return None
        body = b"".join(self._chunks)
        self._chunks.clear()
        self.connection.finished(self)
        return body

    async def read(self) -> bytes:
        """The whole body; the connection goes back to its pool."""
        while not self.complete:
            if self.error is not None:
                self.connection.close()
                raise self.error
            await self._wait()
        return self.whole() or b""  # complete: never None

    async def chunks(
        self, broken: Callable[[UpstreamError], Exception] | None = None
    ) -> AsyncIterator[bytes]:
        """The body as it arrives. Ended early (its reader closed), the connection closes.
        `broken`: the error to raise in place of an UpstreamError (the caller's own words),
        so that a caller need not wrap this generator in another, a step per chunk."""
        self._streaming = True
        connection = self.connection
        try:
            while True:
                if self._chunks:
                    chunks, self._chunks, self._buffered = self._chunks, [], 0
                    if self._paused:
                        self._paused = False
                        if connection.transport is not None and not connection.lost:
                            connection.transport.resume_reading()
                    for chunk in chunks:
                        yield chunk
                elif self.complete:
                    return
                elif self.error is not None:
                    if broken is not None and isinstance(self.error, UpstreamError):
                        raise broken(self.error) from None
                    raise self.error
                else:  # the future itself, not _wait: a cancelled reader closes below
                    await self.waiting()
        finally:
            self.close()  # whole: back to the pool (a request body still sending stops)

    def close(self) -> None:
        """Give up on the rest: the connection closes, unless the answer was whole (then it
        goes back to its pool)."""
        if self.sending is not None and not self.sending.done():
            self.sending.cancel()
        if self.complete:
            self.connection.finished(self)
            return
        self.connection.close()
