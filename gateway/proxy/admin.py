"""The admin listener's application, and the worker routes each worker serves on its own socket.

The admin listener (`/-/ready`, `/metrics`, `/-/workers`) answers for the whole process group:
a route that needs every worker asks them through the fleet (gateway.proxy.fleet). The worker
routes (`/-/worker/...`) answer for one process only and are never served on a TCP port.
"""

from __future__ import annotations

import os
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.load import LoadedGateway
from gateway.proxy.fleet import WORKER_PREFIX, Fleet
from gateway.telemetry.metrics import PROMETHEUS_CONTENT_TYPE, Metrics


def admin_app(gateway: LoadedGateway, fleet: Fleet, metrics: Metrics | None = None) -> Starlette:
    async def ready(request: Request) -> Response:
        return JSONResponse({"status": "ready", "apis": sorted(gateway.config.apis)})

    async def workers(request: Request) -> Response:
        """Every worker of the group and whether it answered: a dead or stuck one shows."""
        answers = await fleet.ask_all("GET", "status", timeout=5)
        return JSONResponse(
            {
                "workers": [
                    {"pid": answer.pid, "ok": answer.ok, "status": answer.body}
                    if answer.ok
                    else {"pid": answer.pid, "ok": False, "error": answer.error}
                    for answer in answers
                ]
            },
            status_code=200 if all(answer.ok for answer in answers) else 503,
        )

    routes = [
        Route("/-/ready", ready, methods=["GET"]),
        Route("/-/workers", workers, methods=["GET"]),
    ]
    if metrics is not None:

        async def prometheus(request: Request) -> Response:
            return Response(metrics.prometheus_text(), media_type=PROMETHEUS_CONTENT_TYPE)

        routes.append(Route("/metrics", prometheus, methods=["GET"]))
    return Starlette(routes=routes)


def worker_app() -> Starlette:
    """What one worker says of itself, asked by a sibling (or itself) through the fleet."""
    started = time.time()

    async def status(request: Request) -> Response:
        return JSONResponse({"pid": os.getpid(), "started": round(started, 3)})

    return Starlette(routes=[Route(WORKER_PREFIX + "status", status, methods=["GET"])])
