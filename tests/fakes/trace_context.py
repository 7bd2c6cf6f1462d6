"""The W3C trace context each request brought to the fake provider, added by
`add_trace_context_log`: `GET /-/traceparents` lists the `traceparent` (or None) of every
request but the `/-/` test routes, in arrival order; `DELETE /-/traceparents` empties it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TRACEPARENTS: list[str | None] = []


@web.middleware
async def traced(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/-/"):
        TRACEPARENTS.append(request.headers.get("traceparent"))
    return await handler(request)


async def listed(request: web.Request) -> web.Response:
    return web.json_response(TRACEPARENTS)


async def cleared(request: web.Request) -> web.Response:
    TRACEPARENTS.clear()
    return web.json_response([])


def add_trace_context_log(app: web.Application) -> None:
    app.middlewares.append(traced)
    app.router.add_get("/-/traceparents", listed)
    app.router.add_delete("/-/traceparents", cleared)
