"""Serve the traffic and admin listeners from one uvicorn server (one process, two sockets).

The admin listener (`/-/ready` today; `/metrics`, `/-/reload` and the dashboard later) is a
separate Starlette app; requests are told apart by the local port they arrived on, so one
event loop and one graceful shutdown cover both.
"""

from __future__ import annotations

import socket

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.load import LoadedGateway
from gateway.proxy.app import create_app


def admin_app(gateway: LoadedGateway) -> Starlette:
    async def ready(request: Request) -> Response:
        return JSONResponse({"status": "ready", "apis": sorted(gateway.config.apis)})

    return Starlette(routes=[Route("/-/ready", ready, methods=["GET"])])


def dispatch(traffic: ASGIApp, admin: ASGIApp, admin_port: int) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if scope["type"] != "lifespan" and server is not None and server[1] == admin_port:
            await admin(scope, receive, send)
        else:
            await traffic(scope, receive, send)

    return app


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.set_inheritable(True)
    return listener


def serve(gateway: LoadedGateway, host: str, port: int, admin_port: int) -> None:
    """Run until SIGINT/SIGTERM; in-flight requests finish (uvicorn's graceful shutdown)."""
    app = dispatch(create_app(gateway), admin_app(gateway), admin_port)
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=30,
    )
    uvicorn.Server(config).run(sockets=[_bind(host, port), _bind(host, admin_port)])
