"""The fake provider's request log and Anthropic's side routes, added by `add_request_log`.

`GET /-/requests` lists every request the provider received (method, path, and `raw_path`:
the target as it came, still percent-encoded, with its query; the `/-/` test routes left out), so a test can prove that nothing was sent upstream; `DELETE
/-/requests` empties it. Anthropic's `POST /v1/messages/count_tokens` answers a count of its
own (`COUNTED`: a passed-through count shows as that number), and `GET /v1/models` with an
`anthropic-version` header (only Anthropic's SDK and the gateway's translation send it)
answers Anthropic's model list instead of OpenAI's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REQUESTS: list[dict[str, str]] = []
COUNTED = 4242  # the count Anthropic's fake count_tokens answers
ANTHROPIC_MODELS = [
    {
        "type": "model",
        "id": "claude-sonnet-4-20250514",
        "display_name": "Claude Sonnet 4",
        "created_at": "2025-05-22T00:00:00Z",
    },
    {
        "type": "model",
        "id": "claude-opus-4-20250514",
        "display_name": "Claude Opus 4",
        "created_at": "2025-05-22T00:00:00Z",
    },
]


@web.middleware
async def logged(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/-/"):
        REQUESTS.append(
            {"method": request.method, "path": request.path, "raw_path": request.raw_path}
        )
    if request.path == "/v1/models" and "anthropic-version" in request.headers:
        return anthropic_models(request)
    return await handler(request)


def anthropic_models(request: web.Request) -> web.Response:
    """Anthropic's model list (one page: the fake has fewer models than any `limit`)."""
    listed = ANTHROPIC_MODELS[: int(request.query.get("limit", "20"))]
    page = {
        "data": listed,
        "has_more": False,
        "first_id": listed[0]["id"] if listed else None,
        "last_id": listed[-1]["id"] if listed else None,
    }
    return web.json_response(page, headers={"request-id": "req_fake_models"})


async def count_tokens(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"input_tokens": COUNTED})


async def requests(request: web.Request) -> web.Response:
    return web.json_response(REQUESTS)


async def forget(request: web.Request) -> web.Response:
    REQUESTS.clear()
    return web.json_response(REQUESTS)


def add_request_log(app: web.Application) -> None:
    app.middlewares.append(logged)
    app.router.add_get("/-/requests", requests)
    app.router.add_delete("/-/requests", forget)
    app.router.add_post("/v1/messages/count_tokens", count_tokens)
