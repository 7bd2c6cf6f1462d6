"""An OpenAI Chat Completions response, its stream and its errors, for an Anthropic Messages client.

The completion's text, refusal and tool calls cross; with `reasoning` (the backend's
`translation.reasoning: map`) the reasoning text OpenAI-compatible servers add to the message
(`reasoning_content`: DeepSeek, vLLM ...; `reasoning`: OpenRouter, newer vLLM) comes back as a
thinking block before the text, streamed as thinking deltas. Its signature is empty: there is
none to give, so the block cannot be verified by Anthropic if the client sends it back there.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.providers.common import (
    dumps,
    error_body,
    fresh_id,
    messages_error,
    stop_reason,
    tool_use_block,
    usage_to_messages,
    with_prefix,
)
from gateway.providers.sse import StreamTranslator, anthropic_sse


def reasoning_text(message: dict[str, Any]) -> str:
    """The reasoning text of an OpenAI-compatible message or stream delta, or ""."""
    for key in ("reasoning_content", "reasoning"):
        if isinstance(message.get(key), str) and message[key]:
            return str(message[key])
    return ""


def chat_response_to_messages(
    response: dict[str, Any], *, reasoning: bool = False
) -> dict[str, Any]:
    """An OpenAI chat.completion -> an Anthropic message (its first choice: Anthropic has one)."""
    choices = response.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
    content: list[dict[str, Any]] = []
    if reasoning and (thought := reasoning_text(message)):
        content.append({"type": "thinking", "thinking": thought, "signature": ""})
    text = message.get("content")
    if isinstance(text, list):  # some compatible servers respond with content parts
        text = "".join(p.get("text") or "" for p in text if isinstance(p, dict))
    if isinstance(text, str) and text:
        content.append({"type": "text", "text": text})
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        content.append({"type": "text", "text": refusal})
    calls = [c for c in message.get("tool_calls") or [] if isinstance(c, dict)]
    if isinstance(message.get("function_call"), dict):  # the legacy functions API
        calls.append({"function": message["function_call"]})
    content += [tool_use_block(call, call.get("id") or fresh_id("toolu_")) for call in calls]
    return {
        "id": with_prefix(response.get("id"), "msg_"),
        "type": "message",
        "role": "assistant",
        "model": response.get("model") or "",
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason"), bool(calls), bool(refusal)),
        "stop_sequence": None,  # OpenAI does not say which stop sequence matched
        "usage": usage_to_messages(response.get("usage") or {}),
    }


def error_to_messages(status: int, body: bytes) -> bytes:
    """An OpenAI error body -> Anthropic's error shape (the HTTP status stays the caller's)."""
    doc, text = error_body(body)
    if isinstance(doc, list) and doc:  # some compatible servers wrap the error in a list
        doc = doc[0]
    if isinstance(doc, dict) and doc.get("error") is not None:
        error = doc["error"]
    elif isinstance(doc, dict) and isinstance(doc.get("message") or doc.get("detail"), str):
        error = {"message": doc.get("message") or doc.get("detail")}
    else:  # not JSON at all (an HTML page from a proxy ...): keep its text as the message
        error = text[:1000] or None
    return dumps(messages_error(error, status)).encode()


# Blocks whose content arrives as text deltas: block type -> (its empty start, its delta type).
_TEXT_BLOCKS = {
    "text": ({"type": "text", "text": ""}, "text_delta"),
    "thinking": ({"type": "thinking", "thinking": "", "signature": ""}, "thinking_delta"),
}


class ChatStreamToMessages(StreamTranslator):
    """OpenAI chat.completion.chunk SSE bytes in -> Anthropic message stream SSE bytes out.

    The output is Anthropic's event sequence: message_start, then per block content_block_start,
    its deltas (text_delta; thinking_delta, with `reasoning`; input_json_delta for tool_use) and
    content_block_stop, then message_delta (stop_reason, usage) and message_stop. OpenAI reports
    usage only at the end, so message_start says input_tokens 0 and message_delta carries the
    real counts (the Anthropic SDK takes them from there). message_delta waits for `[DONE]`
    because the usage chunk comes after the finish_reason; a stream without `[DONE]` still ends
    cleanly after its finish_reason. An upstream error becomes Anthropic's `error` event and
    ends the output, as does a stream cut before it finished.
    """

    def __init__(self, model: str | None = None, *, reasoning: bool = False) -> None:
        super().__init__()
        self._model = model
        self._reasoning = reasoning
        self._id = ""
        self._started = False
        self._blocks = 0  # content blocks opened so far
        # The open block: ("text", -1), ("thinking", -1) or ("tool", its OpenAI call index).
        self._open: tuple[str, int] | None = None
        self._calls: dict[int, int] = {}  # OpenAI tool_calls index -> Anthropic block index
        self._call_ids: dict[str, int] = {}
        self._latest = 0  # the OpenAI index of the call opened last
        self._finish: Any = None
        self._usage: dict[str, Any] = {}
        self._refused = False

    def _ended(self, out: list[str]) -> None:
        if self._finish is not None:  # finished, only `[DONE]` missing: the closing events
            self._end(out)
        else:
            super()._ended(out)

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
                continue  # Anthropic has one completion; the request never asks for more
            delta = choice.get("delta") or {}
            if self._reasoning and (thought := reasoning_text(delta)):
                self._text("thinking", thought, out)
            if isinstance(delta.get("content"), str) and delta["content"]:
                self._text("text", delta["content"], out)
            if isinstance(delta.get("refusal"), str) and delta["refusal"]:
                self._refused = True
                self._text("text", delta["refusal"], out)
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

    def _text(self, kind: str, text: str, out: list[str]) -> None:
        """A piece of a text or thinking block: the open one, or a new one after the last."""
        self._start(out)
        block, delta_type = _TEXT_BLOCKS[kind]
        if self._open != (kind, -1):
            self._open_block((kind, -1), block, out)
        delta = {"type": delta_type, kind: text}
        event = {"type": "content_block_delta", "index": self._blocks - 1, "delta": delta}
        out.append(anthropic_sse(event))

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
