"""What a model call says of itself, in OpenTelemetry's GenAI terms: the operation's name, the
provider's, and the response's id and finish reasons (whole JSON or a server-sent stream)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.common.fastjson import loads
from gateway.common.sse import json_of, parse

# gen_ai.operation.name of each operation that calls a model (others have none).
OPERATIONS = {
    "ChatCompletions_Create": "chat",
    "Messages_Create": "chat",
    "Responses_Create": "chat",
    "Completions_Create": "text_completion",
    "Embeddings_Create": "embeddings",
    "Messages_CountTokens": "count_tokens",
}

# gen_ai.provider.name by the backend's provider (gateway.yaml); gen_ai.system, its older
# name, takes the same value.
PROVIDERS = {
    "openai": "openai",
    "azure-openai": "azure.ai.openai",
    "anthropic": "anthropic",
}


@dataclass(slots=True)
class ResponseFacts:
    id: str | None = None
    model: str | None = None
    finish_reasons: list[str] = field(default_factory=list)

    def read(self, document: dict) -> None:
        """One JSON object: a whole response or one stream event (OpenAI chat, completions,
        Responses; Anthropic messages)."""
        inner = document.get("message") or document.get("response")  # message_start, response.*
        if isinstance(inner, dict):
            self.read(inner)
        if self.id is None and isinstance(document.get("id"), str):
            self.id = document["id"]
        if self.model is None and isinstance(document.get("model"), str):
            self.model = document["model"]
        for choice in document.get("choices") or ():
            if isinstance(choice, dict) and isinstance(choice.get("finish_reason"), str):
                self.finish_reasons.append(choice["finish_reason"])
        delta = document.get("delta")
        stop = document.get("stop_reason") or (
            delta.get("stop_reason") if isinstance(delta, dict) else None
        )
        if isinstance(stop, str):
            self.finish_reasons.append(stop)
        if document.get("object") == "response" and document.get("status") in (
            "completed",
            "incomplete",
            "failed",
        ):
            self.finish_reasons = [str(document["status"])]


def response_facts(body: bytes, content_type: str) -> ResponseFacts:
    """The id, model and finish reasons a response (or a whole stream) carries."""
    facts = ResponseFacts()
    if content_type.startswith("text/event-stream"):
        for event in parse(body):
            document = json_of(event)
            if document is not None:
                facts.read(document)
        return facts
    try:
        document = loads(body) if body else None
    except (ValueError, UnicodeDecodeError):
        return facts
    if isinstance(document, dict):
        facts.read(document)
    return facts
