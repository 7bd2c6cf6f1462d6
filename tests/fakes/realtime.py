"""The fake provider's realtime API: a WebSocket session at OpenAI's and Azure's URLs.

On connecting, the session sends `session.created` (naming the model the URL asked for);
`session.update` gets `session.updated`; `response.create` gets `response.created`, the answer
in `response.output_text.delta` pieces, and `response.done` with its usage (USAGE). A binary
frame is echoed back; `{"type": "fake.close", "code": N}` makes the provider close with N.
The last handshake's path, query, credential headers (and the code its session was closed
with) are at `GET /-/realtime`, so tests see what the gateway sent upstream. `?fake-refuse=STATUS` refuses the handshake with STATUS.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from aiohttp import WSMsgType, web

ANSWER = "Hello from the realtime fake."
PIECES = [ANSWER[i : i + 8] for i in range(0, len(ANSWER), 8)]
# Each response's usage: (input, cached input, output) tokens.
USAGE = (11, 4, 6)
SEEN = (
    "authorization",
    "api-key",
    "ocp-apim-subscription-key",
    "x-gateway-in",
    "sec-websocket-protocol",
)
HANDSHAKES: list[dict[str, Any]] = []


def _event(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, "event_id": f"event_{uuid.uuid4().hex[:12]}", **fields})


def _usage() -> dict[str, Any]:
    prompt, cached, completion = USAGE
    return {
        "total_tokens": prompt + completion,
        "input_tokens": prompt,
        "output_tokens": completion,
        "input_token_details": {"cached_tokens": cached, "text_tokens": prompt, "audio_tokens": 0},
        "output_token_details": {"text_tokens": completion, "audio_tokens": 0},
    }


async def _respond(socket: web.WebSocketResponse) -> None:
    response_id, item_id = f"resp_{uuid.uuid4().hex[:12]}", f"item_{uuid.uuid4().hex[:12]}"
    response = {"id": response_id, "object": "realtime.response", "status": "in_progress"}
    await socket.send_str(_event("response.created", response=response))
    for piece in PIECES:
        delta = {"response_id": response_id, "item_id": item_id, "output_index": 0}
        await socket.send_str(
            _event("response.output_text.delta", **delta, content_index=0, delta=piece)
        )
    done = {**response, "status": "completed", "usage": _usage()}
    await socket.send_str(_event("response.done", response=done))


async def realtime(request: web.Request) -> web.StreamResponse:
    seen = {
        "path": request.path,
        "query": dict(request.query),
        "headers": {k: v for k, v in request.headers.items() if k.lower() in SEEN},
        "close_code": None,  # the code the gateway closed the session with
    }
    HANDSHAKES.append(seen)
    refuse = request.query.get("fake-refuse")
    if refuse:
        return web.json_response({"error": {"message": "refused"}}, status=int(refuse))
    socket = web.WebSocketResponse(protocols=("realtime",))
    await socket.prepare(request)
    model = request.query.get("model") or request.query.get("deployment") or ""
    await socket.send_str(_event("session.created", session={"model": model, "type": "realtime"}))
    async for message in socket:
        if message.type == WSMsgType.BINARY:
            await socket.send_bytes(message.data)
            continue
        if message.type != WSMsgType.TEXT:
            break
        event = json.loads(message.data)
        kind = event.get("type")
        if kind == "session.update":
            await socket.send_str(_event("session.updated", session={"model": model}))
        elif kind == "response.create":
            await _respond(socket)
        elif kind == "fake.close":
            await socket.close(code=int(event.get("code", 1000)))
    seen["close_code"] = socket.close_code
    return socket


async def last_handshake(request: web.Request) -> web.Response:
    return web.json_response(HANDSHAKES[-1] if HANDSHAKES else None)


def add_realtime_routes(app: web.Application) -> None:
    app.router.add_get("/v1/realtime", realtime)
    app.router.add_get("/openai/realtime", realtime)
    app.router.add_get("/openai/v1/realtime", realtime)
    app.router.add_get("/-/realtime", last_handshake)
