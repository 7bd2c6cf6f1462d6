"""Finished LLM completions in one canonical form, and their replay in the shape a client asks for.

The cache keeps ONE form of a completion: the provider's own non-streamed document (an OpenAI
`chat.completion`, an Anthropic `message`). A stream is assembled into it once it has ended; a hit
replays it as JSON or as SSE, so a streamed miss can serve a non-streamed hit and the other way
round, and the cache never stores half a stream.

The rule behind every refusal below: only keep what is complete and what can be replayed
faithfully in BOTH shapes. A refused completion costs one cache miss; a wrong one would be served to
every later client, so anything unfamiliar (filtered, refused, cut short, errors, logprobs, audio,
citations, unknown content) is refused rather than guessed at.
"""

from __future__ import annotations

import json
from typing import Any

STYLES = ("openai", "anthropic")  # "openai": OpenAI, Azure OpenAI, OpenAI-compatible chat

OPENAI_FINISHED = frozenset({"stop", "length", "tool_calls", "function_call"})
ANTHROPIC_FINISHED = frozenset({"end_turn", "max_tokens", "stop_sequence", "tool_use"})

# Message fields a replay reproduces. Any other field with a value (audio, annotations, Azure's
# `context`, `reasoning_content` ...) would be lost in one of the two shapes, so it is refused.
_OPENAI_MESSAGE_FIELDS = frozenset({"role", "content", "refusal", "tool_calls", "function_call"})
# Anthropic stream deltas that extend a text field of their block: delta type -> (block, field).
_ANTHROPIC_TEXT_DELTAS = {
    "text_delta": ("text", "text"),
    "thinking_delta": ("thinking", "thinking"),
    "signature_delta": ("thinking", "signature"),
}
_ANTHROPIC_BLOCKS = frozenset({"text", "tool_use", "thinking", "redacted_thinking"})

PIECE = 20  # characters per replayed text delta: small enough that clients see a real stream


class _NotCacheable(Exception):
    """Raised deep inside assembly when a completion turns out not to be cacheable."""


# Malformed provider JSON surfaces as one of these while it is walked; all mean "do not cache".
_MALFORMED = (_NotCacheable, ValueError, TypeError, LookupError, AttributeError, RecursionError)


def cacheable_completion(style: str, body: bytes, streamed: bool) -> dict[str, Any] | None:
    """The completion as the provider's non-streamed document; None when it must not be cached."""
    _check_style(style)
    try:
        if style == "openai":
            doc = _openai_from_stream(body) if streamed else json.loads(body)
            return doc if _openai_ok(doc) else None
        doc = _anthropic_from_stream(body) if streamed else json.loads(body)
        return doc if _anthropic_ok(doc) else None
    except _MALFORMED:
        return None


def replay_json(style: str, completion: dict[str, Any]) -> bytes:
    """The stored document as a compact JSON body (ids kept; the caller may rewrite them)."""
    _check_style(style)
    return _dumps(completion).encode()


def replay_stream(style: str, completion: dict[str, Any], include_usage: bool) -> bytes:
    """The whole SSE body (events split by blank lines), ending as the provider's streams end."""
    _check_style(style)
    if style == "openai":
        chunks = _openai_chunks(completion, include_usage)
        return "".join(f"data: {_dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"
    # Anthropic always reports usage in message_start / message_delta, so include_usage is moot.
    events = _anthropic_events(completion)
    return "".join(f"event: {e['type']}\ndata: {_dumps(e)}\n\n" for e in events).encode()


def _check_style(style: str) -> None:
    if style not in STYLES:
        raise ValueError(f"unknown completion style {style!r}; expected one of {STYLES}")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _pieces(text: str) -> list[str]:
    return [text[i : i + PIECE] for i in range(0, len(text), PIECE)]


def _sse_events(body: bytes) -> list[tuple[str, str]]:
    """(event name, data) pairs as the SSE spec dispatches them, from the whole stream at once.

    CR, LF and CRLF all end lines; `:` lines are comments; several `data:` lines join with "\\n".
    The stream has ended, so a last event that lacks its blank line is still dispatched, but only
    if its last line was terminated: an unterminated line may have been cut in the middle.
    """
    text = body.decode("utf-8").removeprefix("\ufeff")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines[-1] = ""  # "" after a final newline anyway; otherwise a possibly cut line, dropped
    events: list[tuple[str, str]] = []
    data: list[str]
    name, data = "", []
    for line in lines:
        if not line:
            if data:
                events.append((name or "message", "\n".join(data)))
            name, data = "", []
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)
    return events


# --- OpenAI chat completions ------------------------------------------------------------------


def _openai_from_stream(body: bytes) -> dict[str, Any] | None:
    doc: dict[str, Any] = {}
    choices: dict[int, dict[str, Any]] = {}
    done = False
    for name, data in _sse_events(body):
        if data.strip() == "[DONE]":
            done = True
            break  # the SDKs stop reading here too
        chunk = json.loads(data)
        if name == "error" or not isinstance(chunk, dict) or chunk.get("error") is not None:
            return None
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
        raise _NotCacheable("logprobs cannot be replayed in both shapes")
    delta = part.get("delta") or {}
    if any(v for k, v in delta.items() if k not in _OPENAI_MESSAGE_FIELDS) or delta.get("refusal"):
        raise _NotCacheable("refusal, or a delta field a replay would lose")
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


def _openai_ok(doc: Any) -> bool:
    """Complete, not filtered or refused, and in a shape the replays can reproduce."""
    if not isinstance(doc, dict) or doc.get("error") is not None:
        return False
    if doc.get("object", "chat.completion") != "chat.completion":
        return False
    if not _strings(doc, "id", "model"):
        return False
    choices = doc.get("choices")
    if not isinstance(doc.get("created"), int) or not isinstance(choices, list) or not choices:
        return False
    return all(_openai_choice_ok(choice) for choice in choices)


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
    return (
        isinstance(message.get("content"), str | None)
        and isinstance(calls, list)
        and all(
            isinstance(c, dict) and _strings(c, "id") and _function_ok(c.get("function"))
            for c in calls
        )
        and (message.get("function_call") is None or _function_ok(message["function_call"]))
    )


def _function_ok(function: Any) -> bool:
    return isinstance(function, dict) and _strings(function, "name", "arguments")


def _strings(value: dict[str, Any], *keys: str) -> bool:
    return all(isinstance(value.get(k), str) for k in keys)


def _openai_chunks(completion: dict[str, Any], include_usage: bool) -> list[dict[str, Any]]:
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
        chunks.extend(chunk(index, {"content": piece}) for piece in _pieces(content or ""))
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


# --- Anthropic messages -----------------------------------------------------------------------


def _anthropic_from_stream(body: bytes) -> dict[str, Any] | None:
    message: dict[str, Any] | None = None
    usage: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    parts: dict[int, dict[str, list[str]]] = {}  # text pieces per open block and field
    stopped = False
    for name, data in _sse_events(body):
        event = json.loads(data)
        kind = event.get("type")
        if name == "error" or kind == "error":
            return None
        if kind == "message_start":
            message = dict(event["message"])
            usage = dict(message.get("usage") or {})
        elif kind == "content_block_start":
            block = dict(event["content_block"])
            if block.get("type") not in _ANTHROPIC_BLOCKS:
                return None  # server tools, documents ...: not replayable as we know them
            blocks[event["index"]] = block
            parts[event["index"]] = {}
        elif kind == "content_block_delta":
            _anthropic_delta(blocks[event["index"]], parts[event["index"]], event["delta"])
        elif kind == "content_block_stop":
            _anthropic_close(blocks[event["index"]], parts.pop(event["index"]))
        elif kind == "message_delta":
            if message is None:
                return None
            delta = event.get("delta") or {}
            message.update({k: delta.get(k) for k in ("stop_reason", "stop_sequence")})
            # message_delta counts are cumulative; newer APIs repeat the input counts there too.
            usage.update({k: v for k, v in (event.get("usage") or {}).items() if v is not None})
        elif kind == "message_stop":
            stopped = True
            break
        # ping and event types added later are ignored, as Anthropic asks clients to do.
    if message is None or not stopped or parts:
        return None  # never started, cut short, or a block left open
    message["content"] = [blocks[i] for i in sorted(blocks)]
    message["usage"] = usage
    return message


def _anthropic_delta(block: dict[str, Any], parts: dict[str, list[str]], delta: dict) -> None:
    kind = delta["type"]
    if kind == "input_json_delta" and block["type"] == "tool_use":
        parts.setdefault("input", []).append(delta["partial_json"])
    elif kind in _ANTHROPIC_TEXT_DELTAS and _ANTHROPIC_TEXT_DELTAS[kind][0] == block["type"]:
        field = _ANTHROPIC_TEXT_DELTAS[kind][1]
        parts.setdefault(field, []).append(delta[field])
    else:
        raise _NotCacheable(f"{kind} in a {block['type']} block (citations, or unknown)")


def _anthropic_close(block: dict[str, Any], parts: dict[str, list[str]]) -> None:
    for field, pieces in parts.items():
        if field == "input":
            # Tool input arrives as pieces of one JSON text; an empty text means no arguments.
            text = "".join(pieces)
            block["input"] = json.loads(text) if text.strip() else {}
        else:
            block[field] = (block.get(field) or "") + "".join(pieces)


def _anthropic_ok(doc: Any) -> bool:
    """A finished Messages API message (not refused, not an error) that the replays reproduce."""
    if not isinstance(doc, dict) or doc.get("type") != "message" or doc.get("role") != "assistant":
        return False
    if doc.get("stop_reason") not in ANTHROPIC_FINISHED or not isinstance(doc.get("usage"), dict):
        return False
    if not _strings(doc, "id", "model"):
        return False
    content = doc.get("content")
    return isinstance(content, list) and all(_anthropic_block_ok(b) for b in content)


def _anthropic_block_ok(block: Any) -> bool:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text":  # citations would need citations_delta events to replay
        return _strings(block, "text") and not block.get("citations")
    if kind == "tool_use":
        return _strings(block, "id", "name") and isinstance(block.get("input"), dict)
    if kind == "thinking":
        return _strings(block, "thinking", "signature")
    return kind == "redacted_thinking" and _strings(block, "data")


def _anthropic_events(completion: dict[str, Any]) -> list[dict[str, Any]]:
    usage = dict(completion.get("usage") or {})
    # message_start announces the input side; Anthropic reports output_tokens 1 at this point.
    start = {**completion, "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = {**usage, "output_tokens": 1}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(completion["content"]):
        deltas: list[dict[str, Any]] = []
        if block["type"] == "text":
            opening = {**block, "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"])]
        elif block["type"] == "tool_use":
            opening = {**block, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": _dumps(block["input"])}]
        elif block["type"] == "thinking":
            opening = {**block, "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": p} for p in _pieces(block["thinking"])]
            if block["signature"]:
                deltas.append({"type": "signature_delta", "signature": block["signature"]})
        else:  # redacted_thinking arrives whole in its start event
            opening = block
        events.append({"type": "content_block_start", "index": index, "content_block": opening})
        events.extend({"type": "content_block_delta", "index": index, "delta": d} for d in deltas)
        events.append({"type": "content_block_stop", "index": index})
    stop = {
        "stop_reason": completion["stop_reason"],
        "stop_sequence": completion.get("stop_sequence"),
    }
    output = {"output_tokens": usage.get("output_tokens", 0)}
    events.append({"type": "message_delta", "delta": stop, "usage": output})
    events.append({"type": "message_stop"})
    return events
