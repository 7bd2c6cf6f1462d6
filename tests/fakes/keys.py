"""Model lists that check the key, under `/keyed`: what `aigw check` probes a backend with.

`GET /keyed/v1/models` is OpenAI's (`Authorization: Bearer KEY`), or Anthropic's when
`anthropic-version` is sent (`x-api-key: KEY`); `GET /keyed/openai/models?api-version=...` is
Azure OpenAI's (`api-key: KEY`). Only `GOOD_KEY` is accepted: any other is a 401 in the
provider's error shape.
"""

from __future__ import annotations

from aiohttp import web

GOOD_KEY = "fake-good-key"


def _refused(message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_api_key"}}, status=401)


async def models(request: web.Request) -> web.Response:
    if "anthropic-version" in request.headers:
        if request.headers.get("x-api-key") != GOOD_KEY:
            return _refused("invalid x-api-key")
        return web.json_response({"data": [{"type": "model", "id": "claude-x"}], "has_more": False})
    if request.headers.get("Authorization") != f"Bearer {GOOD_KEY}":
        return _refused("Incorrect API key provided")
    return web.json_response({"object": "list", "data": [{"id": "gpt-4o", "object": "model"}]})


async def azure_models(request: web.Request) -> web.Response:
    if "api-version" not in request.query:
        return web.json_response({"error": {"code": "MissingApiVersionParameter"}}, status=400)
    if request.headers.get("api-key") != GOOD_KEY:
        return _refused("Access denied due to invalid subscription key")
    return web.json_response({"object": "list", "data": [{"id": "gpt-4o", "object": "model"}]})


def add_key_routes(app: web.Application) -> None:
    app.router.add_get("/keyed/v1/models", models)
    app.router.add_get("/keyed/openai/models", azure_models)
