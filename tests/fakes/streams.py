"""Fake streams framed as the SSE specification allows, under `/framed/v1` (chat and legacy
completions), for tests of how the gateway reads streams.

Each request says how its stream is framed, by headers (the gateway passes them on):

- `x-fake-eol`: `lf` (the default), `crlf` or `cr`, the line end of every line;
- `x-fake-fancy: 1`: a comment before each event, and each event's JSON over two `data:` lines;
- `x-fake-linger`: seconds the body stays open after `data: [DONE]` before it ends (the
  openai SDK closes its connection at `[DONE]`, so the gateway sees the client go first);
- `x-fake-answer`: the answer's text (else "answer N", N the call's number).

The usage chunk (no choices) comes only when `stream_options.include_usage` asks, as OpenAI
sends it. `GET /framed/-/calls` counts the calls by operation, and `GET /framed/-/ends` how
each stream ended ("completed" or "cut": the gateway went before the body ended).
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

CALLS = {"chat": 0, "completions": 0}
ENDS = {"completed": 0, "cut": 0}
USAGE = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
EOLS = {"lf": "\n", "crlf": "\r\n", "cr": "\r"}


def add_stream_routes(app: web.Application) -> None:
    app.router.add_post("/framed/v1/chat/completions", chat)
    app.router.add_post("/framed/v1/completions", completions)
    app.router.add_get("/framed/-/calls", lambda _: web.json_response(CALLS))
    app.router.add_get("/framed/-/ends", lambda _: web.json_response(ENDS))


async def chat(request: web.Request) -> web.StreamResponse:
    return await _answer(request, "chat")


async def completions(request: web.Request) -> web.StreamResponse:
    return await _answer(request, "completions")


async def _answer(request: web.Request, kind: str) -> web.StreamResponse:
    CALLS[kind] += 1
    body = await request.json()
    text = request.headers.get("x-fake-answer") or f"answer {CALLS[kind]}"
    head = {"id": f"fake-{kind}-{CALLS[kind]}", "created": 1700000000, "model": body["model"]}
    if not body.get("stream"):
        return web.json_response(_document(kind, head, text))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    eol = EOLS[request.headers.get("x-fake-eol", "lf")]
    fancy = request.headers.get("x-fake-fancy") == "1"
    pieces = [text[i : i + 4] for i in range(0, len(text), 4)]
    try:
        for number, piece in enumerate(pieces):
            await response.write(_event(_chunk(kind, head, piece, number == 0), eol, fancy))
            await asyncio.sleep(0.05)
        await response.write(_event(_chunk(kind, head, "", False, "stop"), eol, fancy))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {**head, "object": _chunk_object(kind), "choices": [], "usage": USAGE}
            await response.write(_event(usage, eol, fancy))
        await response.write(f"data: [DONE]{eol}{eol}".encode())
        await asyncio.sleep(float(request.headers.get("x-fake-linger", "0")))
        await response.write_eof()
    except (ConnectionError, asyncio.CancelledError):
        ENDS["cut"] += 1
        raise
    ENDS["completed"] += 1
    return response


def _chunk_object(kind: str) -> str:
    return "chat.completion.chunk" if kind == "chat" else "text_completion"


def _chunk(
    kind: str, head: dict, piece: str, first: bool, finish: str | None = None
) -> dict[str, object]:
    if kind == "chat":
        delta: dict[str, str] = {"content": piece} if piece else {}
        if first:
            delta["role"] = "assistant"
        choice: dict[str, object] = {"index": 0, "delta": delta}
    else:
        choice = {"index": 0, "text": piece, "logprobs": None}
    return {**head, "object": _chunk_object(kind), "choices": [{**choice, "finish_reason": finish}]}


def _event(chunk: dict[str, object], eol: str, fancy: bool) -> bytes:
    data = json.dumps(chunk, separators=(",", ":"))
    if fancy:  # a comment first, and the JSON cut over two data lines (joined with "\n")
        cut = data.index(',"') + 1 if ',"' in data else len(data) // 2
        return f": keep-alive{eol}data: {data[:cut]}{eol}data: {data[cut:]}{eol}{eol}".encode()
    return f"data: {data}{eol}{eol}".encode()


def _document(kind: str, head: dict, text: str) -> dict[str, object]:
    if kind == "chat":
        message = {"role": "assistant", "content": text}
        choice: dict[str, object] = {"index": 0, "message": message, "finish_reason": "stop"}
        return {**head, "object": "chat.completion", "choices": [choice], "usage": USAGE}
    choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}
    return {**head, "object": "text_completion", "choices": [choice], "usage": USAGE}
