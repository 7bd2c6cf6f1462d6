"""What the stored completions of every operation share: the refusal, the JSON they are
written in, the pieces a replayed stream cuts text into, and the OpenAI-style SSE body."""

from __future__ import annotations

import json
from typing import Any

PIECE = 20  # characters per replayed text delta: small enough that clients see a real stream


class NotCacheable(Exception):
    """Raised deep inside assembly when a completion turns out not to be cacheable."""


# Malformed provider JSON surfaces as one of these while it is walked; all mean "do not cache".
MALFORMED = (NotCacheable, ValueError, TypeError, LookupError, AttributeError, RecursionError)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def pieces(text: str) -> list[str]:
    return [text[i : i + PIECE] for i in range(0, len(text), PIECE)]


def strings(value: dict[str, Any], *keys: str) -> bool:
    return all(isinstance(value.get(k), str) for k in keys)


def openai_choices(doc: Any, kind: str, given: str | None = None) -> list[Any] | None:
    """An OpenAI document's choices, when it is a `kind` document (`object`, or `given` when
    it has none) with an id, a model, a creation time and choices, and no error."""
    if not isinstance(doc, dict) or doc.get("error") is not None:
        return None
    if doc.get("object", given) != kind or not strings(doc, "id", "model"):
        return None
    choices = doc.get("choices")
    if not isinstance(doc.get("created"), int) or not isinstance(choices, list) or not choices:
        return None
    return choices


def openai_sse_body(chunks: list[dict[str, Any]]) -> bytes:
    """OpenAI's stream of `chunks`, ending as OpenAI's streams end."""
    return "".join(f"data: {dumps(c)}\n\n" for c in chunks).encode() + b"data: [DONE]\n\n"
