"""A streamed Response from an Anthropic backend: Anthropic's events -> chat chunks -> the
Responses API's events (gateway.providers.responses says why the detour is faithful).

`ChatStreamToResponses` reads the chat.completion.chunk stream that `MessagesStreamToChat`
writes (always with usage) and writes what OpenAI's Responses stream holds, each event with
its `sequence_number`: `response.created` and `response.in_progress`; per output item
`response.output_item.added`, for text `response.content_part.added`, the
`response.output_text.delta`s, `response.output_text.done` and `response.content_part.done`,
for a tool call the `response.function_call_arguments.delta`s and `.done`; then
`response.output_item.done`; and at the end `response.completed` (or `response.incomplete`,
cut at the token limit) with the whole Response and its usage. An upstream error, or a stream
cut short, ends with an `error` event (the SDK raises on it).
"""

from __future__ import annotations

import json
from typing import Any

from gateway.providers.common import dumps
from gateway.providers.from_anthropic import MessagesStreamToChat
from gateway.providers.responses import call_item, message_item, response, response_usage
from gateway.providers.sse import StreamTranslator


class ChatStreamToResponses(StreamTranslator):
    def __init__(self, request: dict[str, Any]) -> None:
        super().__init__()
        self._request = request
        self._sequence = 0
        self._id = ""
        self._model: Any = request.get("model")
        self._items: list[dict[str, Any]] = []  # the output so far; the last may be open
        self._open = False
        self._calls: dict[int, int] = {}  # chat tool_calls index -> output index
        self._finish: Any = None
        self._usage: dict[str, Any] | None = None

    def _event(self, name: str, data: str, out: list[str]) -> None:
        if data.strip() == "[DONE]":
            self._complete(out)
            return
        chunk = json.loads(data)
        if "error" in chunk and not chunk.get("choices"):
            self._fail(out, chunk["error"] if isinstance(chunk["error"], dict) else {})
            return
        if not self._id:
            self._id = str(chunk.get("id") or "")
            self._model = chunk.get("model") or self._model
            self._emit(out, "response.created", response=self._response("in_progress"))
            self._emit(out, "response.in_progress", response=self._response("in_progress"))
        if chunk.get("usage"):
            self._usage = response_usage(chunk["usage"])
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                self._text(delta["content"], out)
            for call in delta.get("tool_calls") or []:
                self._call(call, out)
            self._finish = choice.get("finish_reason") or self._finish

    def _text(self, piece: str, out: list[str]) -> None:
        item = self._items[-1] if self._open else None
        if item is None or item["type"] != "message":
            self._close(out)
            item = {**message_item(""), "status": "in_progress", "content": []}
            self._add(item, out)
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            item["content"].append(part)
            self._emit(out, "response.content_part.added", **self._where(), part=part)
        item["content"][0]["text"] += piece
        self._emit(out, "response.output_text.delta", **self._where(), delta=piece, logprobs=[])

    def _call(self, call: dict[str, Any], out: list[str]) -> None:
        function = call.get("function") or {}
        index = call.get("index", 0)
        if index not in self._calls:
            self._close(out)
            item = {**call_item(call.get("id"), function.get("name"), ""), "status": "in_progress"}
            self._add(item, out)
            self._calls[index] = len(self._items) - 1
        if piece := function.get("arguments"):
            item = self._items[self._calls[index]]
            item["arguments"] += piece
            where = {"item_id": item["id"], "output_index": self._calls[index]}
            self._emit(out, "response.function_call_arguments.delta", **where, delta=piece)

    def _add(self, item: dict[str, Any], out: list[str]) -> None:
        self._items.append(item)
        self._open = True
        shown = {**item, "content": []} if item["type"] == "message" else item
        self._emit(out, "response.output_item.added", output_index=len(self._items) - 1, item=shown)

    def _close(self, out: list[str]) -> None:
        """The open output item is whole: its `done` events."""
        if not self._open:
            return
        self._open = False
        item, index = self._items[-1], len(self._items) - 1
        if item["type"] == "message":
            part = item["content"][0]
            where = self._where()
            self._emit(out, "response.output_text.done", **where, text=part["text"], logprobs=[])
            self._emit(out, "response.content_part.done", **where, part=part)
        else:
            where = {"item_id": item["id"], "output_index": index}
            arguments, name = item["arguments"], item["name"]
            self._emit(
                out,
                "response.function_call_arguments.done",
                **where,
                arguments=arguments,
                name=name,
            )
        item["status"] = "completed"
        self._emit(out, "response.output_item.done", output_index=index, item=item)

    def _complete(self, out: list[str]) -> None:
        self._close(out)
        done = self._response(None)
        kind = "response.incomplete" if done["status"] == "incomplete" else "response.completed"
        self._emit(out, kind, response=done)
        self._done = True

    def _fail(self, out: list[str], error: dict[str, Any]) -> None:
        message = error.get("message") or "the upstream stream failed"
        code = error.get("code") or error.get("type")
        self._emit(out, "error", code=code, message=message, param=None, error=error)
        self._done = True

    def _where(self) -> dict[str, Any]:
        item_id = self._items[-1]["id"]
        return {"item_id": item_id, "output_index": len(self._items) - 1, "content_index": 0}

    def _response(self, status: str | None) -> dict[str, Any]:
        items = self._items if status is None else []
        usage = self._usage if status is None else None
        finish = self._finish if status is None else None
        return response(self._request, self._id, self._model, items, finish, usage, status)

    def _emit(self, out: list[str], kind: str, **fields: Any) -> None:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        out.append(f"event: {kind}\ndata: {dumps(event)}\n\n")


class MessagesStreamToResponses:
    """Anthropic SSE bytes in -> the Responses API's SSE bytes out (the two steps chained)."""

    def __init__(self, request: dict[str, Any], model: str | None = None) -> None:
        self._chat = MessagesStreamToChat(True, model)
        self._responses = ChatStreamToResponses(request)

    def feed(self, data: bytes) -> bytes:
        return self._responses.feed(self._chat.feed(data))

    def close(self) -> bytes:
        return self._responses.feed(self._chat.close()) + self._responses.close()
