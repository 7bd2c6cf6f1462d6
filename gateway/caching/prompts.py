"""What a semantic cache compares: the prompt's text, and the settings that must match exactly.

As APIM does, the text is the conversation's messages (system messages left out with
`ignore-system-messages`); for the Responses API, its `instructions` and `input` messages
(`responses_prompt_of`, which also says what it refuses to key). Beyond APIM, everything else
that changes a completion is part of the partition a hit must come from, compared exactly
rather than by similarity: the model, the sampling and output settings, the tools, the
response format, the system prompt, and any non-text content (an image, a file): two prompts
asking "what is in this picture?" about two pictures never share a completion.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

# Request fields that change the completion (OpenAI, Azure OpenAI, Anthropic): all must match.
COMPLETION_SETTINGS = (
    "model",
    "temperature",
    "top_p",
    "top_k",
    "n",
    "seed",
    "stop",
    "stop_sequences",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "tools",
    "tool_choice",
    "functions",
    "function_call",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
    "thinking",
    "modalities",
    "audio",
    "prediction",
)


@dataclass(frozen=True, slots=True)
class Prompt:
    text: str  # what is embedded and compared (the messages' text, one per line)
    settings: str  # a digest of everything that must match exactly
    messages: int  # how many messages the text holds (for max-message-count)


def prompt_of(body: dict[str, Any], ignore_system: bool, deployment: str = "") -> Prompt | None:
    """The prompt of a chat (or legacy completions) request; None when it has none."""
    exact: dict[str, Any] = {k: body[k] for k in COMPLETION_SETTINGS if k in body}
    if deployment and "model" not in exact:  # Azure OpenAI names the model in the URL
        exact["model"] = deployment
    lines: list[str] = []
    system: list[str] = []
    attachments: list[str] = []
    messages = body.get("messages")
    if isinstance(messages, list):
        if "system" in body:  # Anthropic's system prompt is a field, not a message
            system.append(_text(body["system"], attachments))
            if not ignore_system:
                lines.append(f"system: {system[-1]}")
        for message in messages:
            if not isinstance(message, dict):
                return None
            role = str(message.get("role", ""))
            text = _text(message.get("content"), attachments)
            if message.get("tool_calls") is not None:
                text += " " + json.dumps(message["tool_calls"], sort_keys=True)
            if role in ("system", "developer"):
                system.append(text)
                if ignore_system:
                    continue
            lines.append(f"{role}: {text}")
        count = len(lines)
    elif isinstance(body.get("prompt"), str):
        lines, count = [body["prompt"]], 1
    else:
        return None
    exact["system"] = system
    exact["attachments"] = attachments
    settings = hashlib.sha256(json.dumps(exact, sort_keys=True, default=str).encode()).hexdigest()
    return Prompt("\n".join(lines), settings, count)


def _text(content: object, attachments: list[str]) -> str:
    """A message's text; other parts (images, audio, files) are digested into `attachments`."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") in ("text", "input_text"):
                texts.append(str(part.get("text", "")))
            else:
                encoded = json.dumps(part, sort_keys=True, default=str).encode()
                attachments.append(hashlib.sha256(encoded).hexdigest())
        return " ".join(texts)
    return str(content)


# The Responses API: what its prompt cannot be keyed by, since the answer depends on state the
# gateway cannot see (a stored response, conversation or prompt template) or runs elsewhere.
RESPONSES_UNKEYABLE = ("previous_response_id", "conversation", "prompt", "background")
# Responses request fields that do not change the answer; every other field (model, sampling,
# reasoning, text format, tools, include ...) is part of the partition, known or not.
_RESPONSES_UNKEYED = frozenset(
    {"input", "instructions", "stream", "stream_options", "metadata", "user", "store"}
    | {"safety_identifier", "prompt_cache_key", "prompt_cache_retention"}
)
_TEXT_PARTS = {"input_text": "text", "output_text": "text"}


def responses_prompt_of(body: dict[str, Any], ignore_system: bool) -> Prompt | None:
    """The prompt of a Responses API request: `instructions` and the `input` messages' text.

    None (neither looked up nor stored) when the answer depends on more than that text and the
    settings: `previous_response_id`, `conversation`, a stored `prompt`, `background`; built-in
    tools (web or file search, code interpreter, ...: only `function` tools are keyed); input
    items other than messages (function calls and their outputs, reasoning, item references);
    and content other than text (images, files, audio).
    """
    if any(body.get(name) for name in RESPONSES_UNKEYABLE):
        return None
    tools = body.get("tools") or []
    if not isinstance(tools, list) or any(
        not isinstance(t, dict) or t.get("type") != "function" for t in tools
    ):
        return None
    system: list[str] = []
    lines: list[str] = []
    if body.get("instructions"):
        system.append(str(body["instructions"]))
        if not ignore_system:
            lines.append(f"system: {system[-1]}")
    given = body.get("input")
    items = [{"role": "user", "content": given}] if isinstance(given, str) else given
    if not isinstance(items, list):
        return None
    for item in items:
        if not isinstance(item, dict) or item.get("type", "message") != "message":
            return None
        text = _response_text(item.get("content"))
        if text is None:
            return None
        role = str(item.get("role", ""))
        if role in ("system", "developer"):
            system.append(text)
            if ignore_system:
                continue
        lines.append(f"{role}: {text}")
    if not lines:
        return None
    exact = {k: v for k, v in body.items() if k not in _RESPONSES_UNKEYED}
    exact["system"] = system
    settings = hashlib.sha256(json.dumps(exact, sort_keys=True, default=str).encode()).hexdigest()
    return Prompt("\n".join(lines), settings, len(lines))


def _response_text(content: object) -> str | None:
    """A Responses message's text, or None when it holds anything but text."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return None
    texts = []
    for part in content:
        if not isinstance(part, dict) or part.get("type") not in _TEXT_PARTS:
            return None
        texts.append(str(part.get("text", "")))
    return " ".join(texts)
