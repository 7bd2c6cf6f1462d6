"""Anthropic's model listing (`GET /v1/models`) for an OpenAI client (`models.list()`).

Anthropic lists `{"data": [{"type": "model", "id", "display_name", "created_at"}], "has_more",
"first_id", "last_id"}`, a page at a time; OpenAI lists `{"object": "list", "data": [{"id",
"object": "model", "created", "owned_by"}]}`, all at once. The gateway asks for Anthropic's
largest page (`LIMIT`), so one page is the whole list for any account today. `created_at`
(RFC 3339) becomes `created` (Unix seconds); `display_name` has no OpenAI field and is dropped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

LIMIT = 1000  # Anthropic's largest page


def models_to_openai(document: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic model list -> an OpenAI model list."""
    models = []
    for model in document.get("data") or []:
        if isinstance(model, dict) and model.get("id"):
            models.append(
                {
                    "id": str(model["id"]),
                    "object": "model",
                    "created": _seconds(model.get("created_at")),
                    "owned_by": "anthropic",
                }
            )
    return {"object": "list", "data": models}


def _seconds(moment: Any) -> int:
    try:  # Python before 3.11 reads no "Z": spell it as an offset
        return int(datetime.fromisoformat(str(moment).replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0
