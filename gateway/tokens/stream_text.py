"""The text a streamed model completion carries.

A stream's events are read from its bytes by the one SSE parser (gateway.common.sse); each
event's text is read in the client's format (`DeltaText`: OpenAI chat and completions,
Anthropic messages, the Responses API).
"""

from __future__ import annotations

from gateway.common.sse import Event, json_of


class DeltaText:
    """The completion text one streamed event adds, in the client's format: OpenAI chat
    (`choices[].delta.content`) or legacy completions (`choices[].text`), Anthropic
    (`text_delta`), the Responses API (`response.output_text.delta`)."""

    def __init__(self) -> None:
        self.choice: object = None  # the choice the last text belonged to

    def of(self, event: Event) -> str:
        parsed = json_of(event)
        if parsed is None:
            return ""
        kind = parsed.get("type")
        if kind == "content_block_delta":
            delta = parsed.get("delta")
            if isinstance(delta, dict) and delta.get("type") == "text_delta":
                return str(delta.get("text") or "")
            return ""
        if kind == "response.output_text.delta":
            return str(parsed.get("delta") or "")
        choices = parsed.get("choices")
        if not isinstance(choices, list):
            return ""
        texts: list[str] = []
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            text = content_text(delta.get("content")) if isinstance(delta, dict) else None
            if text is None and isinstance(choice.get("text"), str):
                text = choice["text"]
            if not text:
                continue
            if self.choice is not None and choice.get("index") != self.choice:
                texts.append("\n")  # several choices (n > 1): never run one into another
            self.choice = choice.get("index")
            texts.append(text)
        return "".join(texts)


def content_text(content: object) -> str:
    """A message's text: a string, or its text parts (OpenAI, Anthropic, Responses) joined.
    Prompts and completions alike."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = []
    for part in content:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, dict):
            if part.get("type") in ("text", "input_text", "output_text"):
                texts.append(str(part.get("text") or ""))
            elif part.get("type") == "tool_result":  # Anthropic: a tool's output
                texts.append(content_text(part.get("content")))
    return " ".join(text for text in texts if text)
