"""Finished LLM completions in one canonical form, and their replay in the shape a client asks for.

The cache keeps ONE form of a completion per operation: the provider's own non-streamed
document in that operation's shape (an OpenAI `chat.completion` for chat, a `text_completion`
for legacy completions, an Anthropic `message`, a Responses API `response`). A stream is
assembled into it once it has ended; a hit replays it as JSON or as SSE in the same
operation's shape, so a streamed miss can serve a non-streamed hit and the other way round,
and the cache never stores half a stream.
A shape is named by `style` below, and is part of the partition a hit must come from: a legacy
completion is never served to a chat call, nor a chat completion to a Responses API call.

The rule behind every refusal: only keep what is complete, what parses into the operation's
shape, and what can be replayed faithfully in BOTH forms (JSON and stream). A refused completion
costs one cache miss; a wrong one would be served to every later client, so anything unfamiliar
(another operation's shape, an empty answer, filtered, refused, cut short, errors, logprobs,
audio, citations, unknown content) is refused rather than guessed at.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.caching import anthropic_messages, chat_completions, responses_api, text_completions
from gateway.caching.completion_parts import MALFORMED, dumps, openai_sse_body

# "openai": OpenAI, Azure OpenAI and OpenAI-compatible chat; "text_completion": their legacy
# completions; "responses": their Responses API; "anthropic": Anthropic's messages.
STYLES = ("openai", "anthropic", "text_completion", "responses")
RESPONSES_OPERATION = "Responses_Create"


def style_of(api_style: str, body: dict[str, Any], operation: str = "") -> str:
    """The shape of the completion a request asks for, by its API's style, its operation and
    its body."""
    if api_style == "anthropic":
        return "anthropic"
    if operation == RESPONSES_OPERATION:
        return "responses"
    return "text_completion" if "prompt" in body and "messages" not in body else "openai"


def cacheable_completion(style: str, body: bytes, streamed: bool) -> dict[str, Any] | None:
    """The completion as the provider's non-streamed document; None when it must not be cached."""
    _check_style(style)
    try:
        if style == "openai":
            doc = chat_completions.from_stream(body) if streamed else json.loads(body)
            return doc if chat_completions.openai_ok(doc) else None
        if style == "text_completion":
            doc = text_completions.from_stream(body) if streamed else json.loads(body)
            return doc if text_completions.text_ok(doc) else None
        if style == "responses":
            doc = responses_api.from_stream(body) if streamed else json.loads(body)
            return doc if responses_api.response_ok(doc) else None
        doc = anthropic_messages.from_stream(body) if streamed else json.loads(body)
        return doc if anthropic_messages.anthropic_ok(doc) else None
    except MALFORMED:
        return None


def replay_json(style: str, completion: dict[str, Any]) -> bytes:
    """The stored document as a compact JSON body (ids kept; the caller may rewrite them)."""
    _check_style(style)
    return dumps(completion).encode()


def replay_stream(style: str, completion: dict[str, Any], include_usage: bool) -> bytes:
    """The whole SSE body (events split by blank lines), ending as the provider's streams end."""
    _check_style(style)
    if style == "openai":
        return openai_sse_body(chat_completions.openai_chunks(completion, include_usage))
    if style == "text_completion":
        return openai_sse_body(text_completions.text_chunks(completion, include_usage))
    # Anthropic and Responses streams always report usage, so include_usage is moot there.
    if style == "responses":
        events = responses_api.response_events(completion)
    else:
        events = anthropic_messages.anthropic_events(completion)
    return "".join(f"event: {e['type']}\ndata: {dumps(e)}\n\n" for e in events).encode()


def _check_style(style: str) -> None:
    if style not in STYLES:
        raise ValueError(f"unknown completion style {style!r}; expected one of {STYLES}")
