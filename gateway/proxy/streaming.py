"""Passing a streamed response through, and letting outbound steps see it once it has ended.

A step that needs the whole response (token counting, cache store) cannot hold a stream back:
it defers an action to `Phase.STREAM_END` or `Phase.DONE` instead. The proxy forwards every
chunk the moment it arrives, keeps a copy only when some action is deferred, and after the
last chunk puts the whole body in `context.Response.Body` and runs the phases. The client has
its response by then; an action's failure is logged, not sent.

A stream is complete when its protocol says so (`StreamReading`): then `STREAM_END` runs (the
caches keep it) even if the client closed its connection right after the last event, as
the openai SDK does at `[DONE]` while the upstream's body may still be open. Only a client
gone before the end is gone. What runs after the stream is shielded from the cancellation a
client's going brings, so counting and logging always run.

A stream that does not complete is never passed off as complete: its status went out with
its first chunk, so it ends with an error event in the client's API format, no `[DONE]` or
`message_stop`, `context.stream_error` set (the access log's `error`) and
`aigw_stream_failures_total` counted by `reason`. Either the upstream broke off
(`StreamBroken`; reason `BackendConnectionFailure`, which also feeds the member's circuit
breaker, in gateway.proxy.forwarder) or a step screening the stream refused the rest of it
(a `PolicyError` raised from the stream, e.g. llm-content-safety's completion checks; its reason).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator

import anyio

from gateway.common.sse import Event, SSEParser, ends_stream, json_of, reports_usage
from gateway.expressions.model import MessageBody
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.forwarding import StreamBroken
from gateway.runtime.llm_call import count_cut_stream, usage_was_read
from gateway.runtime.phases import run_phase
from gateway.runtime.step import PolicyError
from gateway.tokens.usage import from_events

log = logging.getLogger("aigw.proxy")

BROKEN_REASON = "BackendConnectionFailure"  # as forward-request names a buffered body cut short


async def pass_through(
    chunks: AsyncIterator[bytes], context: RequestContext
) -> AsyncIterator[bytes]:
    kept: list[bytes] | None = [] if context.has_deferred(Phase.STREAM_END, Phase.DONE) else None
    reading = StreamReading.of(context, kept is not None)
    ended = False  # the body came to its end (whatever its protocol says of it)
    try:
        try:
            waited = time.time()
            async for chunk in chunks:
                if context.first_byte is None:  # the time to first byte (and token)
                    # Waiting for the upstream's first chunk is the upstream's time.
                    context.first_byte = now = time.time()
                    context.upstream_seconds += now - waited
                if kept is not None:
                    kept.append(chunk)
                # Complete as soon as the protocol's end has come, before it is passed on: a
                # client may close its connection the moment it has it (the openai SDK does).
                if reading is None:
                    yield chunk
                elif passed := reading.feed(chunk):
                    yield passed
        except StreamBroken as error:
            if reading is not None and reading.complete:  # broken after its end: whole
                return
            # Never passed off as a complete response: the client gets an error event in its
            # API's format; what was produced still counts (below), nothing is cached.
            context.stream_error = str(error)
            if kept is not None:  # it used tokens: what it reported, else what it produced
                count_cut_stream(context, b"".join(kept))
            _count_failure(context, BROKEN_REASON)
            log.warning("a streamed answer broke off: %s", error)
            yield error_event(context, f"The upstream stream broke off: {error}")
            return
        except PolicyError as error:
            # A step screening the stream refused the rest (its status went out already).
            context.stream_error = f"{error.source} ({error.reason}): {error.message}"
            _count_failure(context, error.reason)
            log.warning("a streamed answer was stopped: %s", context.stream_error)
            yield error_event(context, error.message, error.reason, error.status)
            return
        ended = True
        if reading is not None and (rest := reading.close()):
            yield rest
    finally:
        # The client may be gone (its connection closed, this generator cancelled): what
        # follows must still run, so it is shielded from that cancellation.
        with anyio.CancelScope(shield=True):
            # A client gone mid-stream closes the upstream response at once, not at GC.
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()
            if kept is not None:
                # What was produced counts, even when the client walked away.
                context.model.Response.Body = MessageBody(b"".join(kept))
                if reading is None or not reading.protocol:
                    complete = ended
                else:
                    complete = reading.complete
                    if not context.usage_read:  # its usage, read as it passed
                        usage_was_read(context, from_events(reading.usage_events))
                if complete and context.stream_error is None:
                    await run_phase(context, Phase.STREAM_END)
                await run_phase(context, Phase.DONE)


class StreamReading:
    """The stream the client gets, read once as it passes, for all the proxy asks of it.

    Whether it is complete: an LLM-style API's event stream is complete when its protocol
    says so (`data: [DONE]`, Anthropic's `message_stop`, the Responses API's last event;
    gateway.common.sse), in the client's API: the end of the stream the client gets,
    translated or not. Whatever the client does after that (the openai SDK closes its
    connection at `[DONE]`, though the upstream's body may go on a while) does not make it
    "gone". Any other stream is complete when its body has ended.

    The events that may report usage are kept, so the usage is counted at the end without
    reading the kept body again. And when the gateway asked an OpenAI-style upstream for the
    usage the client did not ask for, the usage-only event is left out of what passes
    (`hide_usage`): every other event passes exactly as it came, as soon as its blank line has
    come, however the stream frames its lines.
    """

    def __init__(self, protocol: bool, hide_usage: bool) -> None:
        self.parser = SSEParser()
        self.protocol = protocol
        self.hide_usage = hide_usage
        self.complete = False
        self.usage_events: list[Event] = []

    @classmethod
    def of(cls, context: RequestContext, kept: bool) -> StreamReading | None:
        """How `context`'s stream is read (None: it passes unread)."""
        content_type = (context.model.Response.Headers.get("Content-Type") or [""])[0]
        protocol = context.style != "http" and content_type.startswith("text/event-stream")
        protocol = protocol and kept  # its end matters only to what runs after it
        if not protocol and not context.hide_stream_usage:
            return None
        return cls(protocol, context.hide_stream_usage)

    def feed(self, chunk: bytes) -> bytes:
        """Read a chunk; what of it passes on now."""
        return self._read(self.parser.feed(chunk), chunk)

    def close(self) -> bytes:
        """The body has ended: what is left to pass on (the bytes that carried no event,
        comments or a cut last line, pass as they came)."""
        rest = self._read(self.parser.close(), b"")
        return rest + self.parser.leftover if self.hide_usage else rest

    def _read(self, events: list[Event], chunk: bytes) -> bytes:
        passed: list[bytes] = []
        for event in events:
            usage = reports_usage(event)
            if self.protocol:
                if usage:
                    self.usage_events.append(event)
                if not self.complete and ends_stream(event):
                    self.complete = True
            if self.hide_usage and not (usage and _usage_only(event)):
                passed.append(event.raw)
        return b"".join(passed) if self.hide_usage else chunk


def error_event(
    context: RequestContext, message: str, code: str = "stream_broken", status: int = 502
) -> bytes:
    """An error event in the stream format of the request's API style.

    `code` says why (OpenAI style's `code`: `stream_broken` for an upstream cut short, else a
    policy's reason, with `type: policy_error`); `status` is what the response's status would
    have been (Anthropic's error type: `permission_error` for a 403, else `api_error`).
    """
    if context.style == "anthropic":  # Anthropic's Messages API
        kind = "permission_error" if status == 403 else "api_error"
        error = {"type": "error", "error": {"type": kind, "message": message}}
        return b"event: error\ndata: " + json.dumps(error).encode() + b"\n\n"
    kind = "upstream_error" if code == "stream_broken" else "policy_error"
    error = {"error": {"message": message, "type": kind, "code": code}}
    return b"data: " + json.dumps(error).encode() + b"\n\n"


def _count_failure(context: RequestContext, reason: str) -> None:
    metrics = context.services.metrics
    if metrics is not None:
        dimensions = {
            "API ID": context.model.Api.Id,
            "Backend ID": context.backend_member or context.backend or "",
            "reason": reason,
        }
        metrics.add("aigw", "stream_failures", 1, dimensions)


def _usage_only(event: Event) -> bool:
    """Is this event (one that reports usage) OpenAI's usage-only chunk?"""
    data = json_of(event)
    return data is not None and data.get("choices") == [] and bool(data.get("usage"))
