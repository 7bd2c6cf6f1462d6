"""The listener's refusals (gateway.proxy.listener): a head over a limit, a head or a body
too slow. Each answers where the client waits for an answer, counts in
`aigw.connections.refused{reason}`, and closes the connection after a linger."""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE

IDLE, HEAD, BODY, DRAIN = 0, 1, 2, 3  # what the connection is reading
# After a refusal: how long what the client still sends is read and dropped before the socket
# closes. Closing on unread bytes makes the kernel send a reset, which can destroy the
# refusal before the client reads it.
LINGER_SECONDS = 2.0


class Refused(Exception):
    """Raised from a parser callback to stop parsing a head over a limit."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


class Refusals:
    """The refusing half of gateway.proxy.listener's LimitedProtocol (whose attributes it
    uses: the limits, the timer, what the connection is reading)."""

    __slots__ = ()
    _body_timeout: float
    _head_timeout: float
    _max_head: int
    _max_headers: int
    _max_line: int
    _reading: int
    _received: int
    _last_read: float
    _timer: Any
    cycle: Any
    flow: Any
    headers: list[tuple[bytes, bytes]]
    loop: Any
    pipeline: Any
    refused: Any
    transport: Any
    url: bytes

    def _over(self, exact: bool) -> Refused | None:
        """The limit the head so far is over, if any. `exact`: its size from the parsed URL
        and headers (the head is whole); else from the bytes received (a header may still be
        arriving, which the parser keeps to itself)."""
        url = len(self.url)
        if url > self._max_line:
            return Refused(414, "request-line", f"the URL is over {self._max_line} bytes")
        if len(self.headers) > self._max_headers:
            return Refused(431, "header-count", f"the request has over {self._max_headers} headers")
        size = url + sum(len(n) + len(v) + 4 for n, v in self.headers) if exact else self._received
        if size > self._max_head:
            return Refused(431, "header-bytes", f"the request head is over {self._max_head} bytes")
        return None

    def _cancel(self) -> None:
        timer = self._timer
        if timer is not None:
            timer.cancel()
            self._timer = None

    def _expired(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:  # the gateway stopped reading, not the client: wait on
            self._last_read = self.loop.time()
            self._timer = self.loop.call_later(self._body_timeout, self._expired)
        elif self._reading == HEAD:
            self._refuse(408, "header-timeout", "the request head took too long")
        elif self._reading == BODY:
            idle = self.loop.time() - self._last_read
            if idle < self._body_timeout:
                self._timer = self.loop.call_later(self._body_timeout - idle, self._expired)
            else:
                self._refuse(408, "body-timeout", "the request body stopped coming")

    def _refuse(self, status: int, reason: str, message: str) -> None:
        """Answer `status` if no response has begun on this connection, then close it."""
        self._cancel()
        if self.refused is not None:
            self.refused.add((reason,))
        cycle = self.cycle
        # An answer only where the client waits for this request's: never amid another's
        # response, nor ahead of a pipelined request's.
        if self._reading == HEAD:
            answer = cycle is None or cycle.response_complete
        else:
            answer = cycle is not None and not self.pipeline and not cycle.response_started
        if answer:
            body = f"{message}\n".encode()
            self.transport.write(
                b"".join(
                    [
                        STATUS_LINE[status],
                        b"content-type: text/plain; charset=utf-8\r\n",
                        b"content-length: %d\r\n" % len(body),
                        b"connection: close\r\n\r\n",
                        body,
                    ]
                )
            )
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True  # the application's receive() says so; its send is dropped
            cycle.wake()
        self._reading = DRAIN
        transport = self.transport
        if transport.can_write_eof():
            transport.write_eof()  # the client reads the answer, then the end
            self._timer = self.loop.call_later(LINGER_SECONDS, transport.close)
        else:
            transport.close()
