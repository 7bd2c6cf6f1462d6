"""An Anthropic Messages request for an OpenAI(-compatible) Chat Completions backend.

What OpenAI cannot express is dropped where the completion stays meaningful without it (top_k,
cache_control ...) and refused with TranslationError where dropping it would silently change
what the client asked for (a user block OpenAI has no form for). The response comes back through
gateway.providers.from_openai.
"""

from __future__ import annotations

from typing import Any

from gateway.providers.common import (
    TranslationError,
    chat_tool_call,
    data_url,
    joined_text,
    refuses_malformed,
)
from gateway.providers.reasoning import effort_for_thinking

# Request fields with no OpenAI equivalent, dropped on purpose (anything unknown is dropped too,
# as strict OpenAI-compatible servers reject unknown fields):
#   top_k - no such sampling control;
#   thinking, output_config.effort - unless `reasoning` (see gateway.providers.reasoning):
#       reasoning_effort exists only on reasoning models and the others reject it; thinking
#       blocks in the history are dropped always (Chat Completions cannot send them back);
#   cache_control (top level and on blocks) - OpenAI caches prompts implicitly;
#   citations, is_error on tool results - no counterpart (the result's text is kept);
#   service_tier, container, mcp_servers, context_management, inference_geo, speed - Anthropic
#       platform features; server tools (web search, code execution ...) and Anthropic-defined
#       client tools (bash, text editor, computer) have no schema to offer, so they are not offered;
#   an assistant prefill (a last assistant turn) is sent as an ordinary earlier turn: OpenAI
#       has no prefill, so the model replies after it instead of continuing it.


@refuses_malformed
def messages_request_to_chat(
    body: dict[str, Any], *, reasoning: bool = False, sampling: bool = True
) -> dict[str, Any]:
    """An Anthropic messages request body -> an OpenAI chat.completions request body.

    `reasoning=True` maps thinking to reasoning_effort (see effort_for_thinking).
    `sampling=False` drops temperature and top_p, for models that reject them (OpenAI's
    reasoning models take only the default temperature).
    """
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise TranslationError("the request needs a `messages` array")
    messages: list[dict[str, Any]] = []
    system = joined_text(body.get("system"))
    if system:
        messages.append({"role": "system", "content": system})
    for message in body["messages"]:
        role = message.get("role") if isinstance(message, dict) else None
        if role == "user":
            messages.extend(_user_messages(message.get("content")))
        elif role == "assistant":
            messages.extend(_assistant_messages(message.get("content")))
        elif role == "system":  # mid-conversation system messages (Opus 4.8+), kept in place
            if text := joined_text(message.get("content")):
                messages.append({"role": "system", "content": text})
        else:
            raise TranslationError(f"unsupported message role {role!r}")

    out: dict[str, Any] = {"model": body.get("model"), "messages": messages}
    if body.get("max_tokens") is not None:
        # max_completion_tokens is OpenAI's current name; max_tokens is deprecated there and
        # rejected by its reasoning models.
        out["max_completion_tokens"] = body["max_tokens"]
    for key in ("temperature", "top_p"):  # Anthropic's ranges fit inside OpenAI's
        if sampling and body.get(key) is not None:
            out[key] = body[key]
    if reasoning:
        effort = effort_for_thinking(body.get("thinking"), body.get("output_config"))
        if effort is not None:
            out["reasoning_effort"] = effort
    if body.get("stop_sequences"):
        out["stop"] = list(body["stop_sequences"])
    if body.get("stream"):
        # Anthropic streams always report usage; OpenAI's only when asked.
        out["stream"] = True
        out["stream_options"] = {"include_usage": True}
    user = (body.get("metadata") or {}).get("user_id")
    if isinstance(user, str) and user:
        out["user"] = user
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise TranslationError("`tools` must be an array")
    tools = [_tool(t) for t in tools if _is_custom_tool(t)]
    if tools:
        out["tools"] = tools
        choice = body.get("tool_choice") or {}
        mapped = _tool_choice(choice)
        if mapped is not None:
            out["tool_choice"] = mapped
        if choice.get("disable_parallel_tool_use") is True:
            out["parallel_tool_calls"] = False  # only valid with tools, hence here
    schema = ((body.get("output_config") or {}).get("format") or {}).get("schema")
    if isinstance(schema, dict):
        # Anthropic's json_schema output is always enforced, as OpenAI's strict mode is.
        json_schema = {"name": "output", "schema": schema, "strict": True}
        out["response_format"] = {"type": "json_schema", "json_schema": json_schema}
    return out


def _user_messages(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    # Tool results become `tool` messages, which must directly follow the assistant's calls, so
    # they go first; the rest of the turn follows as one user message.
    tools: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in content or []:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "tool_result":
            text, images = _tool_result(block.get("content"))
            tools.append(
                {"role": "tool", "tool_call_id": block.get("tool_use_id"), "content": text}
            )
            # Tool messages carry text only: images a tool returned follow in the user message.
            parts.extend(images)
        else:
            parts.extend(_user_part(block))
    out = list(tools)
    if len(parts) == 1 and parts[0]["type"] == "text":
        out.append({"role": "user", "content": parts[0]["text"]})
    elif parts:
        out.append({"role": "user", "content": parts})
    return out


def _user_part(block: Any) -> list[dict[str, Any]]:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text":
        return [{"type": "text", "text": block.get("text") or ""}]
    if kind == "image":
        return [_image(block.get("source") or {})]
    if kind == "document":
        return [_document(block)]
    if kind in ("thinking", "redacted_thinking"):
        return []
    raise TranslationError(f"content block {kind!r} is not supported by this backend")


def _image(source: dict[str, Any]) -> dict[str, Any]:
    if source.get("type") == "base64":
        url = data_url(source.get("media_type") or "image/png", source.get("data") or "")
    elif source.get("type") == "url":
        url = source.get("url") or ""
    else:  # file ids belong to Anthropic's Files API
        raise TranslationError(f"image source {source.get('type')!r} is not supported here")
    return {"type": "image_url", "image_url": {"url": url}}


def _document(block: dict[str, Any]) -> dict[str, Any]:
    source = block.get("source") or {}
    if source.get("type") == "text":
        return {"type": "text", "text": source.get("data") or ""}
    if source.get("type") == "base64" and source.get("media_type") == "application/pdf":
        file = {"filename": block.get("title") or "document.pdf"}
        file["file_data"] = data_url("application/pdf", source.get("data") or "")
        return {"type": "file", "file": file}
    raise TranslationError("only inline PDF and plain-text documents are supported here")


def _tool_result(content: Any) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(content, str):
        return content, []
    texts, images = [], []
    for block in content or []:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "image":
            images.append(_image(block.get("source") or {}))
        else:
            raise TranslationError(f"tool result block {kind!r} is not supported by this backend")
    return "\n\n".join(texts), images


def _assistant_messages(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "assistant", "content": content}]
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in content or []:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "tool_use":
            calls.append(chat_tool_call(block, block.get("id")))
        # thinking and server-tool blocks (server_tool_use, web_search_tool_result ...) cannot be
        # sent back through Chat Completions; they are left out of the history.
    text = "".join(texts)
    if not text and not calls:
        return []
    message: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return [message]


def _is_custom_tool(tool: Any) -> bool:
    # Server tools (web search ...) and Anthropic-defined client tools (bash ...) have no schema.
    return tool.get("type") in (None, "custom") and "input_schema" in tool


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    function = {"name": tool.get("name"), "parameters": tool.get("input_schema")}
    if tool.get("description"):
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def _tool_choice(choice: dict[str, Any]) -> Any:
    kind = choice.get("type")
    if kind == "tool" and choice.get("name"):
        return {"type": "function", "function": {"name": choice["name"]}}
    return {"auto": "auto", "any": "required", "none": "none"}.get(kind or "")
