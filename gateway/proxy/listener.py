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

`trusted-proxies` says whose X-Forwarded-For and X-Forwarded-Proto are believed: by default
nobody's, and the client is the peer.

Each refusal closes the connection and counts in `aigw.connections.refused{reason}`
(gateway.proxy.refusals).

The request path pays a few comparisons per request and none per header: timers are armed
only when a head or a body stays unfinished after a read, which a request sent whole never
does, and the head's size is summed only when the bytes read could hold more than the limit.

The parser's callbacks and the request cycle (gateway.proxy.cycle) are our own, uvicorn's
trimmed: the same scope, messages, keep-alive, pipelining (reading paused while a response
is pending), flow control, 100-continue and WebSocket upgrade (handed to uvicorn's WebSocket
protocol), for a fifth to a quarter fewer instructions a request (bench/listener_bench.py).
The keep-alive wait is one timer a connection, re-armed when it fires early, not one armed
and cancelled per request. uvicorn's own access log (`access_log`, off in `aigw run`) is not
written. The admin and worker sockets are served by the same protocol: uvicorn takes one
protocol class for all of a server's sockets.
"""

from __future__ import annotations

import contextvars
from asyncio import TimerHandle
from typing import Any
from urllib.parse import unquote

import httptools
from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.config.settings import Limits
from gateway.proxy.cycle import Cycle
from gateway.proxy.refusals import BODY, DRAIN, HEAD, IDLE, Refusals, Refused
from gateway.telemetry.series import Counter


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


_ASGI = {"version": "3.0", "spec_version": "2.3"}  # uvicorn's scope["asgi"], shared


class LimitedProtocol(Refusals, HttpToolsProtocol):
    """uvicorn's protocol, its parser callbacks and request cycle (gateway.proxy.cycle) our
    own: the same ASGI scope and messages for less work per request (no per-request Event,
    keep-alive timer or second write), and the limits checked on the way."""

    # Slots, for the request path's sake: uvicorn's protocol already keeps 28 attributes in
    # its __dict__, and more would pass CPython's limit for shared-key dictionaries; the
    # limits are copied in rather than read from the class, which 3.11 does not specialise.
    __slots__ = (
        "_body_timeout",
        "_chunk",
        "_fresh_context",
        "_head_timeout",
        "_idle",
        "_idle_since",
        "_last_read",
        "_max_head",
        "_max_headers",
        "_max_line",
        "_reading",
        "_received",
        "_timer",
        "_upgrade",
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
        self._reading = HEAD
        self._received = 0  # raw bytes of the unfinished head
        self._chunk = 0  # the length of the read being parsed
        self._last_read = 0.0  # when the body's last chunk came
        self._timer: TimerHandle | None = None
        self._idle = False  # between a response's end and the next request's first byte
        self._idle_since = 0.0
        self._upgrade = False  # the request being read is a WebSocket handshake
        self._fresh_context = self.config.reset_contextvars

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._timer = self.loop.call_later(self._head_timeout, self._expired)  # say nothing

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        self.connections.discard(self)
        cycle = self.cycle
        if cycle is not None:
            if not cycle.response_complete:
                cycle.disconnected = True  # receive() says http.disconnect; send drops
            cycle.wake()
        if self.flow is not None:
            self.flow.resume_writing()  # a send waiting for the socket to drain returns
        if exc is None:
            self.transport.close()
        self._unset_keepalive_if_required()
        self.parser = None  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        # uvicorn ends the keep-alive wait on any byte; here on a request's first (begin).
        reading = self._reading
        chunk = self._chunk = len(data)
        if reading == HEAD:
            self._received += chunk
        elif reading == DRAIN:
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
        if reading == HEAD:
            over = self._over(exact=False)
            if over is not None:
                self._refuse(over.status, over.reason, over.message)
            elif self._timer is None:
                self._timer = self.loop.call_later(self._head_timeout, self._expired)
        elif reading == BODY:
            self._last_read = self.loop.time()
            if self._timer is None:
                self._timer = self.loop.call_later(self._body_timeout, self._expired)

    def _invalid(self) -> None:
        message = "Invalid HTTP request received."
        self.logger.warning(message)
        self.send_400_response(message)

    # Parser callbacks (uvicorn's, trimmed)

    def on_message_begin(self) -> None:
        self._idle = False  # the keep-alive wait ends (its timer, left armed, will see)
        self._reading = HEAD
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        # llhttp keeps trailing whitespace, which RFC 9110 section 5.5 excludes from a value.
        value = value.rstrip(b" \t")
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        timer = self._timer
        if timer is not None:
            timer.cancel()
            self._timer = None
        # `_received + _chunk` bounds the head's bytes from above: the exact count (a sum over
        # the headers) is made only when that bound is over the limit.
        url = self.url
        if (
            self._received + self._chunk > self._max_head
            or len(self.headers) > self._max_headers
            or len(url) > self._max_line
        ):
            over = self._over(exact=True)
            if over is not None:
                raise over
        self._reading = BODY
        parser = self.parser
        parsed = httptools.parse_url(url)
        raw_path = parsed.path
        path = raw_path.decode("ascii")
        if "%" in path:
            path = unquote(path)
        root = self.root_path
        if root:
            path, raw_path = root + path, root.encode("ascii") + raw_path
        http_version = parser.get_http_version()
        self.scope = scope = {  # type: ignore[typeddict-unknown-key]
            "type": "http",
            "asgi": _ASGI,
            "http_version": http_version,
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "method": parser.get_method().decode("ascii"),
            "root_path": root,
            "path": path,
            "raw_path": raw_path,
            "query_string": parsed.query or b"",
            "headers": self.headers,
            "state": self.app_state.copy() if self.app_state else {},
        }
        if parser.should_upgrade() and self._should_upgrade():
            self._upgrade = True  # handed to the WebSocket protocol once the parser stops
            return
        limit = self.limit_concurrency
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            app = service_unavailable
            self.logger.warning("Exceeded concurrency limit.")
        else:
            app = self.app
        existing = self.cycle
        self.cycle = cycle = Cycle(
            scope,  # type: ignore[arg-type]
            self.transport,
            self.flow,
            self.server_state.default_headers,
            self.expect_100_continue,
            http_version != "1.0" and parser.should_keep_alive(),
            self.on_response_complete,
        )
        if existing is None or existing.response_complete:
            self._start_asgi_task(cycle, app)  # type: ignore[arg-type]
        else:  # pipelined: read no further until the responses before it are sent
            self.flow.pause_reading()
            self.pipeline.appendleft((cycle, app))  # type: ignore[arg-type]

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        tasks = self.tasks
        if self._fresh_context:  # uvicorn's reset_contextvars
            task = self.loop.create_task(cycle.run(app, tasks), context=contextvars.Context())
        else:
            task = self.loop.create_task(cycle.run(app, tasks))
        tasks.add(task)

    def on_body(self, body: bytes) -> None:
        cycle = self.cycle
        if not self._upgrade and not cycle.response_complete:
            cycle.add_body(body)

    def on_message_complete(self) -> None:
        timer = self._timer
        if timer is not None:
            timer.cancel()
            self._timer = None
        self._reading = IDLE
        self._received = 0
        cycle = self.cycle
        if not self._upgrade and not cycle.response_complete:
            cycle.more_body = False
            cycle.wake()

    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        flow = self.flow
        if flow.read_paused:
            flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        # The keep-alive wait: one timer a connection, not one a request; when it fires it
        # closes an idle connection or waits out what is left of the wait.
        self._idle = True
        self._idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

    def timeout_keep_alive_handler(self) -> None:
        self.timeout_keep_alive_task = None
        if not self._idle or self.transport.is_closing():
            return  # a request came: the next response arms the wait again
        waited = self.loop.time() - self._idle_since
        if waited < self.timeout_keep_alive:
            self.timeout_keep_alive_task = self.loop.call_later(
                self.timeout_keep_alive - waited, self.timeout_keep_alive_handler
            )
        else:
            self.transport.close()
