"""An Anthropic Messages client served by an OpenAI(-compatible) Chat Completions backend.

The request goes Anthropic -> OpenAI; the answer, its stream and its errors come back
OpenAI -> Anthropic. What OpenAI cannot express is dropped where the answer stays meaningful
without it (top_k, cache_control, thinking ...) and refused with TranslationError where dropping
it would silently change what the client asked for (a user block OpenAI has no form for).
"""

from __future__ import annotations

import json
from typing import Any

from gateway.providers.common import (
    UNREADABLE,
    SSEDecoder,
    TranslationError,
    anthropic_sse,
    arguments_object,
    data_url,
    dumps,
    error_body,
    fresh_id,
    joined_text,
    messages_error,
    refuses_malformed,
    stop_reason,
    usage_to_messages,
    with_prefix,
)

# Request fields with no OpenAI equivalent, dropped on purpose (anything unknown is dropped too,
# as strict OpenAI-compatible servers reject unknown fields):
#   top_k - no such sampling control;
#   thinking, output_config.effort - reasoning_effort exists only on reasoning models and would
#       be rejected by the others, so it is not guessed at; thinking blocks in the history are
#       dropped too (Chat Completions cannot send them back);
#   cache_control (top level and on blocks) - OpenAI caches prompts implicitly;
#   citations, is_error on tool results - no counterpart (the result's text is kept);
#   service_tier, container, mcp_servers, context_management, inference_geo, speed - Anthropic
#       platform features; server tools (web search, code execution ...) and Anthropic-defined
#       client tools (bash, text editor, computer) have no schema to offer, so they are not offered;
#   an assistant prefill (a last assistant turn) is sent as an ordinary earlier turn: OpenAI
#       has no prefill, so the model answers after it instead of continuing it.


@refuses_malformed
def messages_request_to_chat(body: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic messages request body -> an OpenAI chat.completions request body."""
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
        if body.get(key) is not None:
            out[key] = body[key]
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
            function = {
                "name": block.get("name") or "",
                "arguments": dumps(block.get("input") or {}),
            }
            calls.append({"id": block.get("id"), "type": "function", "function": function})
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


# --- Answers -----------------------------------------------------------------------------------


def chat_response_to_messages(answer: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI chat.completion -> an Anthropic message (its first choice: Anthropic has one)."""
    choices = answer.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    content: list[dict[str, Any]] = []
    text = message.get("content")
    if isinstance(text, list):  # some compatible servers answer with content parts
        text = "".join(p.get("text") or "" for p in text if isinstance(p, dict))
    if isinstance(text, str) and text:
        content.append({"type": "text", "text": text})
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        content.append({"type": "text", "text": refusal})
    calls = [c for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    if isinstance(message.get("function_call"), dict):  # the legacy functions API
        calls.append({"function": message["function_call"]})
    for call in calls:
        function = call.get("function") or {}
        content.append(
            {
                "type": "tool_use",
                "id": call.get("id") or fresh_id("toolu_"),
                "name": function.get("name") or "",
                "input": arguments_object(function.get("arguments")),
            }
        )
    # reasoning_content (DeepSeek, vLLM ...) is dropped: a thinking block needs a signature.
    return {
        "id": with_prefix(answer.get("id"), "msg_"),
        "type": "message",
        "role": "assistant",
        "model": answer.get("model") or "",
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason"), bool(calls), bool(refusal)),
        "stop_sequence": None,  # OpenAI does not say which stop sequence matched
        "usage": usage_to_messages(answer.get("usage") or {}),
    }


def error_to_messages(status: int, answer: bytes) -> bytes:
    """An OpenAI error body -> Anthropic's error shape (the HTTP status stays the caller's)."""
    doc, text = error_body(answer)
    if isinstance(doc, list) and doc:  # some compatible servers wrap the error in a list
        doc = doc[0]
    if isinstance(doc, dict) and doc.get("error") is not None:
        error = doc["error"]
    elif isinstance(doc, dict) and isinstance(doc.get("message") or doc.get("detail"), str):
        error = {"message": doc.get("message") or doc.get("detail")}
    else:  # not JSON at all (an HTML page from a proxy ...): keep its text as the message
        error = text[:1000] or None
    return dumps(messages_error(error, status)).encode()


class ChatStreamToMessages:
    """OpenAI chat.completion.chunk SSE bytes in -> Anthropic message stream SSE bytes out.

    The output is Anthropic's event sequence: message_start, then per block content_block_start,
    its deltas (text_delta, or input_json_delta for tool_use) and content_block_stop, then
    message_delta (stop_reason, usage) and message_stop. OpenAI reports usage only at the end,
    so message_start says input_tokens 0 and message_delta carries the real counts (the
    Anthropic SDK takes them from there). message_delta waits for `[DONE]` because the usage
    chunk comes after the finish_reason. An upstream error becomes Anthropic's `error` event
    and ends the output, as does a stream cut before it finished.
    """

    def __init__(self, model: str | None = None) -> None:
        self._model = model
        self._decoder = SSEDecoder()
        self._id = ""
        self._started = False
        self._done = False
        self._blocks = 0  # content blocks opened so far
        self._open: tuple[str, int] | None = None  # ("text", -1) or ("tool", OpenAI call index)
        self._calls: dict[int, int] = {}  # OpenAI tool_calls index -> Anthropic block index
        self._call_ids: dict[str, int] = {}
        self._latest = 0  # the OpenAI index of the call opened last
        self._finish: Any = None
        self._usage: dict[str, Any] = {}
        self._refused = False

    def feed(self, data: bytes) -> bytes:
        return self._translate(self._decoder.feed(data), end=False)

    def close(self) -> bytes:
        """What is left at the end: the closing events if the upstream omitted `[DONE]` after
        its finish_reason, an error event if it was cut short, else nothing."""
        return self._translate(self._decoder.close(), end=True)

    def _translate(self, events: list[tuple[str, str]], end: bool) -> bytes:
        out: list[str] = []
        for name, data in events:
            if self._done:
                break  # nothing follows message_stop or an error
            try:
                self._event(name, data, out)
            except UNREADABLE:  # end the stream visibly rather than fail the proxy
                self._fail(out, {"message": "the upstream stream sent an unreadable chunk"})
        if end and not self._done:
            if self._finish is not None:
                self._end(out)
            else:
                self._fail(
                    out, {"message": "the upstream stream ended before the answer was complete"}
                )
        return "".join(out).encode()

    def _event(self, name: str, data: str, out: list[str]) -> None:
        if data.strip() == "[DONE]":
            self._end(out)
            return
        chunk = json.loads(data)
        if name == "error" or chunk.get("error") is not None:
            self._fail(out, chunk.get("error") or chunk)
            return
        # Azure's first chunk (prompt filter results) has an empty id and model: skip empties.
        self._id = self._id or chunk.get("id") or ""
        self._model = chunk.get("model") or self._model
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue  # Anthropic has one answer; the request never asks for more
            delta = choice.get("delta") or {}
            if isinstance(delta.get("content"), str) and delta["content"]:
                self._text(delta["content"], out)
            if isinstance(delta.get("refusal"), str) and delta["refusal"]:
                self._refused = True
                self._text(delta["refusal"], out)
            for call in delta.get("tool_calls") or []:
                self._tool(call, out)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
                self._close_block(out)

    def _start(self, out: list[str]) -> None:
        if self._started:
            return
        self._started = True
        message = {
            "id": with_prefix(self._id, "msg_"),
            "type": "message",
            "role": "assistant",
            "model": self._model or "",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},  # unknown until the end
        }
        out.append(anthropic_sse({"type": "message_start", "message": message}))

    def _open_block(self, key: tuple[str, int], block: dict[str, Any], out: list[str]) -> int:
        self._close_block(out)
        index, self._blocks = self._blocks, self._blocks + 1
        out.append(
            anthropic_sse({"type": "content_block_start", "index": index, "content_block": block})
        )
        self._open = key
        return index

    def _close_block(self, out: list[str]) -> None:
        if self._open is not None:
            out.append(anthropic_sse({"type": "content_block_stop", "index": self._blocks - 1}))
            self._open = None

    def _text(self, text: str, out: list[str]) -> None:
        self._start(out)
        if self._open != ("text", -1):
            self._open_block(("text", -1), {"type": "text", "text": ""}, out)
        delta = {"type": "text_delta", "text": text}
        out.append(
            anthropic_sse(
                {"type": "content_block_delta", "index": self._blocks - 1, "delta": delta}
            )
        )

    def _tool(self, call: Any, out: list[str]) -> None:
        if not isinstance(call, dict):
            return
        self._start(out)
        call_id = call.get("id") if isinstance(call.get("id"), str) else None
        index = call.get("index")
        if not isinstance(index, int):
            # Servers that leave out the index: a known id continues its call, a new id starts
            # one, and a bare piece continues the latest call.
            if call_id in self._call_ids:
                index = self._call_ids[call_id]
            elif call_id or not self._calls:
                index = max(self._calls, default=-1) + 1
            else:
                index = self._latest
        function = call.get("function") or {}
        if index not in self._calls:
            # The first delta of a call names it; some servers repeat id and name later on.
            block = {
                "type": "tool_use",
                "id": call_id or fresh_id("toolu_"),
                "name": function.get("name") or "",
                "input": {},
            }
            self._calls[index] = self._open_block(("tool", index), block, out)
            self._latest = index
            if call_id:
                self._call_ids[call_id] = index
        arguments = function.get("arguments")
        # A piece for a call whose block is already closed (calls interleaved, which OpenAI
        # never does) still goes to that call's block: the SDKs accumulate by index.
        if isinstance(arguments, str) and arguments:
            delta = {"type": "input_json_delta", "partial_json": arguments}
            event = {"type": "content_block_delta", "index": self._calls[index], "delta": delta}
            out.append(anthropic_sse(event))

    def _end(self, out: list[str]) -> None:
        self._start(out)
        self._close_block(out)
        stop = stop_reason(self._finish, bool(self._calls), self._refused)
        usage = usage_to_messages(self._usage)
        delta = {"stop_reason": stop, "stop_sequence": None}
        out.append(anthropic_sse({"type": "message_delta", "delta": delta, "usage": usage}))
        out.append(anthropic_sse({"type": "message_stop"}))
        self._done = True

    def _fail(self, out: list[str], error: Any) -> None:
        out.append(anthropic_sse(messages_error(error, None)))
        self._done = True
