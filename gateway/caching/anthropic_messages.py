"""Anthropic messages as the cache keeps them (`message`), assembled from a stream and replayed
as one (gateway.caching.completions says what is refused and why)."""

from __future__ import annotations

import json
from typing import Any

from gateway.caching.completion_parts import NotCacheable, dumps, pieces, strings
from gateway.common.sse import parse

ANTHROPIC_FINISHED = frozenset({"end_turn", "max_tokens", "stop_sequence", "tool_use"})
# Anthropic stream deltas that extend a text field of their block: delta type -> (block, field).
_ANTHROPIC_TEXT_DELTAS = {
    "text_delta": ("text", "text"),
    "thinking_delta": ("thinking", "thinking"),
    "signature_delta": ("thinking", "signature"),
}
_ANTHROPIC_BLOCKS = frozenset({"text", "tool_use", "thinking", "redacted_thinking"})


def from_stream(body: bytes) -> dict[str, Any] | None:
    message: dict[str, Any] | None = None
    usage: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    parts: dict[int, dict[str, list[str]]] = {}  # text pieces per open block and field
    stopped = False
    for sent in parse(body):
        event = json.loads(sent.data)
        kind = event.get("type")
        if sent.name == "error" or kind == "error":
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
        raise NotCacheable(f"{kind} in a {block['type']} block (citations, or unknown)")


def _anthropic_close(block: dict[str, Any], parts: dict[str, list[str]]) -> None:
    for field, texts in parts.items():
        if field == "input":
            # Tool input arrives as pieces of one JSON text; an empty text means no arguments.
            text = "".join(texts)
            block["input"] = json.loads(text) if text.strip() else {}
        else:
            block[field] = (block.get(field) or "") + "".join(texts)


def anthropic_ok(doc: Any) -> bool:
    """A finished Messages API message (not refused, not an error) that the replays reproduce."""
    if not isinstance(doc, dict) or doc.get("type") != "message" or doc.get("role") != "assistant":
        return False
    if doc.get("stop_reason") not in ANTHROPIC_FINISHED or not isinstance(doc.get("usage"), dict):
        return False
    if not strings(doc, "id", "model"):
        return False
    content = doc.get("content")
    return isinstance(content, list) and all(_anthropic_block_ok(b) for b in content)


def _anthropic_block_ok(block: Any) -> bool:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text":  # citations would need citations_delta events to replay
        return strings(block, "text") and not block.get("citations")
    if kind == "tool_use":
        return strings(block, "id", "name") and isinstance(block.get("input"), dict)
    if kind == "thinking":
        return strings(block, "thinking", "signature")
    return kind == "redacted_thinking" and strings(block, "data")


def anthropic_events(completion: dict[str, Any]) -> list[dict[str, Any]]:
    usage = dict(completion.get("usage") or {})
    # message_start announces the input side; Anthropic reports output_tokens 1 at this point.
    start = {**completion, "content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = {**usage, "output_tokens": 1}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(completion["content"]):
        deltas: list[dict[str, Any]] = []
        if block["type"] == "text":
            opening = {**block, "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in pieces(block["text"])]
        elif block["type"] == "tool_use":
            opening = {**block, "input": {}}
            deltas = [{"type": "input_json_delta", "partial_json": dumps(block["input"])}]
        elif block["type"] == "thinking":
            opening = {**block, "thinking": "", "signature": ""}
            deltas = [{"type": "thinking_delta", "thinking": p} for p in pieces(block["thinking"])]
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
