"""LLM message logging (an API's `llm-messages`): each sampled call's prompt and completion,
with its usage, as one JSON record to a named logger.

Once the response is final (a `DONE` action, so a stream's usage and whole body are known)
the request snapshots the call (`Call`); the logger's writer builds the record from it, off
the request path. A streamed completion is assembled into its final text by the same code the
caches use (gateway.caching). A record names the subscription by id and never
carries a header or a key. A prompt or completion longer than `max-bytes` is cut there and
flagged (`prompt_truncated`, `completion_truncated`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gateway.caching import anthropic_messages, chat_completions, responses_api, text_completions
from gateway.caching.completion_parts import MALFORMED
from gateway.caching.completions import style_of
from gateway.common.fastjson import dumps, loads
from gateway.config.loggers import LlmMessages
from gateway.expressions.model import MessageBody
from gateway.expressions.values import ExpressionError
from gateway.runtime.context import RequestContext
from gateway.runtime.step import LocalReply
from gateway.telemetry.loggers import LoggerQueue
from gateway.telemetry.sinks import Entry
from gateway.tokens.usage import Usage

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
    """One API's LLM message logging: decides per call whether to log (sampling), and queues
    the call once the response is final. The record is built by the logger's writer, not in
    the request's `DONE` phase: parsing the answer and assembling a stream cost
    microseconds to milliseconds, which no request should wait for."""

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
            call = Call.of(context, reply, self.max_bytes)
            self.queue.put(Entry(None, "llm-message", call.time, render=call.render))

        return log_llm_message


@dataclass(slots=True)
class Call:
    """What a record needs of a finished call, taken as it is (references, no parsing)."""

    time: float
    request_id: str
    api: str
    operation: str
    product: str | None
    subscription: str | None
    backend: str | None
    model: object  # the llm-model variable: the model the response names, if it was read
    deployment: str  # Azure's deployment id in the URL (the model when the body names none)
    style: str
    status: int
    content_type: str
    answer: bytes
    request: bytes
    parsed: dict[str, object] | None  # the request's JSON, when a policy parsed it already
    usage: Usage | None
    max_bytes: int

    @classmethod
    def of(cls, context: RequestContext, reply: LocalReply | None, max_bytes: int) -> Call:
        model = context.model
        if reply is None:
            response = model.Response
            status, answer = response.StatusCode, _bytes(response.Body)
            content_type = (response.Headers.get("Content-Type") or [""])[0]
        else:
            status, answer = reply.status, reply.body
            types = (v for k, v in reply.headers if k.lower() == "content-type")
            content_type = next(types, "")
        body = model.Request.Body
        parsed = context.parsed_body
        return cls(
            time=round(model.started, 3),
            request_id=model.request_id_text,
            api=model.Api.Id,
            operation=model.Operation.Id,
            product=model.Product.Id if model.Product is not None else None,
            subscription=model.Subscription.Id if model.Subscription is not None else None,
            backend=context.backend_member or context.backend,
            model=model.Variables.get("llm-model"),
            deployment=str(model.Request.MatchedParameters.get("deployment-id", "")),
            style=context.style,
            status=status,
            content_type=content_type,
            answer=answer,
            request=_bytes(body),
            parsed=parsed[1] if parsed is not None and parsed[0] is body else None,
            usage=context.usage,
            max_bytes=max_bytes,
        )

    def render(self) -> str:
        return dumps(self.record())

    def record(self) -> dict[str, Any]:
        body = self.parsed if self.parsed is not None else _json_object(self.request)
        streamed = self.content_type.startswith("text/event-stream")
        style = style_of(self.style, body, self.operation)
        asked_for = {k: body[k] for k in PROMPT_KEYS if k in body}
        prompt, prompt_cut = capped(asked_for, self.max_bytes)
        answer = completion_text(style, self.answer, streamed)
        completion, completion_cut = capped(answer, self.max_bytes)
        asked = body.get("model")
        usage = self.usage
        return {
            "time": self.time,
            "request_id": self.request_id,
            "api": self.api,
            "operation": self.operation,
            "product": self.product,
            "subscription": self.subscription,
            "backend": self.backend,
            "model": self.model
            or (asked if isinstance(asked, str) else "")
            or self.deployment
            or None,
            "status": self.status,
            "streamed": streamed,
            "prompt": prompt,
            "completion": completion,
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


def capped(value: object, max_bytes: int) -> tuple[object, bool]:
    """`value`, or its JSON text cut to `max_bytes` (whole characters) when longer."""
    if value is None:
        return None, False
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    data = text.encode()
    if len(data) <= max_bytes:
        return value, False
    return data[:max_bytes].decode(errors="ignore"), True


def _bytes(body: MessageBody | None) -> bytes:
    if body is None:
        return b""
    try:
        return body.read(preserve=True)
    except ExpressionError:  # a policy read it without preserveContent: it is gone
        return b""


def _json_object(data: bytes) -> dict[str, object]:
    try:
        found = loads(data or b"{}")
    except (ValueError, UnicodeDecodeError):
        return {}
    return found if isinstance(found, dict) else {}


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
