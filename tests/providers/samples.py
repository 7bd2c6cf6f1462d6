"""Provider answers and streams as the providers write them, and checks against the SDKs.

Shared by the translation tests: each sample is what OpenAI or Anthropic really sends, and each
check holds a translation to what the official SDKs accept (request types, response and stream
event types, their own clients reading over an in-memory transport).
"""

from __future__ import annotations

import json
import random
from typing import Any

import anthropic
import httpx2
import openai
import pydantic
from anthropic.types import RawMessageStreamEvent, message_create_params
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.types.chat import ChatCompletionChunk, completion_create_params
from openai.types.shared import ErrorObject

from gateway.providers.translate import ChatStreamToMessages, MessagesStreamToChat

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
SEEDS = range(8)

# --- realistic provider streams, written as the providers send them ----------------------------

ANTHROPIC_USAGE_START = {
    "input_tokens": 472,
    "cache_creation_input_tokens": 1024,
    "cache_read_input_tokens": 2048,
    "cache_creation": {"ephemeral_5m_input_tokens": 1024, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 2,
    "service_tier": "standard",
}
ANTHROPIC_TEXT_PIECES = [
    "Okay",
    ", let",
    "'s check",
    " the weather",
    " — Grüße 👋",
    " for",
    " Paris:",
]
ANTHROPIC_CALLS = [
    ("toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", {"location": "Paris, France", "unit": "c"}),
    ("toolu_01A09q90qw90lq917835lq9", "get_time", {"timezone": "Europe/Paris"}),
]
ANTHROPIC_JSON_PIECES = [
    ["", '{"location":', ' "Paris, Fr', 'ance"', ', "unit": "c"}'],
    ["", '{"timezone": "Eur', 'ope/Paris"}'],
]


def anthropic_sse(events: list[dict[str, Any]]) -> bytes:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def anthropic_events(
    stop_reason: str = "tool_use", thinking: bool = False, stop: bool = True
) -> list[dict[str, Any]]:
    start = {
        "id": "msg_014p7gG3wDgGV9EUtLvnow3U",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": ANTHROPIC_USAGE_START,
    }
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    index = 0
    if thinking:  # extended thinking comes first; Chat Completions has no place for it
        events += [
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "thinking", "thinking": "", "signature": ""},
            },
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "The user wants weather."},
            },
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA"},
            },
            {"type": "content_block_stop", "index": 0},
        ]
        index = 1
    events += [
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        },
        {"type": "ping"},
        *(
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "text_delta", "text": t},
            }
            for t in ANTHROPIC_TEXT_PIECES
        ),
        {"type": "content_block_stop", "index": index},
    ]
    for (call_id, name, _), pieces in zip(ANTHROPIC_CALLS, ANTHROPIC_JSON_PIECES, strict=True):
        index += 1
        block = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
        events.append({"type": "content_block_start", "index": index, "content_block": block})
        events += [
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "input_json_delta", "partial_json": p},
            }
            for p in pieces
        ]
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 89},
        }
    )
    if stop:
        events.append({"type": "message_stop"})
    return events


ANTHROPIC_STREAM = anthropic_sse(anthropic_events())
ANTHROPIC_MESSAGE: dict[str, Any] = {
    "id": "msg_014p7gG3wDgGV9EUtLvnow3U",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5-20250929",
    "content": [
        {"type": "text", "text": "".join(ANTHROPIC_TEXT_PIECES)},
        *({"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in ANTHROPIC_CALLS),
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {**ANTHROPIC_USAGE_START, "output_tokens": 89},
}

CREATED = 1741570283
OPENAI_TEXT_PIECES = ["Let", " me", " check", " — Grüße", " 👋", "."]
OPENAI_CALLS = [
    ("call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather", '{"location": "Paris, France"}'),
    ("call_ABC123", "get_time", '{"timezone": "Europe/Paris"}'),
]
OPENAI_USAGE = {
    "prompt_tokens": 1200,
    "completion_tokens": 58,
    "total_tokens": 1258,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def openai_chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    chunk = {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "gpt-4o-2024-08-06",
        "service_tier": "default",
        "system_fingerprint": "fp_fc9f1d7035",
        "choices": choices,
        "usage": None,
        "obfuscation": "xK3b",  # OpenAI pads chunks with a random field
    }
    return {**chunk, **extra}


def openai_delta(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}


def openai_sse(chunks: list[Any], done: bool = True) -> bytes:
    out = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    return (out + ("data: [DONE]\n\n" if done else "")).encode()


def openai_chunks(finish: str = "tool_calls", usage: bool = True) -> list[dict[str, Any]]:
    """Text, then two tool calls whose arguments arrive in pieces, then usage: as OpenAI streams."""
    chunks = [openai_chunk([openai_delta({"role": "assistant", "content": "", "refusal": None})])]
    chunks += [openai_chunk([openai_delta({"content": p})]) for p in OPENAI_TEXT_PIECES]
    for n, (call_id, name, arguments) in enumerate(OPENAI_CALLS):
        first = {"index": n, "id": call_id, "type": "function"}
        first["function"] = {"name": name, "arguments": ""}
        chunks.append(openai_chunk([openai_delta({"tool_calls": [first]})]))
        for cut in range(0, len(arguments), 9):
            piece = {"index": n, "function": {"arguments": arguments[cut : cut + 9]}}
            chunks.append(openai_chunk([openai_delta({"tool_calls": [piece]})]))
    chunks.append(openai_chunk([openai_delta({}, finish)]))
    if usage:
        chunks.append(openai_chunk([], usage=OPENAI_USAGE))
    return chunks


OPENAI_STREAM = openai_sse(openai_chunks())
OPENAI_COMPLETION: dict[str, Any] = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "object": "chat.completion",
    "created": CREATED,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "".join(OPENAI_TEXT_PIECES),
                "refusal": None,
                "annotations": [],
                "tool_calls": [
                    {"id": i, "type": "function", "function": {"name": n, "arguments": a}}
                    for i, n, a in OPENAI_CALLS
                ],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ],
    "usage": OPENAI_USAGE,
    "service_tier": "default",
    "system_fingerprint": "fp_fc9f1d7035",
}

# --- helpers -----------------------------------------------------------------------------------


def pieces(body: bytes, seed: int) -> list[bytes]:
    """The body cut at random byte boundaries (inside UTF-8 characters and CRLFs too)."""
    if len(body) < 2:
        return [body]
    if seed == 0:
        return [body[i : i + 1] for i in range(len(body))]  # byte by byte
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(body)), rng.randint(3, min(80, len(body) - 1))))
    return [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]


def run(translator: MessagesStreamToChat | ChatStreamToMessages, body: bytes, seed: int) -> bytes:
    return b"".join(translator.feed(p) for p in pieces(body, seed)) + translator.close()


def sse_blocks(out: bytes) -> list[list[str]]:
    """The output's events as their lines, checking the framing is plain LF SSE."""
    assert out.endswith(b"\n\n") and b"\r" not in out
    return [block.split("\n") for block in out.decode().split("\n\n")[:-1]]


def chat_chunks(out: bytes, done: bool = True) -> list[dict[str, Any]]:
    """OpenAI output: `data:` events, each a valid ChatCompletionChunk, then `data: [DONE]`."""
    blocks = sse_blocks(out)
    assert all(len(b) == 1 and b[0].startswith("data: ") for b in blocks)
    data = [b[0].removeprefix("data: ") for b in blocks]
    if done:
        assert data[-1] == "[DONE]"
        data = data[:-1]
    chunks = [json.loads(d) for d in data]
    for chunk in chunks:
        if "error" in chunk:  # how OpenAI reports a failed stream
            assert chunk.keys() == {"error"}
            ErrorObject.model_validate(chunk["error"])
        else:
            ChatCompletionChunk.model_validate(chunk)
    return chunks


STREAM_EVENT = pydantic.TypeAdapter(RawMessageStreamEvent)


def message_events(out: bytes) -> list[dict[str, Any]]:
    """Anthropic output: `event:` + `data:` pairs, each a valid RawMessageStreamEvent."""
    events = []
    for block in sse_blocks(out):
        assert len(block) == 2 and block[0].startswith("event: ") and block[1].startswith("data: ")
        event = json.loads(block[1].removeprefix("data: "))
        assert event["type"] == block[0].removeprefix("event: ")
        if event["type"] != "error":
            STREAM_EVENT.validate_python(event)
        events.append(event)
    return events


def final_completion(chunks: list[dict[str, Any]]) -> Any:
    """The SDK's own accumulation of a chunk stream."""
    state = ChatCompletionStreamState()
    for chunk in chunks:
        state.handle_chunk(ChatCompletionChunk.model_validate(chunk))
    return state.get_final_completion()


def materialize(value: Any) -> Any:
    # The SDKs type request lists as Iterable, which pydantic validates lazily: walk them all.
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    if isinstance(value, list | tuple) or hasattr(value, "__next__"):
        return [materialize(v) for v in value]
    return value


ANTHROPIC_PARAMS = message_create_params.MessageCreateParamsNonStreaming
ANTHROPIC_REQUEST = pydantic.TypeAdapter(ANTHROPIC_PARAMS)
OPENAI_PARAMS = completion_create_params.CompletionCreateParamsNonStreaming
OPENAI_REQUEST = pydantic.TypeAdapter(OPENAI_PARAMS)


def assert_anthropic_request(body: dict[str, Any]) -> None:
    """Valid for the SDK's MessageCreateParams, and no key the API does not know."""
    # The installed SDK sends API version 2026-10-21, which no longer takes temperature / top_p;
    # version 2023-06-01 still does, so the translator keeps them unless told otherwise.
    known = ANTHROPIC_PARAMS.__required_keys__ | ANTHROPIC_PARAMS.__optional_keys__
    assert set(body) <= known | {"temperature", "top_p"}
    materialize(ANTHROPIC_REQUEST.validate_python({k: v for k, v in body.items() if k != "stream"}))


def assert_openai_request(body: dict[str, Any]) -> None:
    assert set(body) <= OPENAI_PARAMS.__required_keys__ | OPENAI_PARAMS.__optional_keys__
    materialize(OPENAI_REQUEST.validate_python({k: v for k, v in body.items() if k != "stream"}))


def http_client(handler: Any) -> httpx2.Client:
    return httpx2.Client(transport=httpx2.MockTransport(handler))


def canned(body: bytes, status: int = 200, content_type: str = "text/event-stream") -> Any:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, headers={"content-type": content_type}, content=body)

    return handler


def openai_client(handler: Any) -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sk-test",
        base_url="http://gateway.test/v1",
        max_retries=0,
        http_client=http_client(handler),
    )


def anthropic_client(handler: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key="sk-ant-test",
        base_url="http://gateway.test",
        max_retries=0,
        http_client=http_client(handler),
    )
