"""uvicorn's httptools protocol with limits on what a client may send and how slowly.

uvicorn alone buffers a request's head however large it grows and waits for it, and for a
body, however slowly it comes: a few connections could make a process hold hundreds of MB of
headers, or every connection it can take, a byte a second each. Here, from gateway.yaml's
`limits` (read when `aigw run` starts):

- the head: `max-request-line` (414), `max-headers` and `max-header-bytes` (431), checked
  once the head is whole, and after each read while it is not (as bytes received then, so a
  header still arriving, which the parser buffers, is bounded too: by the limit and a read);
- `header-timeout`: the time a head may take from its first unfinished chunk (a connection's
  head from its opening), 408;
- `body-timeout`: the longest gap between two reads of a body the gateway is reading, 408
  (a gap while the gateway itself stopped reading does not count);
- `keep-alive-timeout`: uvicorn's own, but only a request's first byte ends it: blank lines
  between requests do not keep a connection open.

Each refusal closes the connection and counts in `aigw.connections.refused{reason}`.
`trusted-proxies` says whose X-Forwarded-For and X-Forwarded-Proto are believed: by default
nobody's, and the client is the peer.

The request path pays a few comparisons per request and none per header: timers are armed
only when a head or a body stays unfinished after a read, which a request sent whole never
does, and the head's size is summed only when the bytes read could hold more than the limit.
"""

from __future__ import annotations

from asyncio import TimerHandle
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from gateway.config.settings import Limits
from gateway.telemetry.series import Counter

_IDLE, _HEAD, _BODY, _DRAIN = 0, 1, 2, 3  # what the connection is reading
# After a refusal: how long what the client still sends is read and dropped before the socket
# closes. Closing on unread bytes makes the kernel send a reset, which can destroy the
# refusal before the client reads it.
LINGER_SECONDS = 2.0


class Refused(Exception):
    """Raised from a parser callback to stop parsing a head over a limit."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def listener_options(limits: Limits, refused: Counter | None) -> dict[str, Any]:
    """uvicorn.Config's options for gateway.yaml's `limits`: the protocol, keep-alive, and
    whose X-Forwarded-For names the client."""
    return {
        "http": guarded_protocol(limits, refused),
        "timeout_keep_alive": limits.keep_alive_timeout,
        # Only a listed proxy may say who the client is (uvicorn's default trusts 127.0.0.1:
        # any local process, or a sidecar relaying anyone, could pass an ip-filter as anyone).
        "proxy_headers": bool(limits.trusted_proxies),
        "forwarded_allow_ips": list(limits.trusted_proxies),
    }


def guarded_protocol(limits: Limits, refused: Counter | None) -> type[HttpToolsProtocol]:
    """The protocol class for uvicorn.Config(http=...), holding these limits."""
    return type(
        "LimitedHttpToolsProtocol", (LimitedProtocol,), {"limits": limits, "refused": refused}
    )


# uvicorn's callbacks, called as functions: `super().x()` costs a super object per call, and
# these run for every request.
_begin = HttpToolsProtocol.on_message_begin
_headers_complete = HttpToolsProtocol.on_headers_complete
_message_complete = HttpToolsProtocol.on_message_complete


class LimitedProtocol(HttpToolsProtocol):
    # Slots, for the request path's sake: uvicorn's protocol already keeps 28 attributes in
    # its __dict__, and more would pass CPython's limit for shared-key dictionaries; the
    # limits are copied in rather than read from the class, which 3.11 does not specialise.
    __slots__ = (
        "_body_timeout",
        "_chunk",
        "_head_timeout",
        "_last_read",
        "_max_head",
        "_max_headers",
        "_max_line",
        "_reading",
        "_received",
        "_timer",
    )
    limits = Limits()
    refused: Counter | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = self.limits
        self._max_line = limits.max_request_line
        self._max_head = limits.max_header_bytes
        self._max_headers = limits.max_headers
        self._head_timeout = limits.header_timeout
        self._body_timeout = limits.body_timeout
        self._reading = _HEAD
        self._received = 0  # raw bytes of the unfinished head
        self._chunk = 0  # the length of the read being parsed
        self._last_read = 0.0  # when the body's last chunk came
        self._timer: TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._timer = self.loop.call_later(self._head_timeout, self._expired)  # say nothing

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn ends the keep-alive wait on any byte; here on a request's first (begin).
        reading = self._reading
        chunk = self._chunk = len(data)
        if reading == _HEAD:
            self._received += chunk
        elif reading == _DRAIN:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            cause = error.__context__
            if isinstance(cause, Refused):
                self._refuse(cause.status, cause.reason, cause.message)
                return
            self._invalid()
            return
        except httptools.HttpParserError:
            self._invalid()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        reading = self._reading
        if reading == _HEAD:
            over = self._over(exact=False)
            if over is not None:
                self._refuse(over.status, over.reason, over.message)
            elif self._timer is None:
                self._timer = self.loop.call_later(self._head_timeout, self._expired)
        elif reading == _BODY:
            self._last_read = self.loop.time()
            if self._timer is None:
                self._timer = self.loop.call_later(self._body_timeout, self._expired)

    def _invalid(self) -> None:
        message = "Invalid HTTP request received."
        self.logger.warning(message)
        self.send_400_response(message)

    # Parser callbacks

    def on_message_begin(self) -> None:
        keep_alive = self.timeout_keep_alive_task
        if keep_alive is not None:
            keep_alive.cancel()
            self.timeout_keep_alive_task = None
        _begin(self)
        self._reading = _HEAD

    def on_headers_complete(self) -> None:
        timer = self._timer
        if timer is not None:
            timer.cancel()
            self._timer = None
        # `_received + _chunk` bounds the head's bytes from above: the exact count (a sum over
        # the headers) is made only when that bound is over the limit.
        if (
            self._received + self._chunk > self._max_head
            or len(self.headers) > self._max_headers
            or len(self.url) > self._max_line
        ):
            over = self._over(exact=True)
            if over is not None:
                raise over
        self._reading = _BODY
        _headers_complete(self)

    def on_message_complete(self) -> None:
        timer = self._timer
        if timer is not None:
            timer.cancel()
            self._timer = None
        self._reading = _IDLE
        self._received = 0
        _message_complete(self)

    # Refusals

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
        elif self._reading == _HEAD:
            self._refuse(408, "header-timeout", "the request head took too long")
        elif self._reading == _BODY:
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
        if self._reading == _HEAD:
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
            cycle.message_event.set()
        self._reading = _DRAIN
        transport = self.transport
        if transport.can_write_eof():
            transport.write_eof()  # the client reads the answer, then the end
            self._timer = self.loop.call_later(LINGER_SECONDS, transport.close)
        else:
            transport.close()
