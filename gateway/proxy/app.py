"""The traffic listener's application.

Traffic goes straight to `Traffic` (a plain ASGI callable: no router or middleware between
the socket and the compiled chains, which the benchmark shows matters), WebSocket handshakes
to `Sockets` (gateway.proxy.sockets); Starlette serves
`/-/health` and runs the lifespan that closes what `Wiring` built (backend sessions, stores).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.load import LoadedGateway
from gateway.proxy.sockets import Sockets
from gateway.proxy.traffic import Traffic
from gateway.proxy.wiring import Wiring
from gateway.telemetry.metrics import Metrics
from gateway.telemetry.tracing import Tracing


async def _health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(
    gateway: LoadedGateway, metrics: Metrics | None = None, tracing: Tracing | None = None
) -> ASGIApp:
    wiring = Wiring(gateway.config, metrics, tracing, gateway.root)
    traffic = Traffic(gateway, wiring)
    sockets = Sockets(traffic, wiring.forwarder)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await wiring.close()

    service = Starlette(routes=[Route("/-/health", _health, methods=["GET"])], lifespan=lifespan)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] != "/-/health":
            await traffic(scope, receive, send)
        elif scope["type"] == "websocket":  # a WebSocket API's handshake (realtime)
            await sockets(scope, receive, send)
        else:
            await service(scope, receive, send)

    return app
