"""An OpenAI Chat Completions client served by an Anthropic Messages backend.

The request goes OpenAI -> Anthropic; the answer, its stream and its errors come back
Anthropic -> OpenAI. What Anthropic cannot express is dropped where the answer stays meaningful
without it (sampling knobs, logprobs ...) and refused with TranslationError where dropping it
would silently change what the client asked for (n > 1, audio input, the legacy functions API).
"""

from __future__ import annotations

import json
import re
from typing import Any

from gateway.providers.common import (
    IMAGE_TYPES,
    UNREADABLE,
    SSEDecoder,
    TranslationError,
    arguments_object,
    chat_error,
    dumps,
    error_body,
    finish_reason,
    fresh_id,
    joined_text,
    nonnull,
    now,
    openai_sse,
    parse_data_url,
    refuses_malformed,
    usage_to_chat,
    with_prefix,
)

# Request fields with no Anthropic equivalent, dropped on purpose (anything unknown is dropped
# too, as the Anthropic API rejects unknown fields):
#   frequency_penalty, presence_penalty, logit_bias, seed - no such sampling controls;
#   logprobs, top_logprobs - Anthropic does not report token probabilities;
#   response_format json_object - no "any JSON" mode (json_schema IS mapped to output_config);
#   reasoning_effort, verbosity - Anthropic's thinking / output_config.effort settings differ
#       from model to model, and a model without them fails the request: not guessed at;
#   store, metadata (OpenAI's stored-completions tags), service_tier, prompt_cache_key,
#       prompt_cache_retention, modalities, audio, prediction, web_search_options, moderation -
#       OpenAI platform features;
#   stream_options - Anthropic always reports usage; pass stream_include_usage(body) to
#       MessagesStreamToChat instead;
#   image_url.detail - Anthropic sizes images itself; message `name` - no participant names.

_TOOL_ID = re.compile(r"[^a-zA-Z0-9_-]")


@refuses_malformed
def chat_request_to_messages(
    body: dict[str, Any], default_max_tokens: int = 4096, *, sampling: bool = True
) -> dict[str, Any]:
    """An OpenAI chat.completions request body -> an Anthropic messages request body.

    `sampling=False` drops temperature and top_p: Anthropic API version 2026-10-21 (what the
    current SDKs send) rejects them with a 400 even at default values, and so do some models
    under 2023-06-01. Only the caller knows which version and model it sends to.
    """
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise TranslationError("the request needs a `messages` array")
    if body.get("functions") or body.get("function_call"):
        raise TranslationError("the legacy `functions` API is not supported here; use `tools`")
    if body.get("n") not in (None, 1):
        raise TranslationError("`n` greater than 1 is not supported by this backend")

    system: list[str] = []
    turns: list[dict[str, Any]] = []
    for message in body["messages"]:
        role = message.get("role") if isinstance(message, dict) else None
        if role in ("system", "developer"):
            # Anthropic has one top-level system prompt; system messages placed later in the
            # conversation join it (their position is lost).
            if text := joined_text(message.get("content")):
                system.append(text)
        elif role == "user":
            _append(turns, "user", _user_blocks(message.get("content")))
        elif role == "assistant":
            _append(turns, "assistant", _assistant_blocks(message))
        elif role == "tool":
            # Tool results are user content in Anthropic; consecutive ones merge into one turn.
            _append(turns, "user", [_tool_result(message)])
        else:
            raise TranslationError(f"unsupported message role {role!r}")

    out: dict[str, Any] = {"model": body.get("model"), "messages": [_compact(t) for t in turns]}
    limit = body.get("max_completion_tokens")
    limit = body.get("max_tokens") if limit is None else limit
    out["max_tokens"] = default_max_tokens if limit is None else limit  # required by Anthropic
    if system:
        out["system"] = "\n\n".join(system)
    if sampling and body.get("temperature") is not None:
        out["temperature"] = min(body["temperature"], 1.0)  # OpenAI's range is 0-2, Anthropic's 0-1
    if sampling and body.get("top_p") is not None:
        out["top_p"] = body["top_p"]
    stop = body.get("stop")
    if isinstance(stop, str):
        out["stop_sequences"] = [stop]
    elif isinstance(stop, list) and stop:
        out["stop_sequences"] = list(stop)
    if body.get("stream"):
        out["stream"] = True
    user = body.get("user") or body.get("safety_identifier")  # the newer name for `user`
    if isinstance(user, str) and user:
        out["metadata"] = {"user_id": user}
    tools = [_tool(t) for t in _array(body.get("tools"), "tools") if _is_function_tool(t)]
    if tools:
        out["tools"] = tools
        choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice:
            out["tool_choice"] = choice
    schema = _json_schema(body.get("response_format"))
    if schema is not None:
        out["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    return out


def _array(value: Any, name: str) -> list[Any]:
    if value is not None and not isinstance(value, list):
        raise TranslationError(f"`{name}` must be an array")
    return value or []


def stream_include_usage(body: dict[str, Any]) -> bool:
    """Whether an OpenAI client asked for the usage chunk (`stream_options.include_usage`)."""
    options = body.get("stream_options") if isinstance(body, dict) else None
    return isinstance(options, dict) and options.get("include_usage") is True


def _append(turns: list[dict[str, Any]], role: str, blocks: list[dict[str, Any]]) -> None:
    # Anthropic needs user/assistant alternation: same-role neighbours merge, and an empty turn
    # (rejected by Anthropic) is skipped so that its neighbours can merge.
    if not blocks:
        return
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"].extend(blocks)
    else:
        turns.append({"role": role, "content": list(blocks)})


def _compact(turn: dict[str, Any]) -> dict[str, Any]:
    content = turn["content"]
    if len(content) == 1 and content[0].keys() == {"type", "text"}:
        return {"role": turn["role"], "content": content[0]["text"]}  # as clients usually write
    return turn


def _user_blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []  # empty text is rejected
    blocks = []
    for part in content or []:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if part.get("text"):
                blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            image = part.get("image_url")
            blocks.append(_image(image.get("url") if isinstance(image, dict) else image))
        elif kind == "file":
            blocks.append(_document(part.get("file") or {}))
        else:  # input_audio, and whatever comes next: dropping it would change the question
            raise TranslationError(f"content part {kind!r} is not supported by this backend")
    return blocks


def _image(url: Any) -> dict[str, Any]:
    if not isinstance(url, str):
        raise TranslationError("image_url needs a url")
    if url.startswith("data:"):
        media, data = parse_data_url(url)
        if media not in IMAGE_TYPES:
            raise TranslationError(f"image type {media!r} is not supported by this backend")
        source = {"type": "base64", "media_type": media, "data": data}
    elif url.startswith(("http://", "https://")):
        source = {"type": "url", "url": url}
    else:
        raise TranslationError("image_url must be an http(s) or data: URL")
    return {"type": "image", "source": source}


def _document(file: dict[str, Any]) -> dict[str, Any]:
    # Only inline PDFs have an Anthropic counterpart; uploaded file ids belong to OpenAI.
    data = file.get("file_data")
    if isinstance(data, str) and data.startswith("data:"):
        media, payload = parse_data_url(data)
        if media == "application/pdf":
            block: dict[str, Any] = {
                "type": "document",
                "source": {"type": "base64", "media_type": media, "data": payload},
            }
            if file.get("filename"):
                block["title"] = file["filename"]
            return block
    raise TranslationError("only inline PDF files (file_data data: URLs) are supported here")


def _assistant_blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    if message.get("function_call"):
        raise TranslationError("the legacy `function_call` message is not supported; use tools")
    blocks: list[dict[str, Any]] = []
    content = message.get("content")
    parts = [{"text": content}] if isinstance(content, str) else content or []
    for part in parts:  # text and refusal parts: both were said by the assistant
        text = part.get("text") or part.get("refusal") if isinstance(part, dict) else None
        if text:
            blocks.append({"type": "text", "text": text})
    if isinstance(message.get("refusal"), str) and message["refusal"] and not blocks:
        blocks.append({"type": "text", "text": message["refusal"]})
    for call in message.get("tool_calls") or []:
        if call.get("type", "function") != "function":
            raise TranslationError(f"tool call type {call.get('type')!r} is not supported here")
        function = call.get("function") or {}
        blocks.append(
            {
                "type": "tool_use",
                "id": _tool_id(call.get("id")),
                "name": function.get("name") or "",
                "input": arguments_object(function.get("arguments")),
            }
        )
    return blocks


def _tool_result(message: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": _tool_id(message.get("tool_call_id")),
    }
    content = message.get("content")
    if isinstance(content, list):
        texts = [{"type": "text", "text": p["text"]} for p in content if p.get("text")]
        if texts:
            block["content"] = texts
    elif isinstance(content, str) and content:
        block["content"] = content
    return block


def _tool_id(value: Any) -> str:
    # Anthropic accepts only [a-zA-Z0-9_-] in tool ids; a history from another provider may hold
    # others. The same substitution applies to calls and results, so pairs still match.
    return _TOOL_ID.sub("_", value) if isinstance(value, str) and value else fresh_id("toolu_")


def _is_function_tool(tool: Any) -> bool:
    # Custom (free-text grammar) tools have no Anthropic form: the model is simply not offered
    # them, rather than failing the whole request.
    return tool.get("type", "function") == "function"


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    function = tool.get("function") or {}
    if not function.get("name"):
        raise TranslationError("a function tool needs a name")
    schema = function.get("parameters")
    # input_schema is required and must be an object schema; OpenAI allows omitting parameters.
    schema = dict(schema) if isinstance(schema, dict) and schema else {"properties": {}}
    schema.setdefault("type", "object")
    out = {"name": function["name"], "input_schema": schema}
    if function.get("description"):
        out["description"] = function["description"]
    return out  # `strict` is dropped: Anthropic's strict tools are not on every model


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    out: dict[str, Any] | None
    if choice == "none":
        return {"type": "none"}  # takes no disable_parallel_tool_use
    if choice == "required":
        out = {"type": "any"}
    elif isinstance(choice, dict) and (choice.get("function") or {}).get("name"):
        out = {"type": "tool", "name": choice["function"]["name"]}
    elif choice in (None, "auto"):
        out = {"type": "auto"} if choice == "auto" or parallel is False else None
    else:  # allowed_tools, custom: no Anthropic counterpart that keeps their meaning
        raise TranslationError(f"tool_choice {choice!r} is not supported by this backend")
    if out is not None and parallel is False:
        out["disable_parallel_tool_use"] = True
    return out


def _json_schema(response_format: Any) -> dict[str, Any] | None:
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema")
        return schema if isinstance(schema, dict) else None
    return None


# --- Answers -----------------------------------------------------------------------------------


def messages_response_to_chat(answer: dict[str, Any]) -> dict[str, Any]:
    """An Anthropic message -> an OpenAI chat.completion document."""
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in answer.get("content") or []:
        # thinking / redacted_thinking and server-tool blocks have no Chat Completions form.
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            texts.append(block.get("text") or "")
        elif block.get("type") == "tool_use":
            arguments = dumps(block.get("input") or {})
            function = {"name": block.get("name") or "", "arguments": arguments}
            calls.append(
                {
                    "id": block.get("id") or fresh_id("call_"),
                    "type": "function",
                    "function": function,
                }
            )
    text = "".join(texts)
    # A calls-only answer has content null in OpenAI's own documents, not "".
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if not text and calls else text,
        "refusal": None,
        "annotations": [],
    }
    if calls:
        message["tool_calls"] = calls
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": finish_reason(answer.get("stop_reason")),
    }
    return {
        "id": with_prefix(answer.get("id"), "chatcmpl-"),
        "object": "chat.completion",
        "created": now(),
        "model": answer.get("model") or "",
        "choices": [choice],
        "usage": usage_to_chat(answer.get("usage") or {}),
    }


def error_to_chat(status: int, answer: bytes) -> bytes:
    """An Anthropic error body -> OpenAI's error shape (the HTTP status stays the caller's)."""
    doc, text = error_body(answer)
    error = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(error, dict):
        out = chat_error(error.get("type"), error.get("message"), status)
    else:  # not Anthropic's shape (an HTML page from a proxy ...): keep its text as the message
        out = chat_error(None, text[:1000] or None, status)
    return dumps(out).encode()


class MessagesStreamToChat:
    """Anthropic SSE bytes in (any chunking) -> OpenAI chat.completion.chunk SSE bytes out.

    The output is what OpenAI sends: a role delta first, content deltas, tool-call deltas (index,
    id, type and name in the first delta of a call, argument pieces after), a chunk with the
    finish_reason, the usage chunk (`choices: []`) when include_usage, then `data: [DONE]`. Those
    last ones are written as soon as message_stop arrives. An upstream `error` event becomes
    OpenAI's `{"error": ...}` chunk (the SDK raises on it) and ends the output; so does a stream
    that ends before message_stop, because a cut answer must not look complete.
    """

    def __init__(self, include_usage: bool, model: str | None = None) -> None:
        self._include_usage = include_usage
        self._model = model
        self._decoder = SSEDecoder()
        self._id = ""
        self._created = now()
        self._started = False
        self._done = False
        self._calls: dict[int, int] = {}  # Anthropic block index -> OpenAI tool_calls index
        self._usage: dict[str, Any] = {}
        self._stop_reason: Any = None

    def feed(self, data: bytes) -> bytes:
        return self._translate(self._decoder.feed(data), end=False)

    def close(self) -> bytes:
        """What is left at the end: nothing after a complete stream, else an error chunk."""
        return self._translate(self._decoder.close(), end=True)

    def _translate(self, events: list[tuple[str, str]], end: bool) -> bytes:
        out: list[str] = []
        for name, data in events:
            if self._done:
                break  # nothing follows [DONE] or an error
            try:
                self._event(name, data, out)
            except UNREADABLE:  # end the stream visibly rather than fail the proxy
                self._fail(out, "api_error", "the upstream stream sent an unreadable event")
        if end and not self._done:
            self._fail(
                out, "api_error", "the upstream stream ended before the message was complete"
            )
        return "".join(out).encode()

    def _event(self, name: str, data: str, out: list[str]) -> None:
        event = json.loads(data)
        kind = event.get("type")
        if name == "error" or kind == "error":
            error = event.get("error") if isinstance(event.get("error"), dict) else {}
            self._fail(out, error.get("type"), error.get("message"))
        elif kind == "message_start":
            message = event.get("message") or {}
            self._id = with_prefix(message.get("id"), "chatcmpl-")
            self._model = message.get("model") or self._model
            self._usage.update(nonnull(message.get("usage")))
            self._start(out)
        elif kind == "content_block_start":
            self._block_start(event.get("index"), event.get("content_block") or {}, out)
        elif kind == "content_block_delta":
            self._block_delta(event.get("index"), event.get("delta") or {}, out)
        elif kind == "message_delta":
            self._stop_reason = (event.get("delta") or {}).get("stop_reason") or self._stop_reason
            self._usage.update(nonnull(event.get("usage")))  # cumulative counts
        elif kind == "message_stop":
            self._finish(out)
        # ping, content_block_stop and event types added later carry nothing to translate.

    def _block_start(self, index: Any, block: dict[str, Any], out: list[str]) -> None:
        self._start(out)
        if block.get("type") == "tool_use":
            self._calls[index] = n = len(self._calls)
            arguments = dumps(block["input"]) if block.get("input") else ""
            call = {
                "index": n,
                "id": block.get("id") or fresh_id("call_"),
                "type": "function",
                "function": {"name": block.get("name") or "", "arguments": arguments},
            }
            out.append(self._chunk({"tool_calls": [call]}))
        elif block.get("type") == "text" and block.get("text"):
            out.append(self._chunk({"content": block["text"]}))
        # thinking and server-tool blocks are dropped, with their deltas (see _block_delta).

    def _block_delta(self, index: Any, delta: dict[str, Any], out: list[str]) -> None:
        if delta.get("type") == "text_delta" and delta.get("text"):
            out.append(self._chunk({"content": delta["text"]}))
        # Anthropic opens each call with an empty piece, which OpenAI never sends.
        elif (
            delta.get("type") == "input_json_delta"
            and index in self._calls
            and delta.get("partial_json")
        ):
            piece = {"index": self._calls[index], "function": {"arguments": delta["partial_json"]}}
            out.append(self._chunk({"tool_calls": [piece]}))

    def _start(self, out: list[str]) -> None:
        if not self._started:
            self._started = True
            self._id = self._id or with_prefix(None, "chatcmpl-")
            out.append(self._chunk({"role": "assistant", "content": ""}))

    def _finish(self, out: list[str]) -> None:
        self._start(out)
        out.append(self._chunk({}, finish_reason(self._stop_reason)))
        if self._include_usage:
            out.append(
                openai_sse({**self._base(), "choices": [], "usage": usage_to_chat(self._usage)})
            )
        out.append("data: [DONE]\n\n")
        self._done = True

    def _fail(self, out: list[str], kind: Any, message: Any) -> None:
        # OpenAI reports a failed stream as a bare error object, with no [DONE] after it.
        out.append(openai_sse(chat_error(kind, message, None)))
        self._done = True

    def _base(self) -> dict[str, Any]:
        base = {"id": self._id, "object": "chat.completion.chunk", "created": self._created}
        return {**base, "model": self._model or ""}

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        chunk = {**self._base(), "choices": [choice]}
        if self._include_usage:
            chunk["usage"] = None  # as OpenAI writes every chunk but the usage one
        return openai_sse(chunk)
