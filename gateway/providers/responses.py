"""OpenAI's Responses API for an Anthropic Messages backend, by way of Chat Completions.

A Responses request is rewritten as the Chat Completions request it means
(`responses_request_to_chat`), which gateway.providers.to_anthropic already translates; the
answer comes back the same way: Anthropic's message to a chat completion
(gateway.providers.from_anthropic), then to a Response (`chat_response_to_response`); a stream
through `MessagesStreamToChat` and `ChatStreamToResponses` (gateway.providers.responses_stream).
Each step is faithful, so the whole is.

What has no counterpart is refused (TranslationError) where it changes the answer:
`previous_response_id` and `conversation` (the gateway keeps no responses: send the whole
conversation as `input`), `background`, built-in tools (web search, file search, code
interpreter, ...), item references and file ids. Dropped, as they do not change the answer:
`store` (nothing is stored: the response cannot be retrieved later), `include`, `metadata`,
`truncation`, `service_tier`, `prompt_cache_key`, reasoning items in the input (a thinking block
cannot go back without its signature), `text.verbosity`.
"""

from __future__ import annotations

from typing import Any

from gateway.providers.common import TranslationError, fresh_id, now, refuses_malformed

_REFUSED = {
    "previous_response_id": "`previous_response_id` needs stored responses, which this "
    "backend has not: send the whole conversation as `input`",
    "conversation": "`conversation` needs stored conversations, which this backend has not",
    "background": "`background` responses are not supported by this backend",
}
_PARTS = {"input_text": "text", "output_text": "text", "refusal": "refusal"}


@refuses_malformed
def responses_request_to_chat(body: dict[str, Any]) -> dict[str, Any]:
    """A Responses request body -> the Chat Completions request body it means."""
    for name, reason in _REFUSED.items():
        if body.get(name):
            raise TranslationError(reason)
    messages: list[dict[str, Any]] = []
    if body.get("instructions"):
        messages.append({"role": "system", "content": str(body["instructions"])})
    given = body.get("input")
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
    elif isinstance(given, list):
        for item in given:
            _item(item, messages)
    else:
        raise TranslationError("the request needs an `input` string or array")
    chat: dict[str, Any] = {"model": body.get("model"), "messages": messages}
    if body.get("max_output_tokens") is not None:
        chat["max_completion_tokens"] = body["max_output_tokens"]
    for key in ("temperature", "top_p", "parallel_tool_calls", "user", "safety_identifier"):
        if body.get(key) is not None:
            chat[key] = body[key]
    if isinstance(body.get("reasoning"), dict) and body["reasoning"].get("effort"):
        chat["reasoning_effort"] = body["reasoning"]["effort"]
    if body.get("tools"):
        chat["tools"] = [_tool(tool) for tool in body["tools"]]
    if body.get("tool_choice") is not None:
        chat["tool_choice"] = _tool_choice(body["tool_choice"])
    text_format = (body.get("text") or {}).get("format") or {}
    if text_format.get("type") in ("json_schema", "json_object"):
        schema = {key: value for key, value in text_format.items() if key != "type"}
        chat["response_format"] = {"type": text_format["type"]}
        if text_format["type"] == "json_schema":
            chat["response_format"]["json_schema"] = schema
    if body.get("stream"):
        chat["stream"] = True
    return chat


def _item(item: Any, messages: list[dict[str, Any]]) -> None:
    kind = item.get("type", "message")
    if kind == "message":
        role = "system" if item.get("role") == "developer" else item.get("role")
        messages.append({"role": role, "content": _content(item.get("content"))})
    elif kind == "function_call":
        call = {
            "id": item.get("call_id") or item.get("id"),
            "type": "function",
            "function": {"name": item.get("name"), "arguments": item.get("arguments") or "{}"},
        }
        last = messages[-1] if messages else {}
        if last.get("role") == "assistant" and "tool_calls" in last:  # parallel calls: one turn
            last["tool_calls"].append(call)
        elif last.get("role") == "assistant" and not last.get("tool_calls"):
            last["tool_calls"] = [call]  # the text the calls came with
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    elif kind == "function_call_output":
        output = item.get("output")
        content = output if isinstance(output, str) else _content(output)
        messages.append({"role": "tool", "tool_call_id": item.get("call_id"), "content": content})
    elif kind != "reasoning":
        raise TranslationError(f"input item {kind!r} is not supported by this backend")


def _content(content: Any) -> Any:
    """A message's content: text as it is, parts as Chat Completions' parts."""
    if isinstance(content, str) or content is None:
        return content or ""
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type")
        if kind in _PARTS:
            parts.append({"type": "text", "text": part.get(_PARTS[kind]) or ""})
        elif kind == "input_image" and part.get("image_url"):
            parts.append({"type": "image_url", "image_url": {"url": part["image_url"]}})
        elif kind == "input_file" and part.get("file_data"):
            file = {"file_data": part["file_data"], "filename": part.get("filename")}
            parts.append({"type": "file", "file": file})
        else:
            raise TranslationError(f"content part {kind!r} is not supported by this backend")
    return parts


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    if tool.get("type") != "function":
        raise TranslationError(f"tool type {tool.get('type')!r} is not supported by this backend")
    function = {key: tool[key] for key in ("name", "description", "parameters") if key in tool}
    return {"type": "function", "function": function}


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, str):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    raise TranslationError(f"tool_choice {choice!r} is not supported by this backend")


def chat_response_to_response(chat: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """A chat completion (translated from Anthropic's message) -> a Response."""
    choice = (chat.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    output: list[dict[str, Any]] = []
    if message.get("content") or message.get("refusal"):
        output.append(message_item(message.get("content") or "", message.get("refusal")))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        output.append(call_item(call.get("id"), function.get("name"), function.get("arguments")))
    usage = chat.get("usage") or {}
    return response(
        request,
        str(chat.get("id") or ""),
        chat.get("model") or request.get("model"),
        output,
        choice.get("finish_reason"),
        response_usage(usage),
    )


def message_item(text: str, refusal: str | None = None, item_id: str = "") -> dict[str, Any]:
    part: dict[str, Any] = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    if refusal:
        part = {"type": "refusal", "refusal": refusal}
    return {
        "type": "message",
        "id": item_id or fresh_id("msg_"),
        "status": "completed",
        "role": "assistant",
        "content": [part],
    }


def call_item(call_id: Any, name: Any, arguments: Any, item_id: str = "") -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": item_id or fresh_id("fc_"),
        "call_id": call_id or fresh_id("call_"),
        "name": name or "",
        "arguments": arguments or "",
        "status": "completed",
    }


def response_usage(chat_usage: dict[str, Any]) -> dict[str, Any]:
    """Chat Completions' usage in the Responses API's names."""
    prompt = int(chat_usage.get("prompt_tokens") or 0)
    completion = int(chat_usage.get("completion_tokens") or 0)
    details = chat_usage.get("prompt_tokens_details") or {}
    cached = details.get("cached_tokens") or 0
    written = details.get("cache_write_tokens") or 0  # chat reports none: Anthropic's are lost
    reasoning = (chat_usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": written},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": prompt + completion,
    }


def response(
    request: dict[str, Any],
    chat_id: str,
    model: Any,
    output: list[dict[str, Any]],
    finish: Any,
    usage: dict[str, Any] | None,
    status: str | None = None,
) -> dict[str, Any]:
    """A Response object: `status` completed (or incomplete, cut at the token limit) unless
    given (in_progress, for a stream's first events)."""
    incomplete = finish == "length"
    if status is None:
        status = "incomplete" if incomplete else "completed"
    return {
        "id": "resp_" + (chat_id.removeprefix("chatcmpl-") or fresh_id("")),
        "object": "response",
        "created_at": now(),
        "status": status,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "model": model or "",
        "output": output,
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": {"effort": (request.get("reasoning") or {}).get("effort"), "summary": None},
        "store": False,
        "temperature": request.get("temperature"),
        "text": request.get("text") or {"format": {"type": "text"}},
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools") or [],
        "top_p": request.get("top_p"),
        "truncation": "disabled",
        "usage": usage,
        "metadata": request.get("metadata") or {},
    }
