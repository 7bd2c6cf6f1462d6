"""A fake model provider for tests: OpenAI-shaped answers that show what it received.

    python -m tests.fakes.provider PORT

The assistant's message content is a JSON object with the request's method, path, query and
the headers that matter to the tests (credentials, keys), so tests can assert what the
gateway sent upstream.
"""

from __future__ import annotations

import json
import sys

from aiohttp import web

SEEN_HEADERS = (
    "authorization",
    "api-key",
    "x-api-key",
    "ocp-apim-subscription-key",
    "x-gateway-in",
)


async def chat(request: web.Request) -> web.Response:
    body = await request.json()
    seen = {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "headers": {name: request.headers.get(name) for name in SEEN_HEADERS},
        "model": body.get("model"),
    }
    answer = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1700000000,
        "model": body.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": json.dumps(seen)},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
    }
    return web.json_response(answer, headers={"x-upstream": "fake"})


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/openai/deployments/{deployment}/chat/completions", chat)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None)
