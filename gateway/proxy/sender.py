"""Sending a streamed response to the client: the ASGI messages themselves, and the client's
going noticed after each chunk, so the upstream's response is closed at once.

Starlette's StreamingResponse watched for the client's going with a task group of two tasks
per response (one sending, one waiting on `receive()` for `http.disconnect`): about a quarter
of the gateway's CPU on a stream passed through. uvicorn, which serves the gateway, sets its
request cycle's `disconnected` when the connection is lost (and its `send` then returns
without a word), so asking that flag after each chunk costs an attribute read. A client that
reads slowly holds `send` (uvicorn waits for the socket to drain), and a lost connection
releases it, so a client gone is noticed at the next chunk the upstream sends. Under another
ASGI server, one task waits for `http.disconnect` instead (`_Watcher`).

When the client has gone, the chunks' generator is closed (gateway.proxy.streaming's
`pass_through`: it closes the upstream response and runs the deferred phases, the access log
saying the client went).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from starlette.types import Receive, Scope, Send


class StreamedResponse:
    """A response whose body is sent chunk by chunk as an upstream produces it."""

    __slots__ = ("chunks", "raw_headers", "status_code")

    def __init__(
        self, status: int, headers: list[tuple[bytes, bytes]], chunks: AsyncGenerator[bytes]
    ) -> None:
        self.status_code = status
        self.raw_headers = headers
        self.chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cycle = getattr(receive, "__self__", None)  # uvicorn's request cycle
        watcher = None
        if not hasattr(cycle, "disconnected"):
            cycle = watcher = _Watcher(receive)
        chunks = self.chunks
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            async for chunk in chunks:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                if cycle.disconnected:  # the client has gone: read the upstream no further
                    return
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # a server that says so when the client has gone (ASGI 2.4)
            return
        finally:
            await chunks.aclose()  # when it has not ended: the upstream closed, phases run
            if watcher is not None:
                watcher.task.cancel()


class _Watcher:
    """The client's going, for an ASGI server without uvicorn's flag: a task that waits for
    `http.disconnect` (the request's body was read before its response began)."""

    def __init__(self, receive: Receive) -> None:
        self.disconnected = False
        self.task = asyncio.ensure_future(self._wait(receive))

    async def _wait(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        self.disconnected = True
