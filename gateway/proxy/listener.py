"""uvicorn's httptools protocol with limits on what a client may send and how slowly.

uvicorn alone buffers a request's head however large it grows and waits for it, and for a
body, however slowly it comes: a few connections could make a process hold hundreds of MB of
headers, or every connection it can take, a byte a second each. Here, from gateway.yaml's
`limits` (read when `aigw run` starts):

- the head: `max-request-line` (414), `max-headers` and `max-header-bytes` (431), counted as
  the parser hands over the URL and each header, and as raw bytes while a head is unfinished,
  so a header still being received is bounded too;
- `header-timeout`: the time a head may take from its first unfinished chunk (a connection's
  head from its opening), 408;
- `body-timeout`: the longest gap between two reads of a body the gateway is reading, 408
  (a gap while the gateway itself stopped reading does not count);
- `keep-alive-timeout`: uvicorn's own, but only a request's first byte ends it: blank lines
  between requests do not keep a connection open.

Each refusal closes the connection and counts in `aigw.connections.refused{reason}`.
`trusted-proxies` says whose X-Forwarded-For and X-Forwarded-Proto are believed: by default
nobody's, and the client is the peer. The
request path pays three counters per request: timers are armed only when a head or a body
stays unfinished after a read, which a request sent whole never does.
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
        "LimitedHttpToolsProtocol",
        (LimitedProtocol,),
        {
            "max_line": limits.max_request_line,
            "max_head": limits.max_header_bytes,
            "max_headers": limits.max_headers,
            "head_timeout": limits.header_timeout,
            "body_timeout": limits.body_timeout,
            "refused": refused,
        },
    )


class LimitedProtocol(HttpToolsProtocol):
    max_line = 8 * 1024
    max_head = 32 * 1024
    max_headers = 100
    head_timeout = 10.0
    body_timeout = 30.0
    refused: Counter | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading = _HEAD
        self._received = 0  # raw bytes of the unfinished head
        self._head_size = 0  # the URL and headers the parser handed over
        self._header_count = 0
        self._last_read = 0.0  # when the body's last chunk came
        self._timer: TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._timer = self.loop.call_later(self.head_timeout, self._expired)  # say nothing

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        # uvicorn ends the keep-alive wait on any byte; here on a request's first (begin).
        reading = self._reading
        if reading == _HEAD:
            self._received += len(data)
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
            if self._received > self.max_head:
                self._refuse(431, "header-bytes", f"the request head is over {self.max_head} bytes")
            elif self._timer is None:
                self._timer = self.loop.call_later(self.head_timeout, self._expired)
        elif reading == _BODY:
            self._last_read = self.loop.time()
            if self._timer is None:
                self._timer = self.loop.call_later(self.body_timeout, self._expired)

    def _invalid(self) -> None:
        message = "Invalid HTTP request received."
        self.logger.warning(message)
        self.send_400_response(message)

    # Parser callbacks

    def on_message_begin(self) -> None:
        self._unset_keepalive_if_required()
        super().on_message_begin()
        self._reading = _HEAD
        self._head_size = self._header_count = 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > self.max_line:
            raise Refused(414, "request-line", f"the URL is over {self.max_line} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._head_size += len(name) + len(value) + 4
        if self._header_count > self.max_headers:
            raise Refused(431, "header-count", f"the request has over {self.max_headers} headers")
        if self._head_size + len(self.url) > self.max_head:
            raise Refused(431, "header-bytes", f"the request head is over {self.max_head} bytes")
        # uvicorn's own, inline: this runs for every header of every request.
        name = name.lower()
        value = value.rstrip(b" \t")
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._cancel()
        self._reading = _BODY
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel()
        self._reading = _IDLE
        self._received = 0
        super().on_message_complete()

    # Refusals

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
            self._timer = self.loop.call_later(self.body_timeout, self._expired)
        elif self._reading == _HEAD:
            self._refuse(408, "header-timeout", "the request head took too long")
        elif self._reading == _BODY:
            idle = self.loop.time() - self._last_read
            if idle < self.body_timeout:
                self._timer = self.loop.call_later(self.body_timeout - idle, self._expired)
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
