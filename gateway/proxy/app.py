"""The traffic listener's application.

Traffic goes straight to the serving generation's `Traffic` (a plain ASGI callable: no router
or middleware between the socket and the compiled chains, which the benchmark shows matters),
WebSocket handshakes to its `Sockets` (gateway.proxy.sockets); `Live` (gateway.proxy.live)
picks the generation once per request, so a reload swaps it for new requests only. Starlette
serves `/-/health` and runs the lifespan: at start it installs the SIGHUP handler (a reload)
and the directory watch; at the end it closes what the generations built.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.proxy.live import Live


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(live: Live) -> ASGIApp:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # uvicorn handles only SIGINT and SIGTERM; SIGHUP reloads, as daemons' SIGHUP does.
        # (Signals reach the main thread only: an app served from another thread, as some
        # tests serve it, reloads through POST /-/reload alone.)
        if threading.current_thread() is threading.main_thread():
            asyncio.get_running_loop().add_signal_handler(
                signal.SIGHUP, lambda: live.spawn(live.reload("SIGHUP"))
            )
        await live.start()
        yield
        await live.close()

    service = Starlette(routes=[Route("/-/health", _health, methods=["GET"])], lifespan=lifespan)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if (kind == "http" and scope["path"] != "/-/health") or kind == "websocket":
            current = live.current  # read once: the request ends on the chains it began with
            current.in_flight += 1
            try:
                if kind == "http":
                    await current.traffic(scope, receive, send)
                else:  # a WebSocket API's handshake (realtime)
                    await current.sockets(scope, receive, send)
            finally:
                current.in_flight -= 1
        else:
            await service(scope, receive, send)

    return app
