"""The admin listener's application, and the worker routes each worker serves on its own socket.

The admin listener (`/-/ready`, `/metrics`, `/-/workers`, `POST /-/reload`) answers for the
whole process group, every route but `/-/ready` behind the admin key when one is configured
(gateway.proxy.admin_auth): a route that needs every worker asks them through the fleet
(gateway.proxy.fleet); `/metrics` adds up every worker's series (`/-/worker/metrics`,
gateway.telemetry.series.merge), `/-/reload` reloads every worker (`/-/worker/reload`). The
worker routes (`/-/worker/...`) answer for one process only and are never served on a TCP port.
"""

from __future__ import annotations

import os
import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from gateway.common.fastjson import dumps
from gateway.proxy.admin_api import admin_api_routes
from gateway.proxy.admin_auth import AdminKey, exposed_lock, guarded
from gateway.proxy.dashboard import dashboard_routes
from gateway.proxy.fleet import WORKER_PREFIX, Answer, Fleet
from gateway.proxy.live import Live
from gateway.telemetry.builtin import SCRAPE_WORKERS
from gateway.telemetry.metrics import PROMETHEUS_CONTENT_TYPE, Metrics
from gateway.telemetry.series import Snapshot, merge, prometheus_text

SCRAPE_TIMEOUT = 10.0  # seconds each worker may take to hand over its series


def admin_app(
    live: Live, fleet: Fleet, metrics: Metrics | None = None, host: str = "127.0.0.1"
) -> ASGIApp:
    """The admin listener's app, as it may be served on `host` (admin_auth.exposed_lock)."""

    def admin_key() -> AdminKey:
        return live.current.wiring.admin_key

    async def ready(request: Request) -> Response:
        config = live.gateway.config
        return JSONResponse(
            {"status": "ready", "version": live.version, "apis": sorted(config.apis)}
        )

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

    async def reload(request: Request) -> Response:
        """Every worker reloads; 200 only when all did (422: diagnostics, 503: no answer)."""
        return reload_answer(await fleet.ask_all("POST", "reload"))

    routes = [
        Route("/-/ready", ready, methods=["GET"]),
        Route("/-/workers", guarded(workers, admin_key), methods=["GET"]),
        Route("/-/reload", guarded(reload, admin_key), methods=["POST"]),
        *admin_api_routes(live, admin_key),
    ]
    if metrics is not None:

        async def prometheus(request: Request) -> Response:
            """Every worker's series, added up: one scrape counts the whole group."""
            answers = await fleet.ask_all("GET", "metrics", timeout=SCRAPE_TIMEOUT)
            merged = merge(answer.body for answer in answers if answer.ok)
            merged["gauges"][SCRAPE_WORKERS.name] = _workers_gauge(
                sum(answer.ok for answer in answers), sum(not answer.ok for answer in answers)
            )
            return Response(prometheus_text(merged), media_type=PROMETHEUS_CONTENT_TYPE)

        routes.append(Route("/metrics", guarded(prometheus, admin_key), methods=["GET"]))
    routes += dashboard_routes(live, fleet, metrics, admin_key)
    return exposed_lock(Starlette(routes=routes), host, admin_key)


def reload_answer(answers: list[Answer]) -> Response:
    """The group's reload: each worker's result, and `version` when they all serve one."""
    results = [
        answer.body
        if isinstance(answer.body, dict) and "ok" in answer.body
        else {"pid": answer.pid, "ok": False, "error": answer.error or f"status {answer.status}"}
        for answer in answers
    ]
    versions = {result.get("version") for result in results}
    reloaded = bool(results) and all(result["ok"] for result in results)
    if reloaded:
        status = 200
    elif all("diagnostics" in result or result["ok"] for result in results):
        status = 422  # every worker answered; the directory has errors
    else:
        status = 503  # a worker did not answer: whether it reloaded is unknown
    version = versions.pop() if len(versions) == 1 else None
    body = {"reloaded": reloaded, "version": version, "workers": results}
    return JSONResponse(body, status_code=status)


def _workers_gauge(answered: int, missing: int) -> Snapshot:
    """How many workers' series a scrape added up, and how many did not answer (a worker
    starting or stuck): a scrape with `missing` above 0 counts less than the group did."""
    return {
        "unit": SCRAPE_WORKERS.unit,
        "description": SCRAPE_WORKERS.description,
        "series": [[{"state": "answered"}, answered], [{"state": "missing"}, missing]],
    }


def worker_app(live: Live, metrics: Metrics | None = None) -> Starlette:
    """What one worker says of itself, asked by a sibling (or itself) through the fleet."""
    started = time.time()

    async def status(request: Request) -> Response:
        answer: dict[str, object] = {
            "pid": os.getpid(),
            "started": round(started, 3),
            "version": live.version,
        }
        if metrics is not None:  # how much of the group's traffic this worker took
            answer["requests"] = metrics.requests_served()
        return JSONResponse(answer)

    async def reload(request: Request) -> Response:
        outcome = await live.reload("POST /-/reload")
        return JSONResponse(outcome.answer(os.getpid()), status_code=200 if outcome.ok else 422)

    routes = [
        Route(WORKER_PREFIX + "status", status, methods=["GET"]),
        Route(WORKER_PREFIX + "reload", reload, methods=["POST"]),
    ]
    if metrics is not None:

        async def series(request: Request) -> Response:
            """This worker's own series (gateway.telemetry.series), for the admin's scrape."""
            return Response(dumps(metrics.snapshot()), media_type="application/json")

        routes.append(Route(WORKER_PREFIX + "metrics", series, methods=["GET"]))
    return Starlette(routes=routes)
