"""An Anthropic Messages response, its stream and its errors, for an OpenAI Chat Completions client.

The completion's text and tool calls cross; with `reasoning` (the backend's `translation.reasoning:
map`) its thinking comes back as the message's `reasoning_content`, the field DeepSeek, vLLM and
others add to Chat Completions, streamed as `delta.reasoning_content`. Otherwise thinking is
dropped, and so are redacted_thinking (nothing readable in it) and server-tool blocks always.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.providers.common import (
    chat_error,
    chat_tool_call,
    dumps,
    error_body,
    finish_reason,
    fresh_id,
    nonnull,
    now,
    usage_to_chat,
    with_prefix,
)
from gateway.providers.sse import StreamTranslator, openai_sse


def messages_response_to_chat(
    response: dict[str, Any], *, reasoning: bool = False
) -> dict[str, Any]:
    """An Anthropic message -> an OpenAI chat.completion document."""
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in response.get("content") or []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            texts.append(block.get("text") or "")
        elif block.get("type") == "thinking":
            thoughts.append(block.get("thinking") or "")
        elif block.get("type") == "tool_use":
            calls.append(chat_tool_call(block, block.get("id") or fresh_id("call_")))
    text = "".join(texts)
    # A calls-only completion has content null in OpenAI's own documents, not "".
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if not text and calls else text,
        "refusal": None,
        "annotations": [],
    }
    if reasoning and "".join(thoughts):
        message["reasoning_content"] = "".join(thoughts)
    if calls:
        message["tool_calls"] = calls
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": finish_reason(response.get("stop_reason")),
    }
    return {
        "id": with_prefix(response.get("id"), "chatcmpl-"),
        "object": "chat.completion",
        "created": now(),
        "model": response.get("model") or "",
        "choices": [choice],
        "usage": usage_to_chat(response.get("usage") or {}),
    }


def error_to_chat(status: int, body: bytes) -> bytes:
    """An Anthropic error body -> OpenAI's error shape (the HTTP status stays the caller's)."""
    doc, text = error_body(body)
    error = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(error, dict):
        out = chat_error(error.get("type"), error.get("message"), status)
    else:  # not Anthropic's shape (an HTML page from a proxy ...): keep its text as the message
        out = chat_error(None, text[:1000] or None, status)
    return dumps(out).encode()


class MessagesStreamToChat(StreamTranslator):
    """Anthropic SSE bytes in (any chunking) -> OpenAI chat.completion.chunk SSE bytes out.

    The output is what OpenAI sends: a role delta first, content deltas (and reasoning_content
    ones, with `reasoning`), tool-call deltas (index, id, type and name in the first delta of a
    call, argument pieces after), a chunk with the finish_reason, the usage chunk (`choices:
    []`) when include_usage, then `data: [DONE]`. Those last ones are written as soon as
    message_stop arrives. An upstream `error` event becomes OpenAI's `{"error": ...}` chunk (the
    SDK raises on it) and ends the output; so does a stream that ends before message_stop.
    """

    def __init__(
        self, include_usage: bool, model: str | None = None, *, reasoning: bool = False
    ) -> None:
        super().__init__()
        self._include_usage = include_usage
        self._model = model
        self._reasoning = reasoning
        self._id = ""
        self._created = now()
        self._started = False
        self._calls: dict[int, int] = {}  # Anthropic block index -> OpenAI tool_calls index
        self._usage: dict[str, Any] = {}
        self._stop_reason: Any = None

    def _event(self, name: str, data: str, out: list[str]) -> None:
        event = json.loads(data)
        kind = event.get("type")
        if name == "error" or kind == "error":
            error = event.get("error")
            self._fail(out, error if isinstance(error, dict) else {})
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
        kind = block.get("type")
        if kind == "tool_use":
            self._calls[index] = n = len(self._calls)
            arguments = dumps(block["input"]) if block.get("input") else ""
            call = chat_tool_call(block, block.get("id") or fresh_id("call_"), arguments)
            out.append(self._chunk({"tool_calls": [{"index": n, **call}]}))
        elif kind == "text" and block.get("text"):
            out.append(self._chunk({"content": block["text"]}))
        elif kind == "thinking" and self._reasoning and block.get("thinking"):
            out.append(self._chunk({"reasoning_content": block["thinking"]}))
        # Other blocks are dropped, with their deltas (signature_delta ...: see _block_delta).

    def _block_delta(self, index: Any, delta: dict[str, Any], out: list[str]) -> None:
        kind = delta.get("type")
        if kind == "text_delta" and delta.get("text"):
            out.append(self._chunk({"content": delta["text"]}))
        elif kind == "thinking_delta" and self._reasoning and delta.get("thinking"):
            out.append(self._chunk({"reasoning_content": delta["thinking"]}))
        # Anthropic opens each call with an empty piece, which OpenAI never sends.
        elif kind == "input_json_delta" and index in self._calls and delta.get("partial_json"):
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

    def _fail(self, out: list[str], error: dict[str, Any]) -> None:
        # OpenAI reports a failed stream as a bare error object, with no [DONE] after it.
        out.append(openai_sse(chat_error(error.get("type"), error.get("message"), None)))
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
