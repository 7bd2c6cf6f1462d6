"""Answers a provider gets wrong, for the fault tests: the fake provider's chat calls give them
when `/-/faults` sets one of these modes (tests/fakes/provider.py), streamed or plain as asked.

- `stall`: the headers and a first piece, then nothing for 30 s (a stream's first chunk; half
  of a plain answer's body, its Content-Length promising the rest);
- `cut-short`: the headers and a first piece, then the body ends cleanly (a stream without
  its finish chunk or `[DONE]`; a plain answer whose JSON stops half way, Content-Length
  matching what was sent);
- `garbled`: a stream whose first event's JSON is broken, then a good stream to its `[DONE]`;
  a plain answer that is a 200 with an HTML page (a proxy's error page in front of the model);
- `not-utf8`: a stream whose content chunk holds bytes that are not UTF-8, then `[DONE]`; a
  plain completion whose content holds such bytes.
"""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

BROKEN_MODES = ("stall", "cut-short", "garbled", "not-utf8")
NOT_UTF8 = b"caf\xe9 \xff\xfe"  # Latin-1 and stray bytes: invalid as UTF-8
STALL_SECONDS = 30.0


def _chunk(content: str | None = None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    chunk = {"id": "chatcmpl-broken", "object": "chat.completion.chunk", "created": 1700000000}
    chunk |= {"model": "m", "choices": [choice]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _completion(content: str) -> bytes:
    message = {"role": "assistant", "content": content}
    answer = {"id": "chatcmpl-broken", "object": "chat.completion", "created": 1700000000}
    answer |= {"model": "m", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
    answer |= {"usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}}
    return json.dumps(answer).encode()


async def broken_answer(request: web.Request, mode: str, streamed: bool) -> web.StreamResponse:
    if streamed:
        return await _broken_stream(request, mode)
    body, content_type = _completion("one two three"), "application/json"
    if mode == "garbled":
        body, content_type = b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
    elif mode == "not-utf8":
        body = _completion("PLACEHOLDER").replace(b"PLACEHOLDER", NOT_UTF8)
    elif mode == "cut-short":  # a whole HTTP message whose JSON stops half way
        body = body[: len(body) // 2]
    response = web.StreamResponse(headers={"Content-Type": content_type})
    response.content_length = len(body)
    await response.prepare(request)
    if mode == "stall":  # half the body, the rest promised by Content-Length, never sent
        await response.write(body[: len(body) // 2])
        await asyncio.sleep(STALL_SECONDS)
        return response
    await response.write(body)
    await response.write_eof()
    return response


async def _broken_stream(request: web.Request, mode: str) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    if mode == "garbled":
        await response.write(b'data: {"choices": [{"delta": {"content": "one \n\n')
    elif mode == "not-utf8":
        await response.write(_chunk("PLACEHOLDER").replace(b"PLACEHOLDER", NOT_UTF8))
    else:
        await response.write(_chunk("one "))
    if mode == "stall":
        await asyncio.sleep(STALL_SECONDS)
    if mode != "cut-short":
        await response.write(_chunk("two "))
        await response.write(_chunk(finish="stop"))
        await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response
