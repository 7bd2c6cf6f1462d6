"""OpenAI chat completions as the cache keeps them (`chat.completion`), assembled from a
stream and replayed as one (gateway.caching.completions says what is refused and why)."""

from __future__ import annotations

import json
from typing import Any

from gateway.caching.completion_parts import NotCacheable, openai_choices, pieces, strings
from gateway.common.sse import DONE, parse

OPENAI_FINISHED = frozenset({"stop", "length", "tool_calls", "function_call"})
# Message fields a replay reproduces. Any other field with a value (audio, annotations, Azure's
# `context`, `reasoning_content` ...) would be lost in one of the two shapes, so it is refused.
_OPENAI_MESSAGE_FIELDS = frozenset({"role", "content", "refusal", "tool_calls", "function_call"})
# A chat stream's chunks (Azure's first chunk, its prompt filter results, has an empty one).
CHUNK_OBJECTS = frozenset({"chat.completion.chunk", "", None})


def from_stream(body: bytes) -> dict[str, Any] | None:
    doc: dict[str, Any] = {}
    choices: dict[int, dict[str, Any]] = {}
    done = False
    for event in parse(body):
        if event.data.strip() == DONE:
            done = True
            break  # the SDKs stop reading here too
        chunk = json.loads(event.data)
        if event.name == "error" or not isinstance(chunk, dict) or chunk.get("error") is not None:
            return None
        if chunk.get("object") not in CHUNK_OBJECTS:
            return None  # another operation's stream (legacy completions' text_completion)
        for key in ("id", "created", "model", "system_fingerprint", "service_tier"):
            # Azure's first chunk (prompt filter results) carries an empty id/model and created 0.
            if key in chunk and (chunk[key] or key not in doc):
                doc[key] = chunk[key]
        if chunk.get("usage") is not None:
            doc["usage"] = chunk["usage"]  # the `choices: []` chunk when include_usage was asked
        for part in chunk.get("choices") or []:
            _openai_merge(choices, part)
    if not done or not choices:
        return None
    doc["object"] = "chat.completion"
    doc["choices"] = [_openai_choice(i, choices[i]) for i in sorted(choices)]
    # Field order as OpenAI writes it, so a replayed document reads like the provider's own.
    order = ("id", "object", "created", "model", "choices", "usage", "service_tier")
    return {k: doc[k] for k in (*order, *doc) if k in doc}


def _openai_merge(choices: dict[int, dict[str, Any]], part: dict[str, Any]) -> None:
    state = choices.setdefault(
        part["index"],
        {"role": "", "content": [], "calls": {}, "function": None, "finish_reason": None},
    )
    if part.get("logprobs") is not None:
        raise NotCacheable("logprobs cannot be replayed in both shapes")
    if "text" in part:
        raise NotCacheable("a legacy completion's choice, not a chat one")
    delta = part.get("delta") or {}
    if any(v for k, v in delta.items() if k not in _OPENAI_MESSAGE_FIELDS) or delta.get("refusal"):
        raise NotCacheable("refusal, or a delta field a replay would lose")
    state["role"] = delta.get("role") or state["role"]
    if delta.get("content"):
        state["content"].append(delta["content"])
    for n, call in enumerate(delta.get("tool_calls") or []):
        # The first delta of a call carries id, type and name; later ones carry argument pieces.
        # Some compatible servers repeat id and name on every delta, so they are not joined.
        fresh = {"id": "", "type": "function", "function": {"name": "", "arguments": []}}
        slot = state["calls"].setdefault(call.get("index", n), fresh)
        slot["id"] = slot["id"] or call.get("id") or ""
        slot["type"] = call.get("type") or slot["type"]
        _function_merge(slot["function"], call.get("function") or {})
    if delta.get("function_call"):  # the deprecated `functions` API
        state["function"] = state["function"] or {"name": "", "arguments": []}
        _function_merge(state["function"], delta["function_call"])
    if part.get("finish_reason"):
        state["finish_reason"] = part["finish_reason"]


def _function_merge(slot: dict[str, Any], function: dict[str, Any]) -> None:
    slot["name"] = slot["name"] or function.get("name") or ""
    if function.get("arguments"):
        slot["arguments"].append(function["arguments"])


def _openai_choice(index: int, state: dict[str, Any]) -> dict[str, Any]:
    calls = [state["calls"][n] for n in sorted(state["calls"])]
    text = "".join(state["content"])
    message: dict[str, Any] = {
        "role": state["role"] or "assistant",
        # A call-only completion has content null in OpenAI's own documents, not "".
        "content": None if not text and (calls or state["function"]) else text,
        "refusal": None,
    }
    if calls:
        message["tool_calls"] = [
            {**c, "function": {**c["function"], "arguments": "".join(c["function"]["arguments"])}}
            for c in calls
        ]
    if state["function"]:
        fn = state["function"]
        message["function_call"] = {"name": fn["name"], "arguments": "".join(fn["arguments"])}
    finish = state["finish_reason"]
    return {"index": index, "message": message, "logprobs": None, "finish_reason": finish}


def openai_ok(doc: Any) -> bool:
    """Complete, not filtered or refused, and in a shape the replays can reproduce."""
    choices = openai_choices(doc, "chat.completion", given="chat.completion")
    return choices is not None and all(_openai_choice_ok(choice) for choice in choices)


def _openai_choice_ok(choice: Any) -> bool:
    # content_filter (or any unknown reason, or none at all: cut short): not a finished completion.
    if not isinstance(choice, dict) or choice.get("finish_reason") not in OPENAI_FINISHED:
        return False
    message = choice.get("message")
    if not isinstance(choice.get("index"), int) or choice.get("logprobs") is not None:
        return False
    if not isinstance(message, dict) or message.get("refusal"):
        return False
    if any(v for k, v in message.items() if k not in _OPENAI_MESSAGE_FIELDS):
        return False
    calls = message.get("tool_calls") or []
    if not (message.get("content") or calls or message.get("function_call")):
        return False  # an empty answer: nothing a later prompt should get
    return (
        isinstance(message.get("content"), str | None)
        and isinstance(calls, list)
        and all(
            isinstance(c, dict) and strings(c, "id") and _function_ok(c.get("function"))
            for c in calls
        )
        and (message.get("function_call") is None or _function_ok(message["function_call"]))
    )


def _function_ok(function: Any) -> bool:
    return isinstance(function, dict) and strings(function, "name", "arguments")


def openai_chunks(completion: dict[str, Any], include_usage: bool) -> list[dict[str, Any]]:
    # Keys in the order OpenAI writes them; "usage": null on every chunk but the usage chunk.
    base = {
        "id": completion["id"],
        "object": "chat.completion.chunk",
        "created": completion["created"],
    }
    base["model"] = completion["model"]
    base.update(
        {k: completion[k] for k in ("service_tier", "system_fingerprint") if k in completion}
    )
    tail = {"usage": None} if include_usage else {}

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**base, "choices": [choice], **tail}

    chunks = []
    for choice in completion["choices"]:
        index, message = choice["index"], choice["message"]
        content = message.get("content")
        first = {"role": message.get("role") or "assistant", "content": "" if content else content}
        chunks.append(chunk(index, first))
        chunks.extend(chunk(index, {"content": piece}) for piece in pieces(content or ""))
        for n, call in enumerate(message.get("tool_calls") or []):
            function = {
                "name": call["function"]["name"],
                "arguments": call["function"]["arguments"],
            }
            delta = {"index": n, "id": call["id"], "type": call.get("type") or "function"}
            chunks.append(chunk(index, {"tool_calls": [{**delta, "function": function}]}))
        if message.get("function_call"):
            chunks.append(chunk(index, {"function_call": message["function_call"]}))
        chunks.append(chunk(index, {}, choice["finish_reason"]))
    if include_usage and completion.get("usage") is not None:
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    return chunks
