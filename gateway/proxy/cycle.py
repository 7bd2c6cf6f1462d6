"""One request and its response on a listener's connection: the ASGI `receive` and `send`.

Trimmed from uvicorn's `RequestResponseCycle` (uvicorn/protocols/http/httptools_impl.py,
uvicorn 0.55.0), whose semantics it keeps: `receive()` gives `http.request` messages (the body
as it came, `more_body`), then `http.disconnect` once the response is complete or the client
has gone; the first `receive()` of a request sent with `Expect: 100-continue` answers
`100 Continue`; `send()` waits while the transport's buffer is over its high-water mark, frames
the body by the response's content-length or chunked (chunked when it gave neither; nothing
for HEAD, 204 and 304), adds `connection: close` where the connection will close, and refuses
header names and values that would split the response. `disconnected` is read by
gateway.proxy.sender (through `receive.__self__`) and set by the protocol when the client has
gone; `send` then drops what it is given.

What is left out, per request: an `asyncio.Event` (a future is made only when `receive()`
must wait, which a request whose body came with its head never does), the per-instance
logger and access-log attributes, and a second write: a response that declares its length
(or has no body) keeps its head until its first body message and writes both at once, one
send(2) rather than two (a chunked response, a stream, writes its head at once).

uvicorn is Copyright © 2017-present, Encode OSS Ltd. All rights reserved. Redistribution and
use in source and binary forms, with or without modification, are permitted provided that the
following conditions are met: redistributions of source code must retain the above copyright
notice, this list of conditions and the following disclaimer; redistributions in binary form
must reproduce the above copyright notice, this list of conditions and the following
disclaimer in the documentation and/or other materials provided with the distribution;
neither the name of the copyright holder nor the names of its contributors may be used to
endorse or promote products derived from this software without specific prior written
permission. THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND
ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF
MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE
COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL,
EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE
GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND
ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING
NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED
OF THE POSSIBILITY OF SUCH DAMAGE.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.http.flow_control import HIGH_WATER_LIMIT, FlowControl
from uvicorn.protocols.http.httptools_impl import HEADER_RE, HEADER_VALUE_RE, STATUS_LINE

log = logging.getLogger("uvicorn.error")

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_FRAMING = frozenset((b"content-length", b"transfer-encoding", b"connection"))
_NO_BODY = (204, 304)
_SERVER_ERROR = [  # uvicorn's 500, with its headers
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", b"21"),
    (b"connection", b"close"),
]


# A response header's name as the app gives it -> its lower-case bytes, once found valid: the
# same few names come in every response, and each cost three calls in C a response to check
# and lower. (Names come from backends and policies too: the cache is bounded.)
_NAMES: dict[bytes, bytes] = {}
_MOST_NAMES = 2048


def _checked(name: bytes) -> bytes:
    """`name` lowered, and kept, if it is a valid header name (uvicorn's check, after a test
    in C that passes a usual one: letters, digits and dashes); else RuntimeError, not kept."""
    if not name.replace(b"-", b"").isalnum() and HEADER_RE.search(name):
        raise RuntimeError("Invalid HTTP header name.")
    lowered = name.lower()
    if len(_NAMES) >= _MOST_NAMES:
        _NAMES.clear()
    _NAMES[name] = lowered
    return lowered


# The server's own headers (Date, ...) as written, for the list they were written from: uvicorn
# makes a new list when they change (each second, for Date), and every response until then
# writes the same lines. (Holding the list keeps its identity from being reused.)
_server: list[Any] = [None, b""]


def _server_lines(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The lines of the server's own headers (valid: the server made them)."""
    if headers is not _server[0]:
        _server[1] = b"".join(b"%s: %s\r\n" % (name, value) for name, value in headers)
        _server[0] = headers
    return _server[1]


class Cycle:
    """A request's ASGI receive and send on a connection (gateway.proxy.listener makes one per
    request, once its head is parsed)."""

    __slots__ = (
        "body",
        "chunked",
        "default_headers",
        "disconnected",
        "flow",
        "head",
        "head_only",
        "keep_alive",
        "more_body",
        "on_response",
        "ready",
        "remaining",
        "response_complete",
        "response_started",
        "scope",
        "transport",
        "waiter",
        "waiting_for_100_continue",
    )

    def __init__(
        self,
        scope: dict[str, Any],
        transport: asyncio.Transport,
        flow: FlowControl,
        default_headers: list[tuple[bytes, bytes]],
        expect_100_continue: bool,
        keep_alive: bool,
        on_response: Callable[[], None],
    ) -> None:
        self.scope = scope
        self.transport = transport
        self.flow = flow
        self.default_headers = default_headers
        self.on_response: Callable[[], None] | None = on_response
        self.disconnected = False
        self.keep_alive = keep_alive
        self.waiting_for_100_continue = expect_100_continue
        self.body = b""  # what came of the body since the last receive()
        self.more_body = True
        self.ready = False  # uvicorn's message_event, set: something for receive() to say
        self.waiter: asyncio.Future[None] | None = None  # receive() waiting on the protocol
        self.response_started = False
        self.response_complete = False
        self.chunked = False
        self.head_only = scope["method"] == "HEAD"
        self.remaining = 0  # the response body's bytes still due by its content-length
        self.head: bytes | None = None  # the response's head, kept for its first body bytes

    def wake(self) -> None:
        """The protocol's news (a body's bytes, its end, the client gone, the response sent)."""
        self.ready = True
        waiter = self.waiter
        if waiter is not None:
            self.waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def add_body(self, body: bytes) -> None:
        # bytes, not uvicorn's bytearray: a body read whole is passed on uncopied; what piles
        # up unreceived stays under HIGH_WATER_LIMIT and a read, as reading pauses past it.
        self.body += body
        if len(self.body) > HIGH_WATER_LIMIT:
            self.flow.pause_reading()
        self.wake()

    async def run(self, app: Any, tasks: set[asyncio.Task[None]]) -> None:
        """Call the app; `tasks` (uvicorn's, which a shutdown waits on) holds this task until
        it ends (a done callback would cost a loop iteration per request)."""
        try:
            result = await app(self.scope, self.receive, self.send)
        except BaseException as exc:
            log.error("Exception in ASGI application\n", exc_info=exc)
            if not self.response_started or self.head is not None:
                self._answer_500()
            else:
                self.transport.close()
        else:
            if result is not None:
                log.error("ASGI callable should return None, but returned '%s'.", result)
                self.transport.close()
            elif self.disconnected:
                pass
            elif not self.response_started:
                log.error("ASGI callable returned without starting response.")
                self._answer_500()
            elif not self.response_complete:
                log.error("ASGI callable returned without completing response.")
                if self.head is not None:  # nothing was written: the head goes, then the end
                    self.transport.write(self.head)
                self.transport.close()
        finally:
            self.on_response = None
            tasks.discard(asyncio.current_task())  # type: ignore[arg-type]

    def _answer_500(self) -> None:
        """uvicorn's `send_500_response`, where nothing of the response was written yet."""
        self.head = None  # a head kept, never written: replaced
        if not self.disconnected:
            self._start(500, _SERVER_ERROR)
            self._body(b"Internal Server Error", False)

    async def send(self, message: Any) -> None:
        flow = self.flow
        if flow.write_paused and not self.disconnected:
            await flow.drain()
        if self.disconnected:
            return
        if not self.response_started:
            if message["type"] != "http.response.start":
                raise RuntimeError(
                    f"Expected ASGI message 'http.response.start', but got '{message['type']}'."
                )
            self._start(message["status"], message.get("headers", ()))
        elif not self.response_complete:
            if message["type"] != "http.response.body":
                raise RuntimeError(
                    f"Expected ASGI message 'http.response.body', but got '{message['type']}'."
                )
            self._body(message.get("body", b""), message.get("more_body", False))
        else:
            raise RuntimeError(
                f"Unexpected ASGI message '{message['type']}' sent, after response already "
                "completed."
            )

    def _start(self, status: int, headers: Any) -> None:
        self.response_started = True
        self.waiting_for_100_continue = False
        content = [STATUS_LINE[status], _server_lines(self.default_headers)]
        length: int | None = None
        close = False
        names = _NAMES
        for name, value in headers:
            # uvicorn's checks, which would let a header split the response: the name's made
            # once per name (`_checked`), the value's after a test in C that passes a usual
            # value (printable), a third of the regular expression's time.
            name = names[name] if name in names else _checked(name)
            if not value.decode("latin-1").isprintable() and HEADER_VALUE_RE.search(value):
                raise RuntimeError("Invalid HTTP header value.")
            if name in _FRAMING:
                if name == b"content-length":
                    if length is None and not self.chunked:
                        length = int(value.decode())
                elif name == b"transfer-encoding":
                    if value.lower() == b"chunked":
                        length, self.chunked = None, True
                elif b"close" in [token.lower().strip() for token in value.split(b",")]:
                    self.keep_alive = False
                    close = True
            content += (name, b": ", value, b"\r\n")
        if not self.keep_alive and not close:
            content.append(b"connection: close\r\n")
        if length is not None:
            self.remaining = length
        elif not self.chunked and not self.head_only and status not in _NO_BODY:
            self.chunked = True  # neither content-length nor transfer-encoding given
            content.append(b"transfer-encoding: chunked\r\n")
        content.append(b"\r\n")
        head = b"".join(content)
        if self.chunked:
            self.transport.write(head)  # a stream: its head at once, whenever its chunks come
        else:
            self.head = head

    def _body(self, body: bytes, more_body: bool) -> None:
        head = self.head
        if self.head_only:
            self.remaining = 0
            out = b""
        elif self.chunked:
            out = b"%x\r\n%b\r\n" % (len(body), body) if body else b""
            if not more_body:
                out += b"0\r\n\r\n"
        else:
            if len(body) > self.remaining:
                raise RuntimeError("Response content longer than Content-Length")
            self.remaining -= len(body)
            out = body
        if head is not None:
            self.head = None
            out = head + out if out else head
        if out:
            self.transport.write(out)
        if not more_body:
            if self.remaining:
                raise RuntimeError("Response content shorter than Content-Length")
            self.response_complete = True
            self.wake()
            if not self.keep_alive:
                self.transport.close()
            if self.on_response is not None:
                self.on_response()

    async def receive(self) -> dict[str, Any]:
        if self.waiting_for_100_continue and not self.transport.is_closing():
            self.transport.write(_CONTINUE)
            self.waiting_for_100_continue = False
        if not self.disconnected and not self.response_complete:
            flow = self.flow
            if flow.read_paused:
                flow.resume_reading()
            if not self.ready:
                waiter = self.waiter = asyncio.get_running_loop().create_future()
                await waiter
            self.ready = False
        if self.disconnected or self.response_complete:
            return {"type": "http.disconnect"}
        body, self.body = self.body, b""
        return {"type": "http.request", "body": body, "more_body": self.more_body}
