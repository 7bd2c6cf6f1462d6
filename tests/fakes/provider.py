"""A fake model provider for tests: OpenAI-shaped answers that show what it received.

    python -m tests.fakes.provider PORT

The assistant's message content is a JSON object with the request's method, path, query and
the headers that matter to the tests (credentials, keys), so tests can assert what the
gateway sent upstream. A request with an `x-fake-answer` header is answered with that text
instead (chat and Anthropic messages; streamed in pieces of `x-fake-piece` characters, 20 by
default, without pauses), for tests of what is done with an answer's text. A streamed chat
answer's chunks come 0.3 s apart, or `x-fake-pause` seconds apart.
"""

from __future__ import annotations

import asyncio
import json
import sys
import zlib

from aiohttp import web

from tests.fakes.broken_answers import BROKEN_MODES, broken_answer
from tests.fakes.hostile import add_hostile_routes
from tests.fakes.keys import add_key_routes
from tests.fakes.openai_surface import add_surface
from tests.fakes.realtime import add_realtime_routes
from tests.fakes.requests_log import add_request_log
from tests.fakes.streams import add_stream_routes
from tests.fakes.trace_context import add_trace_context_log

SEEN_HEADERS = (
    "authorization",
    "api-key",
    "x-api-key",
    "ocp-apim-subscription-key",
    "x-gateway-in",
    "x-model",
    "x-product",
    "content-length",
    "accept-encoding",
)


# How streams ended: all chunks sent, or cut off because the caller went away.
STREAMS = {"completed": 0, "cut": 0}
# Calls that reached the provider, by kind: cache tests check a hit never gets here.
CALLS = {"chat": 0, "messages": 0, "embeddings": 0, "items": 0}


# Faults to inject into chat calls (POST /-/faults): every `every`-th call answers with
# `mode`: "429" or "503" (with Retry-After: `retry_after`), "500", "hang" (no answer for 30 s),
# "slow" (a good answer 0.3 s late), or "reset" (the connection is cut: at once, or for a
# stream after its first chunk), or one of tests/fakes/broken_answers.py's broken answers
# ("stall", "cut-short", "garbled", "not-utf8"). With `times`, only the next `times` calls fail, then none.
# Anthropic messages calls get "429", "500" and "503" alike (counted by their own calls).
FAULTS: dict[str, object] = {"mode": "ok", "every": 1, "retry_after": 1, "times": None}


async def set_faults(request: web.Request) -> web.Response:
    FAULTS.update({"mode": "ok", "every": 1, "retry_after": 1, "times": None})
    FAULTS.update(await request.json())
    return web.json_response(FAULTS)


def fault_now(kind: str = "chat") -> str:
    times = FAULTS["times"]
    if times is not None:  # a fault for the next `times` calls only
        FAULTS["times"] = max(int(str(times)) - 1, 0)
        return str(FAULTS["mode"]) if int(str(times)) > 0 else "ok"
    every = int(str(FAULTS["every"]))
    return str(FAULTS["mode"]) if CALLS[kind] % every == 0 else "ok"


async def faulty(request: web.Request, mode: str) -> web.StreamResponse:
    if mode in ("429", "503"):
        headers = {"Retry-After": str(FAULTS["retry_after"])}
        error = {"error": {"message": f"injected {mode}", "type": "fault"}}
        return web.json_response(error, status=int(mode), headers=headers)
    if mode == "500":
        return web.json_response({"error": {"message": "injected 500"}}, status=500)
    if mode == "hang":
        await asyncio.sleep(30)
    assert request.transport is not None
    request.transport.close()  # "reset": the connection is cut
    raise ConnectionResetError("injected reset")


ANSWER_HEADER, PIECE_HEADER, PAUSE_HEADER = "x-fake-answer", "x-fake-piece", "x-fake-pause"


def given_pieces(request: web.Request) -> list[str] | None:
    """The `x-fake-answer` text in stream pieces, or None when the request sets none."""
    given = request.headers.get(ANSWER_HEADER)
    if given is None:
        return None
    size = int(request.headers.get(PIECE_HEADER, "20"))
    return [given[i : i + size] for i in range(0, len(given), size)]


# The last request body each API got, so translation tests can see what arrived.
LAST: dict[str, object] = {}
TOOL_ARGUMENTS = ['{"city": ', '"Paris"}']  # a tool call's arguments, in two stream pieces
# What a reasoning model thinks, in two stream pieces: for a chat request with reasoning_effort
# (as `reasoning_content`, as DeepSeek and vLLM answer) and a messages request with thinking on.
THOUGHT = ["Let me think ", "about it."]
REASONING_TOKENS = 2


def thinks(body: dict) -> bool:
    """Whether the request asks for reasoning: reasoning_effort (OpenAI), thinking (Anthropic)."""
    thinking = body.get("thinking") or {}
    return bool(body.get("reasoning_effort")) or thinking.get("type") in ("enabled", "adaptive")


UNPARSEABLE = {
    "message": "We could not parse the JSON body of your request.",
    "type": "invalid_request_error",
    "param": None,
    "code": None,
}


async def last(request: web.Request) -> web.Response:
    return web.json_response(LAST)


def tool_name(body: dict) -> str | None:
    """The first tool's name, when the request offers tools (either API's shape)."""
    tools = body.get("tools") or []
    if not tools:
        return None
    first = tools[0]
    return str(first.get("function", {}).get("name") or first.get("name"))


async def chat(request: web.Request) -> web.StreamResponse:
    CALLS["chat"] += 1
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # as OpenAI answers a body that is not JSON
        return web.json_response({"error": UNPARSEABLE}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": UNPARSEABLE}, status=400)
    LAST["chat"] = body
    mode = fault_now()
    if mode == "slow":  # a slow member: answers well, 0.3 s late
        await asyncio.sleep(0.3)
        mode = "ok"
    if mode in BROKEN_MODES:
        return await broken_answer(request, mode, bool(body.get("stream")))
    if mode != "ok" and not (mode == "reset" and body.get("stream")):
        return await faulty(request, mode)
    if body.get("stream"):
        return await stream_chat(request, body, cut=mode == "reset")
    if body.get("model") == "slow":  # holds calls in flight, for concurrency tests
        await asyncio.sleep(0.2)
    seen = {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "headers": {name: request.headers.get(name) for name in SEEN_HEADERS},
        "model": body.get("model"),
    }
    message: dict = {"role": "assistant", "content": json.dumps(seen)}
    if ANSWER_HEADER in request.headers:
        message["content"] = request.headers[ANSWER_HEADER]
    # "filtered": the provider's content filter stopped the answer
    finish = "content_filter" if body.get("model") == "filtered" else "stop"
    if tool_name(body):  # offered tools: the model calls the first one
        call = {"id": "call_1", "type": "function"}
        call["function"] = {"name": tool_name(body), "arguments": "".join(TOOL_ARGUMENTS)}
        message, finish = {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
    usage = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
    if thinks(body):  # reasoning, counted inside completion_tokens as OpenAI counts it
        message["reasoning_content"] = "".join(THOUGHT)
        usage["completion_tokens_details"] = {"reasoning_tokens": REASONING_TOKENS}
    answer = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1700000000,
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }
    response = web.json_response(answer, headers={"x-upstream": "fake"})
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response.enable_compression(web.ContentCoding.gzip)  # as api.openai.com does
    return response


async def stream_chat(request: web.Request, body: dict, cut: bool = False) -> web.StreamResponse:
    """Three content chunks 0.3 s apart, then a usage chunk and [DONE], as OpenAI streams."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "x-upstream": "fake"}
    )
    await response.prepare(request)

    def event(delta: dict, usage: dict | None = None, finish: str | None = None) -> bytes:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish}]
        chunk = {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": body.get("model", "fake"),
            "choices": choices if delta or finish else [],
        }
        if usage is not None:
            chunk["usage"] = usage
        return f"data: {json.dumps(chunk)}\n\n".encode()

    # model "long" streams for 30 s: long enough for a client to walk away mid-stream.
    words = ["one", "two", "three"] if body.get("model") != "long" else ["word"] * 100
    finish = "stop"
    if thinks(body):  # the reasoning streams first, as DeepSeek and vLLM stream it
        for piece in THOUGHT:
            await response.write(event({"reasoning_content": piece}))
    if tool_name(body):  # offered tools: a tool call streamed in pieces, as OpenAI does
        words, finish = [], "tool_calls"
        first = {"index": 0, "id": "call_1", "type": "function"}
        first["function"] = {"name": tool_name(body), "arguments": ""}
        await response.write(event({"role": "assistant", "tool_calls": [first]}))
        for piece in TOOL_ARGUMENTS:
            call = {"index": 0, "function": {"arguments": piece}}
            await response.write(event({"tool_calls": [call]}))
    pieces, pause = [word + " " for word in words], float(request.headers.get(PAUSE_HEADER, 0.3))
    if (given := given_pieces(request)) is not None:
        pieces, pause = given, 0.0
    try:
        for piece in pieces:
            await response.write(event({"content": piece}))
            if cut:  # a fault after the first byte: the connection breaks mid-stream
                assert request.transport is not None
                request.transport.close()
                raise ConnectionResetError("injected reset")
            await asyncio.sleep(pause)
        await response.write(event({}, finish=finish))  # the last choice chunk, as OpenAI's
        if (body.get("stream_options") or {}).get("include_usage"):  # only when asked, as OpenAI
            usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
            if thinks(body):
                usage["completion_tokens_details"] = {"reasoning_tokens": REASONING_TOKENS}
            await response.write(event({}, usage))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
    except (ConnectionError, asyncio.CancelledError):
        STREAMS["cut"] += 1
        raise
    STREAMS["completed"] += 1
    return response


async def streams(request: web.Request) -> web.Response:
    return web.json_response(STREAMS)


async def calls(request: web.Request) -> web.Response:
    return web.json_response(CALLS)


async def items(request: web.Request) -> web.Response:
    """A GET resource whose answer changes on every call: a cache hit shows as a repeat."""
    CALLS["items"] += 1
    status = int(request.query.get("status", "200"))
    seen = {"call": CALLS["items"], "query": dict(request.query)}
    return web.json_response(seen, status=status, headers={"x-upstream": "fake"})


async def models(request: web.Request) -> web.Response:
    """OpenAI's model list, with a provider request id; `created` counts calls (a cache hit
    shows as a repeat)."""
    CALLS["models"] = CALLS.get("models", 0) + 1
    listed = [{"id": "gpt-4o", "object": "model", "created": CALLS["models"], "owned_by": "fake"}]
    headers = {"x-request-id": f"req_fake_{CALLS['models']}"}
    return web.json_response({"object": "list", "data": listed}, headers=headers)


async def embeddings(request: web.Request) -> web.Response:
    """OpenAI's embeddings: a 64-d bag of hashed lower-case words, so that texts with the same
    words embed the same and texts without common words are far apart."""
    CALLS["embeddings"] += 1
    body = await request.json()
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    data = []
    for index, text in enumerate(texts):
        vector = [0.0] * 64
        for word in "".join(c if c.isalnum() else " " for c in text.lower()).split():
            vector[zlib.crc32(word.encode()) % 64] += 1.0
        norm = sum(v * v for v in vector) ** 0.5 or 1.0
        data.append(
            {"object": "embedding", "index": index, "embedding": [v / norm for v in vector]}
        )
    usage = {"prompt_tokens": sum(len(t.split()) for t in texts), "total_tokens": 0}
    usage["total_tokens"] = usage["prompt_tokens"]
    return web.json_response(
        {"object": "list", "data": data, "model": body.get("model", "fake-embed"), "usage": usage}
    )


async def stream_messages(request: web.Request, body: dict) -> web.StreamResponse:
    """Anthropic's event stream: message_start, three text deltas 0.3 s apart, usage, stop."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)

    async def send(kind: str, data: dict) -> None:
        await response.write(
            f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()
        )

    message = {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "fake"),
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 4, "output_tokens": 0},
    }
    await send("message_start", {"message": message})
    stop = "end_turn"
    index = 0
    if thinks(body):  # a thinking block with its signature, then a redacted one, as Claude does
        block = {"type": "thinking", "thinking": "", "signature": ""}
        await send("content_block_start", {"index": 0, "content_block": block})
        for piece in THOUGHT:
            delta = {"type": "thinking_delta", "thinking": piece}
            await send("content_block_delta", {"index": 0, "delta": delta})
        delta = {"type": "signature_delta", "signature": "c2lnbmVk"}
        await send("content_block_delta", {"index": 0, "delta": delta})
        await send("content_block_stop", {"index": 0})
        block = {"type": "redacted_thinking", "data": "b3BhcXVl"}
        await send("content_block_start", {"index": 1, "content_block": block})
        await send("content_block_stop", {"index": 1})
        index = 2
    if tool_name(body):  # offered tools: a tool_use block with its input in pieces
        stop = "tool_use"
        block = {"type": "tool_use", "id": "toolu_1", "name": tool_name(body), "input": {}}
        await send("content_block_start", {"index": index, "content_block": block})
        for piece in TOOL_ARGUMENTS:
            delta = {"type": "input_json_delta", "partial_json": piece}
            await send("content_block_delta", {"index": index, "delta": delta})
    else:
        block = {"type": "text", "text": ""}
        await send("content_block_start", {"index": index, "content_block": block})
        pieces, pause = ["one ", "two ", "three "], 0.3
        if (given := given_pieces(request)) is not None:
            pieces, pause = given, 0.0
        for piece in pieces:
            delta = {"type": "text_delta", "text": piece}
            await send("content_block_delta", {"index": index, "delta": delta})
            await asyncio.sleep(pause)
    await send("content_block_stop", {"index": index})
    await send(
        "message_delta",
        {
            "delta": {"stop_reason": stop, "stop_sequence": None},
            # Cumulative, input included, as Anthropic's API sends it (LangChain reads it here).
            "usage": {"input_tokens": 4, "output_tokens": 3},
        },
    )
    await send("message_stop", {})
    await response.write_eof()
    return response


async def messages(request: web.Request) -> web.StreamResponse:
    """Anthropic's Messages API shape; the text is what the provider saw, as JSON."""
    CALLS["messages"] += 1
    body = await request.json()
    LAST["messages"] = body
    if (mode := fault_now("messages")) in ("429", "500", "503"):
        return await faulty(request, mode)
    if body.get("stream"):
        return await stream_messages(request, body)
    seen = {
        "path": request.path,
        "headers": {name: request.headers.get(name) for name in SEEN_HEADERS},
        "version": request.headers.get("anthropic-version"),
    }
    answer = {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "fake"),
        "content": [{"type": "text", "text": request.headers.get(ANSWER_HEADER, json.dumps(seen))}],
        "stop_reason": "end_turn",
        **(
            {
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": tool_name(body),
                        "input": json.loads("".join(TOOL_ARGUMENTS)),
                    }
                ],
                "stop_reason": "tool_use",
            }
            if tool_name(body)
            else {}
        ),
        "stop_sequence": None,
        "usage": {"input_tokens": 4, "output_tokens": 6},
    }
    if thinks(body):  # thinking first, then a redacted block, as Claude answers
        answer["content"] = [
            {"type": "thinking", "thinking": "".join(THOUGHT), "signature": "c2lnbmVk"},
            {"type": "redacted_thinking", "data": "b3BhcXVl"},
            *answer["content"],
        ]
    return web.json_response(answer)


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/openai/deployments/{deployment}/chat/completions", chat)
    app.router.add_post("/v1/messages", messages)
    app.router.add_get("/-/streams", streams)
    app.router.add_get("/-/calls", calls)
    app.router.add_get("/-/last", last)
    app.router.add_post("/-/faults", set_faults)
    app.router.add_get("/v1/items", items)
    app.router.add_get("/v1/models", models)
    app.router.add_post("/v1/embeddings", embeddings)
    app.router.add_post("/openai/deployments/{deployment}/embeddings", embeddings)
    add_request_log(app)  # GET/DELETE /-/requests; Anthropic's count_tokens and models
    add_stream_routes(app)  # streams framed as SSE allows: CRLF, CR, comments, a late end
    add_surface(app)  # the rest of OpenAI's API (tests/fakes/openai_surface.py)
    add_realtime_routes(app)
    add_trace_context_log(app)  # GET/DELETE /-/traceparents: what each call was sent
    add_key_routes(app)  # model lists that check the key (tests/fakes/keys.py), for aigw check
    add_hostile_routes(app)  # endless streams, lying usage (tests/fakes/hostile.py)
    return app


if __name__ == "__main__":
    # No grace on stop: a "hang" fault would hold shutdown for its 30 s.
    web.run_app(
        make_app(), host="127.0.0.1", port=int(sys.argv[1]), print=None, shutdown_timeout=0.1
    )
