"""An upstream that misbehaves on purpose, under `/hostile/v1`, for tests of what the gateway
believes and keeps of a provider's answer.

- `POST /hostile/v1/chat/completions` with `stream: true`: chat chunks, written in batches of
  about 64 KiB, without end; `x-fake-bytes: N` ends the stream (its last choice chunk, its
  usage when asked for, `[DONE]`) once about N bytes have gone; `x-fake-line: 1` makes it one
  `data:` line that never ends instead (the body ends after N bytes, the line still open).
  Without `stream`: one answer.
- `POST /hostile/v1/messages` (Anthropic) and `POST /hostile/v1/responses` (the Responses
  API): one answer, or with `stream: true` a short stream in that API's events.
- `x-fake-usage`: the JSON text of every figure the usage reports (`-1000000`, `"12"`,
  `1e30`, `3.5`), in place of the honest ones; `none`: no usage at all.

`GET /hostile/-/ends` counts how the streams ended: `completed`, or `cut` (the gateway closed
the connection before the end), and `open` (streaming now).
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

ENDS = {"completed": 0, "cut": 0, "open": 0}
BATCH = 64 * 1024
WORDS = "pass the salt please "


def add_hostile_routes(app: web.Application) -> None:
    app.router.add_post("/hostile/v1/chat/completions", chat)
    app.router.add_post("/hostile/v1/messages", messages)
    app.router.add_post("/hostile/v1/responses", responses)
    app.router.add_get("/hostile/-/ends", lambda _: web.json_response(ENDS))


def _figure(request: web.Request, honest: int) -> object:
    """The figure the usage reports: the request's `x-fake-usage`, else `honest`."""
    given = request.headers.get("x-fake-usage")
    return honest if given is None else json.loads(given)


def _no_usage(request: web.Request) -> bool:
    return request.headers.get("x-fake-usage") == "none"


def _chat_usage(request: web.Request) -> dict[str, object] | None:
    if _no_usage(request):
        return None
    prompt, completion = _figure(request, 5), _figure(request, 7)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": 12}


async def chat(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    head = {"id": "chatcmpl-hostile", "created": 1700000000, "model": body.get("model", "m")}
    if not body.get("stream"):
        message = {"role": "assistant", "content": WORDS}
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        answer: dict[str, object] = {**head, "object": "chat.completion", "choices": [choice]}
        if (usage := _chat_usage(request)) is not None:
            answer["usage"] = usage
        return web.json_response(answer)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    limit = int(request.headers.get("x-fake-bytes", "0")) or None

    def event(delta: dict, finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        chunk = {**head, "object": "chat.completion.chunk", "choices": [choice]}
        return b"data: " + json.dumps(chunk).encode() + b"\n\n"

    piece = event({"content": WORDS})
    batch = piece * (BATCH // len(piece))
    line = request.headers.get("x-fake-line") == "1"
    if line:  # an event that never ends: no line end, ever
        await response.write(b"data: ")
        batch = b"x" * BATCH
    sent = 0
    ENDS["open"] += 1
    try:
        while limit is None or sent < limit:
            await response.write(batch)
            sent += len(batch)
            await asyncio.sleep(0)  # let the server notice a connection gone
        if line:
            await response.write_eof()
            ENDS["completed"] += 1
            return response
        await response.write(event({}, "stop"))
        usage = _chat_usage(request)
        if (body.get("stream_options") or {}).get("include_usage") and usage is not None:
            last = {**head, "object": "chat.completion.chunk", "choices": [], "usage": usage}
            await response.write(b"data: " + json.dumps(last).encode() + b"\n\n")
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
    except (ConnectionError, asyncio.CancelledError):
        ENDS["cut"] += 1
        raise
    finally:
        ENDS["open"] -= 1
    ENDS["completed"] += 1
    return response


async def messages(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    usage: dict[str, object] = {}
    if not _no_usage(request):
        usage = {"input_tokens": _figure(request, 5), "output_tokens": _figure(request, 7)}
    content = [{"type": "text", "text": WORDS}]
    message = {"id": "msg_hostile", "type": "message", "role": "assistant", "model": "m"}
    if not body.get("stream"):
        answer = {**message, "content": content, "stop_reason": "end_turn"}
        if usage:
            answer["usage"] = usage
        return web.json_response(answer)
    start = {
        **message,
        "content": [],
        **({"usage": {**usage, "output_tokens": 1}} if usage else {}),
    }
    events = [
        ("message_start", {"type": "message_start", "message": start}),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                 "delta": {"type": "text_delta", "text": WORDS}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                           **({"usage": {"output_tokens": usage["output_tokens"]}} if usage else {})}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    return await _stream(request, [(name, data) for name, data in events])


async def responses(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    usage = None
    if not _no_usage(request):
        usage = {
            "input_tokens": _figure(request, 5),
            "output_tokens": _figure(request, 7),
            "total_tokens": 12,
        }
    text = {"type": "output_text", "text": WORDS, "annotations": []}
    item = {"id": "msg_1", "type": "message", "role": "assistant", "status": "completed"}
    done = {
        "id": "resp_hostile",
        "object": "response",
        "created_at": 1700000000,
        "model": "m",
        "status": "completed",
        "output": [{**item, "content": [text]}],
        "usage": usage,
    }
    if not body.get("stream"):
        return web.json_response(done)
    events = [
        ("response.created", {"type": "response.created", "response": {**done, "usage": None}}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "delta": WORDS}),
        ("response.completed", {"type": "response.completed", "response": done}),
    ]
    return await _stream(request, events)


async def _stream(request: web.Request, events: list[tuple[str, dict]]) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for name, data in events:
        await response.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
    await response.write_eof()
    return response
