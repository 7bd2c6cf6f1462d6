"""Legacy completions (`POST /completions`) as the cache keeps them: OpenAI's `text_completion`
document, assembled from a stream (chunks of `choices[].text`) and replayed as one, streamed
or not, in that operation's own shape (gateway.caching.completions says what is refused)."""

from __future__ import annotations

import json
from typing import Any

from gateway.caching.completion_parts import NotCacheable, openai_choices, pieces
from gateway.common.sse import DONE, parse

FINISHED = frozenset({"stop", "length"})
# A choice's fields a replay reproduces (logprobs would need the provider's own to replay).
_CHOICE_FIELDS = frozenset({"text", "index", "logprobs", "finish_reason"})


def from_stream(body: bytes) -> dict[str, Any] | None:
    doc: dict[str, Any] = {}
    texts: dict[int, list[str]] = {}
    finished: dict[int, str | None] = {}
    done = False
    for event in parse(body):
        if event.data.strip() == DONE:
            done = True
            break
        chunk = json.loads(event.data)
        if event.name == "error" or not isinstance(chunk, dict) or chunk.get("error") is not None:
            return None
        if chunk.get("object") not in ("text_completion", None):
            return None  # another operation's stream (chat's chat.completion.chunk)
        for key in ("id", "created", "model", "system_fingerprint"):
            if key in chunk and (chunk[key] or key not in doc):
                doc[key] = chunk[key]
        if chunk.get("usage") is not None:
            doc["usage"] = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if "delta" in choice or set(choice) - _CHOICE_FIELDS or choice.get("logprobs"):
                raise NotCacheable("a chat delta, logprobs, or a field a replay would lose")
            texts.setdefault(choice["index"], []).append(choice.get("text") or "")
            finished[choice["index"]] = choice.get("finish_reason") or finished.get(choice["index"])
    if not done or not texts:
        return None
    doc["object"] = "text_completion"
    doc["choices"] = [
        {"text": "".join(texts[i]), "index": i, "logprobs": None, "finish_reason": finished[i]}
        for i in sorted(texts)
    ]
    order = ("id", "object", "created", "model", "choices", "usage")
    return {k: doc[k] for k in (*order, *doc) if k in doc}


def text_ok(doc: Any) -> bool:
    """A finished, non-empty `text_completion` that the replays reproduce."""
    choices = openai_choices(doc, "text_completion")
    return choices is not None and all(_choice_ok(choice) for choice in choices)


def _choice_ok(choice: Any) -> bool:
    return (
        isinstance(choice, dict)
        and not set(choice) - _CHOICE_FIELDS
        and isinstance(choice.get("index"), int)
        and choice.get("logprobs") is None
        and choice.get("finish_reason") in FINISHED
        and isinstance(choice.get("text"), str)
        and bool(choice["text"])
    )


def text_chunks(completion: dict[str, Any], include_usage: bool) -> list[dict[str, Any]]:
    """The completion as OpenAI streams it: text pieces, a last chunk with the finish reason,
    and the usage chunk (no choices) when the client asked for it."""
    base = {k: completion[k] for k in ("id", "object", "created", "model") if k in completion}
    extra = {k: completion[k] for k in ("system_fingerprint",) if k in completion}

    def chunk(index: int, text: str, finish: str | None = None) -> dict[str, Any]:
        choice = {"text": text, "index": index, "logprobs": None, "finish_reason": finish}
        return {**base, "choices": [choice], **extra}

    chunks = []
    for choice in completion["choices"]:
        chunks.extend(chunk(choice["index"], piece) for piece in pieces(choice["text"]))
        chunks.append(chunk(choice["index"], "", choice["finish_reason"]))
    if include_usage and completion.get("usage") is not None:
        chunks.append({**base, "choices": [], "usage": completion["usage"]})
    return chunks
