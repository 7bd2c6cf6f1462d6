"""OpenAI's Responses API (`POST /responses`) as the cache keeps it: the whole `response`
object, taken from a JSON answer or from a stream's `response.completed` event, and replayed
as one, or as the Responses stream the openai SDK assembles (gateway.caching.completions says
what is refused and why).

Only text answers are kept: assistant `message` items of `output_text` parts (without
annotations or log-probabilities), and reasoning items with nothing to show (no summary, no
content, no encrypted content: they replay as an added and a done item). A function call, a
built-in tool's call, a reasoning summary, a refusal, or a status other than `completed` is
never kept. A replay gets fresh ids (response and items) and the time it is served at.
"""

from __future__ import annotations

import json
import time
from itertools import count
from typing import Any

from gateway.caching.completion_parts import NotCacheable, pieces, strings
from gateway.common.sse import parse
from gateway.providers.common import fresh_id

# A stream's events that end it in failure (the SDKs raise on `error`).
_FAILED = frozenset({"error", "response.failed", "response.incomplete"})


def from_stream(body: bytes) -> dict[str, Any] | None:
    """The Response of a stream: `response.completed`'s, whose output, when a provider leaves it
    out, is the items its `response.output_item.done` events gave whole."""
    done: dict[int, dict[str, Any]] = {}
    texts: dict[tuple[int, int], list[str]] = {}
    for sent in parse(body):
        event = json.loads(sent.data)
        kind = event.get("type") if isinstance(event, dict) else None
        if sent.name in _FAILED or kind in _FAILED:
            return None
        if kind == "response.output_text.delta":
            where = (event["output_index"], event["content_index"])
            texts.setdefault(where, []).append(event["delta"])
        elif kind == "response.output_item.done":
            done[event["output_index"]] = event["item"]
        elif kind == "response.completed":
            completed = dict(event["response"])
            if not completed.get("output"):
                completed["output"] = [done[i] for i in sorted(done)]
            _check_texts(completed["output"], texts)
            return completed
    return None  # cut short: never completed


def _check_texts(output: list[Any], texts: dict[tuple[int, int], list[str]]) -> None:
    """What was streamed is what the response says it answered (else one of them is wrong)."""
    for (item, part), pieces_sent in texts.items():
        if output[item]["content"][part]["text"] != "".join(pieces_sent):
            raise NotCacheable("the streamed text differs from the completed response's")


def response_ok(doc: Any) -> bool:
    """A completed Response of text (and empty reasoning) that the replays reproduce."""
    if not isinstance(doc, dict) or doc.get("object") != "response":
        return False
    if doc.get("status") != "completed" or doc.get("error") or not strings(doc, "id", "model"):
        return False
    output = doc.get("output")
    if not isinstance(output, list) or not all(_item_ok(item) for item in output):
        return False
    return any(item["type"] == "message" and _text_of(item) for item in output)


def _item_ok(item: Any) -> bool:
    if not isinstance(item, dict) or item.get("status", "completed") != "completed":
        return False
    if item.get("type") == "reasoning":  # nothing to replay but its presence
        shown = ("summary", "content", "encrypted_content")
        return strings(item, "id") and not any(item.get(key) for key in shown)
    if item.get("type") != "message" or item.get("role") != "assistant":
        return False
    content = item.get("content")
    return strings(item, "id") and isinstance(content, list) and all(map(_part_ok, content))


def _part_ok(part: Any) -> bool:
    return (
        isinstance(part, dict)
        and part.get("type") == "output_text"
        and strings(part, "text")
        and not part.get("annotations")
        and not part.get("logprobs")
    )


def _text_of(item: dict[str, Any]) -> str:
    return "".join(part["text"] for part in item["content"])


def fresh(completion: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """The stored Response as this request's own: new ids, served now, with its metadata. It is
    not kept by the provider (`store` false): retrieving it by id finds nothing."""
    output = [
        {**item, "id": fresh_id("msg_" if item["type"] == "message" else "rs_")}
        for item in completion["output"]
    ]
    served = {"id": fresh_id("resp_"), "created_at": int(time.time()), "output": output}
    return {**completion, **served, "store": False, "metadata": request.get("metadata") or {}}


def response_events(completion: dict[str, Any]) -> list[dict[str, Any]]:
    """The Response as OpenAI streams it, each event with its `sequence_number`."""
    events: list[dict[str, Any]] = []
    numbers = count()

    def emit(kind: str, **fields: Any) -> None:
        events.append({"type": kind, "sequence_number": next(numbers), **fields})

    opening = {**completion, "status": "in_progress", "output": [], "usage": None}
    emit("response.created", response=opening)
    emit("response.in_progress", response=opening)
    for index, item in enumerate(completion["output"]):
        shown = {**item, "status": "in_progress"}
        if item["type"] == "message":
            shown["content"] = []
        emit("response.output_item.added", output_index=index, item=shown)
        for number, part in enumerate(item.get("content") or []):
            where = {"item_id": item["id"], "output_index": index, "content_index": number}
            emit("response.content_part.added", **where, part={**part, "text": ""})
            for piece in pieces(part["text"]):
                emit("response.output_text.delta", **where, delta=piece, logprobs=[])
            emit("response.output_text.done", **where, text=part["text"], logprobs=[])
            emit("response.content_part.done", **where, part=part)
        emit("response.output_item.done", output_index=index, item=item)
    emit("response.completed", response=completion)
    return events
