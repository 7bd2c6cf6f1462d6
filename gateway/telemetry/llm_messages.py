"""LLM message logging (an API's `llm-messages`): each sampled call's prompt and completion,
with its usage, as one JSON record to a named logger.

The record is built after the response is final (a `DONE` action, so a stream's usage and
whole body are known); a streamed completion is assembled into its final text by the same
code the caches use (gateway.caching). A record names the subscription by id and never
carries a header or a key. A prompt or completion longer than `max-bytes` is cut there and
flagged (`prompt_truncated`, `completion_truncated`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

from gateway.caching import anthropic_messages, chat_completions, responses_api, text_completions
from gateway.caching.completion_parts import MALFORMED
from gateway.caching.completions import style_of
from gateway.common.fastjson import dumps
from gateway.config.loggers import LlmMessages
from gateway.runtime.context import RequestContext
from gateway.runtime.llm_call import request_json, request_model
from gateway.runtime.step import LocalReply
from gateway.telemetry.loggers import LoggerQueue
from gateway.telemetry.sinks import Entry

# What of a request is its prompt: the system text (Anthropic's, the Responses API's
# instructions) and the messages (chat, Anthropic), input (Responses) or prompt (legacy).
PROMPT_KEYS = ("system", "instructions", "messages", "input", "prompt")
ASSEMBLERS = {
    "openai": chat_completions.from_stream,
    "text_completion": text_completions.from_stream,
    "responses": responses_api.from_stream,
    "anthropic": anthropic_messages.from_stream,
}


class LlmMessageLog:
    """One API's LLM message logging: decides per call whether to log (sampling), and builds
    and enqueues the record once the response is final."""

    def __init__(self, settings: LlmMessages, queue: LoggerQueue) -> None:
        self.sampling = settings.sampling
        self.max_bytes = settings.max_bytes
        self.queue = queue

    def sampled(self) -> bool:
        return self.sampling >= 1.0 or random.random() < self.sampling

    def action(self, reply: LocalReply | None) -> Callable[[RequestContext], Awaitable[None]]:
        """A `DONE` action that logs the call: `reply` is what the client got, or None for a
        streamed response (then `context.model.Response`, whose body is the whole stream)."""

        async def log_llm_message(context: RequestContext) -> None:
            record = self.record(context, reply)
            self.queue.put(Entry(dumps(record), "llm-message", record["time"]))

        return log_llm_message

    def record(self, context: RequestContext, reply: LocalReply | None) -> dict[str, Any]:
        model = context.model
        body = request_json(context)
        if reply is None:
            response = model.Response
            status = response.StatusCode
            content_type = (response.Headers.get("Content-Type") or [""])[0]
            content = response.Body.read(preserve=True) if response.Body is not None else b""
        else:
            status, content = reply.status, reply.body
            types = (v for k, v in reply.headers if k.lower() == "content-type")
            content_type = next(types, "")
        streamed = content_type.startswith("text/event-stream")
        completion = completion_text(
            style_of(context.style, body, model.Operation.Id), content, streamed
        )
        prompt = {k: body[k] for k in PROMPT_KEYS if k in body}
        prompt_value, prompt_cut = self.capped(prompt)
        completion_value, completion_cut = self.capped(completion)
        usage = context.usage
        return {
            "time": round(model.started, 3),
            "request_id": str(model.RequestId),
            "api": model.Api.Id,
            "operation": model.Operation.Id,
            "product": model.Product.Id if model.Product is not None else None,
            "subscription": model.Subscription.Id if model.Subscription is not None else None,
            "backend": context.backend_member or context.backend,
            "model": model.Variables.get("llm-model") or request_model(context, body) or None,
            "status": status,
            "streamed": streamed,
            "prompt": prompt_value,
            "completion": completion_value,
            "usage": None
            if usage is None
            else {
                "prompt_tokens": usage.prompt,
                "completion_tokens": usage.completion,
                "total_tokens": usage.total,
            },
            "prompt_truncated": prompt_cut,
            "completion_truncated": completion_cut,
        }

    def capped(self, value: object) -> tuple[object, bool]:
        """`value`, or its JSON text cut to `max-bytes` (whole characters) when longer."""
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        data = text.encode()
        if len(data) <= self.max_bytes:
            return value, False
        return data[: self.max_bytes].decode(errors="ignore"), True


def completion_text(style: str, body: bytes, streamed: bool) -> str | None:
    """The completion's final text (a stream's assembled); None when there is none to read
    (an error, a stream cut short, a shape the gateway does not know)."""
    try:
        doc = ASSEMBLERS[style](body) if streamed else json.loads(body)
    except MALFORMED:
        return None
    if not isinstance(doc, dict):
        return None
    try:
        return _text_of(style, doc)
    except MALFORMED:
        return None


def _text_of(style: str, doc: dict[str, Any]) -> str | None:
    if style == "anthropic":
        return "".join(b["text"] for b in doc["content"] if b.get("type") == "text")
    if style == "responses":
        return "".join(
            part["text"]
            for item in doc["output"]
            if item.get("type") == "message"
            for part in item.get("content") or ()
            if part.get("type") == "output_text"
        )
    choice = doc["choices"][0]
    if style == "text_completion":
        return choice["text"]
    return choice["message"].get("content")
