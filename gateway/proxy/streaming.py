"""Passing a streamed response through, and letting outbound steps see it once it has ended.

A step that needs the whole response (token counting, cache store) cannot hold a stream back:
it defers an action to `Phase.STREAM_END` or `Phase.DONE` instead. The proxy forwards every
chunk the moment it arrives, keeps a copy only when some action is deferred, and puts it in
`context.Response.Body` for the phases. The client has its response by then; an action's
failure is logged, not sent.

What is kept is bounded (`limits.max-stream-retained`): an upstream decides how long its stream
is, and the access log alone defers an action for every stream. A longer stream passes whole
and its usage is still read as it passes (the first and last usage events, nothing more), but
its body is not kept: STREAM_END does not run (nothing is cached), LLM message logging logs no
completion, `aigw.streams_over_retention` counts it. The SSE reader holds no more than that
for one event either (`StreamReading`).

A stream is complete when its protocol says so (`StreamReading`): then `STREAM_END` runs (the
caches keep it) at once, even if the client closes its connection right after the last event,
as the openai SDK does, while the upstream's body may stay open. A client gone before the end
is gone: gateway.proxy.sender closes this generator when it notices, which closes the upstream
response; the tokens of what passed are counted (`count_cut_stream`) and the access log says
the client left. What runs after the stream runs in a `finally`, so counting and logging run
however the stream ended, a server's shutdown included: uvicorn cancels a request's task
once, and the awaits after that one CancelledError run. (anyio's shield, which this took
when Starlette's task group cancelled a response's body, cannot stop a task's own
cancellation and nothing that serves traffic now cancels through anyio; it cost about
30,000 instructions a scope, two a stream.)

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

from gateway.common.sse import (
    USAGE_OR_END,
    Event,
    SSEParser,
    ends_stream,
    json_of,
    reports_usage,
)
from gateway.expressions.model import MessageBody
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.forwarding import StreamBroken
from gateway.runtime.llm_call import count_cut_stream, usage_was_read
from gateway.runtime.phases import run_phase
from gateway.runtime.step import PolicyError
from gateway.tokens.usage import Usage, from_reports

log = logging.getLogger("aigw.proxy")

BROKEN_REASON = "BackendConnectionFailure"  # as forward-request names a buffered body cut short
RETAIN = 8 * 1024 * 1024  # limits.max-stream-retained's default
_OVER_LOGGED: set[str] = set()  # the APIs whose stream went over the limit was logged (once)


async def pass_through(
    chunks: AsyncIterator[bytes], context: RequestContext, retain: int = RETAIN
) -> AsyncIterator[bytes]:
    """`chunks` as the client gets them; the deferred phases once they have ended, however.

    `retain`: the most bytes kept for the actions that wait for the whole stream (gateway.yaml
    `limits.max-stream-retained`); beyond it nothing more is kept and they do without."""
    deferred = context.deferred  # as context.has_deferred(STREAM_END, DONE), without a generator
    kept: list[bytes] | None = (
        [] if deferred.get(Phase.STREAM_END) or deferred.get(Phase.DONE) else None
    )
    reading = StreamReading.of(context, kept is not None, retain)
    end = LEFT  # how it ended: LEFT until it is known otherwise (the client went first)
    size = 0  # the bytes that came: those up to `retain` are kept
    stored: tuple[int, bytes] | None = None  # STREAM_END ran: the chunks kept then, joined
    try:
        try:
            waited = time.time()
            async for chunk in chunks:
                if context.first_byte is None:  # the time to first byte (and token)
                    # Waiting for the upstream's first chunk is the upstream's time.
                    context.first_byte = now = time.time()
                    context.upstream_seconds += now - waited
                size += len(chunk)
                if kept is not None and size <= retain:
                    kept.append(chunk)
                # Complete as soon as the protocol's end has come, before it is passed on: a
                # client may close its connection the moment it has it (the openai SDK does).
                if reading is None:
                    yield chunk
                    continue
                if passed := reading.feed(chunk):
                    yield passed
                if reading.complete and kept is not None and stored is None:
                    # Kept now, not when the body ends: an upstream may hold it open a while
                    # after its end, and the client, gone at the end, is noticed only when
                    # the next chunk comes (gateway.proxy.sender). With no action waiting for
                    # it (the usual stream) STREAM_END would only set a body the end sets
                    # again: it is marked run, and nothing is joined or made for it.
                    stored = (
                        (len(kept), await _stream_end(context, kept, size, retain))
                        if deferred.get(Phase.STREAM_END)
                        else NOTHING_STORED
                    )
        except StreamBroken as error:
            if reading is not None and reading.complete:  # broken after its end: whole
                end = ENDED
                return
            # Never passed off as a complete response: the client gets an error event in its
            # API's format; what was produced still counts (below), nothing is cached.
            end, context.stream_error = BROKEN, str(error)
            _count_failure(context, BROKEN_REASON)
            log.warning("a streamed answer broke off: %s", error)
            yield error_event(context, f"The upstream stream broke off: {error}")
            return
        except PolicyError as error:
            # A step screening the stream refused the rest (its status went out already; it
            # counted what the stream used).
            end = STOPPED
            context.stream_error = f"{error.source} ({error.reason}): {error.message}"
            _count_failure(context, error.reason)
            log.warning("a streamed answer was stopped: %s", context.stream_error)
            yield error_event(context, error.message, error.reason, error.status)
            return
        end = ENDED
        if reading is not None and (rest := reading.close()):
            yield rest
        if reading is not None and _ended_short(reading, context):
            # The body ended cleanly but before its protocol's end: a cut the upstream did not
            # admit to. The client's SDK would take it for a whole answer; it gets the error
            # event a broken stream gets, and it is counted as one.
            end, context.stream_error = BROKEN, "the stream ended before its protocol's end"
            _count_failure(context, BROKEN_REASON)
            log.warning("a streamed answer ended before its protocol's end")
            yield error_event(context, "The upstream stream ended before its end.")
    finally:
        # The client may be gone (its connection closed, this generator closed by the
        # sender or its task cancelled): what follows still runs.
        # A client gone mid-stream closes the upstream response at once, not at GC.
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
        context.streamed_bytes = size
        if kept is not None:
            await _after_stream(context, kept, size, retain, reading, end, stored)


# The operations whose streams always end with a protocol's end ([DONE], message_stop, the
# Responses API's last event); others (speech, transcriptions) end theirs in their own ways.
ENDS_BY_PROTOCOL = frozenset(
    ("ChatCompletions_Create", "Completions_Create", "Messages_Create", "Responses_Create")
)


def _ended_short(reading: StreamReading, context: RequestContext) -> bool:
    """Whether a stream whose body ended had not come to its protocol's end (a stream read
    no further past `retain` cannot tell, and is given the benefit of the doubt)."""
    return (
        reading.protocol
        and not reading.complete
        and not reading.gave_up
        and context.model.Operation.Id in ENDS_BY_PROTOCOL
    )


# STREAM_END's turn came with no action for it: nothing stored (no count of chunks matches).
NOTHING_STORED = (-1, b"")

# How a stream ended: its body ended, the upstream broke off, a policy stopped it, or the
# client went before any of these.
ENDED, BROKEN, STOPPED, LEFT = "ended", "broken", "stopped", "left"


async def _after_stream(
    context: RequestContext,
    kept: list[bytes],
    size: int,
    retain: int,
    reading: StreamReading | None,
    end: str,
    stored: tuple[int, bytes] | None,
) -> None:
    """The deferred phases of a stream that ended (`end` says how), with what was kept
    (`stored`: STREAM_END's turn came already, at the protocol's end, with the body of the
    chunks kept then: when none came after, that body stands, not joined again)."""
    over = size > retain
    if stored is not None and stored[0] == len(kept) and not over:
        body = stored[1]  # no chunk kept since STREAM_END: its body, not joined again
    else:
        body = b"".join(kept)
    if over:  # too large to keep whole: the caches and LLM message logging do without it
        _count_over(context, size, retain)
    else:  # a body of its own, whatever STREAM_END's actions did with theirs
        context.model.Response.Body = MessageBody(body)
    if reading is None or not reading.protocol:
        complete = end == ENDED
        if end == BROKEN:  # it used tokens: what it reported, else what it produced
            count_cut_stream(context, body, scale=size / max(len(body), 1))
    else:
        complete = reading.complete
        if not context.usage_read:  # its usage, read as it passed
            usage_was_read(context, reading.usage)
        if not complete and end in (BROKEN, LEFT):
            # Cut short before its end: what it reported, else what passed, counted offline
            # (from what was kept, in proportion when not all of it was).
            count_cut_stream(context, body, context.usage, size / max(len(body), 1))
    if not complete and end == LEFT:
        context.client_left = True  # the access log says the client went before the end
    if complete and stored is None and context.stream_error is None:
        await _stream_end(context, kept, size, retain, body)
    await run_phase(context, Phase.DONE)


async def _stream_end(
    context: RequestContext, kept: list[bytes], size: int, retain: int, body: bytes | None = None
) -> bytes:
    """STREAM_END, once the stream is complete: the caches keep it (not one too long to keep).
    Returns the body it was given (`body`: `kept` joined already; b"" when too long)."""
    if size > retain:
        return b""
    if body is None:
        body = b"".join(kept)
    context.model.Response.Body = MessageBody(body)
    await run_phase(context, Phase.STREAM_END)
    return body


class StreamReading:
    """The stream the client gets, read once as it passes, for all the proxy asks of it.

    Whether it is complete: an LLM-style API's event stream is complete when its protocol
    says so (`data: [DONE]`, Anthropic's `message_stop`, the Responses API's last event;
    gateway.common.sse), in the client's API: the end of the stream the client gets,
    translated or not. Whatever the client does after that (the openai SDK closes its
    connection at `[DONE]`, though the upstream's body may go on a while) does not make it
    "gone". Any other stream is complete when its body has ended.

    The events that may report usage are kept (the first and the last: Anthropic's input
    side comes first, every provider's final figures last), so the usage is counted at the end
    without reading the kept body again. And when the gateway asked an OpenAI-style upstream for the
    usage the client did not ask for, the usage-only event is left out of what passes
    (`hide_usage`): every other event passes exactly as it came, as soon as its blank line has
    come, however the stream frames its lines.

    What the parser holds for an event not yet ended is bounded by `retain`: an upstream that
    never ends its event (an endless line, data lines without their blank line) is read no
    further, and passes as it comes; its end is never known, so it is never complete.
    """

    def __init__(self, protocol: bool, hide_usage: bool, retain: int = RETAIN) -> None:
        self.parser = SSEParser()
        self.protocol = protocol
        self.hide_usage = hide_usage
        self.retain = retain
        self.complete = False
        self.gave_up = False  # an event grew beyond `retain`: the rest passes unread
        self.usage_events: list[Event] = []  # the first and the last that report usage
        self._parsed: tuple[Event, dict | None] | None = None  # the last event json_of read

    @classmethod
    def of(cls, context: RequestContext, kept: bool, retain: int = RETAIN) -> StreamReading | None:
        """How `context`'s stream is read (None: it passes unread)."""
        content_type = (context.model.Response.Headers.get("Content-Type") or [""])[0]
        protocol = context.style != "http" and content_type.startswith("text/event-stream")
        protocol = protocol and kept  # its end matters only to what runs after it
        if not protocol and not context.hide_stream_usage:
            return None
        return cls(protocol, context.hide_stream_usage, retain)

    def feed(self, chunk: bytes) -> bytes:
        """Read a chunk; what of it passes on now."""
        if self.gave_up:
            return chunk
        marked = self.parser.marked_events(chunk, USAGE_OR_END)
        if marked is not None:  # whole one-line events: only those that may matter are read
            return self._read_marked(marked, chunk)
        passed = self._read(self.parser.feed(chunk), chunk)
        if self.parser.held > self.retain:  # an event without end: read no further
            self.gave_up = True  # complete only if its end came before
            log.warning(
                "a streamed event grew beyond %d bytes: the stream is not read", self.retain
            )
            return passed + self.parser.leftover if self.hide_usage else passed
        return passed

    def close(self) -> bytes:
        """The body has ended: what is left to pass on (the bytes that carried no event,
        comments or a cut last line, pass as they came)."""
        if self.gave_up:
            return b""
        rest = self._read(self.parser.close(), b"")
        return rest + self.parser.leftover if self.hide_usage else rest

    def _read(self, events: list[Event], chunk: bytes) -> bytes:
        if not self.hide_usage:
            for event in events:
                self._note(event)
            return chunk
        return b"".join([event.raw for event in events if not self._note(event)])

    def _read_marked(self, marked: list[tuple[int, Event]], chunk: bytes) -> bytes:
        """`chunk`, whole one-line events of which those `marked` (with their offsets) may
        report usage or end the stream (SSEParser.marked_events; the others do neither, and
        pass as they are)."""
        passed: list[bytes] = []
        at = 0
        for start, event in marked:
            if self._note(event):  # hidden: the bytes before it pass, not its own
                passed.append(chunk[at:start])
                at = start + len(event.raw)
        if not at:
            return chunk
        passed.append(chunk[at:])
        return b"".join(passed)

    def usage(self) -> Usage | None:
        """The usage the stream reported, from its usage events (raises InvalidUsage: see
        gateway.tokens.usage); one parsed already to be hidden is not parsed again."""
        parsed = self._parsed
        return from_reports(
            parsed[1] if parsed is not None and parsed[0] is event else json_of(event)
            for event in self.usage_events
        )

    def _note(self, event: Event) -> bool:
        """What the reading learns from an event; whether it is hidden from the client."""
        usage = reports_usage(event)
        if self.protocol:
            if usage:  # the first and the last: all from_events needs, bounded
                if len(self.usage_events) < 2:
                    self.usage_events.append(event)
                else:
                    self.usage_events[1] = event
            if not self.complete and ends_stream(event):
                self.complete = True
        return self.hide_usage and usage and self._usage_only(event)

    def _usage_only(self, event: Event) -> bool:
        """Is this event (one that reports usage) OpenAI's usage-only chunk? (Its JSON is
        kept for `usage`: it is one of the usage events, the last so far.)"""
        data = json_of(event)
        self._parsed = (event, data)
        return data is not None and data.get("choices") == [] and bool(data.get("usage"))


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


def _count_over(context: RequestContext, size: int, retain: int) -> None:
    """A stream larger than `limits.max-stream-retained`: counted, and logged once per API."""
    api = context.model.Api.Id
    metrics = context.services.metrics
    if metrics is not None:
        dimensions = {"API ID": api, "Backend ID": context.backend_member or context.backend or ""}
        metrics.add("aigw", "streams_over_retention", 1, dimensions)
    if api not in _OVER_LOGGED and len(_OVER_LOGGED) < 1000:
        _OVER_LOGGED.add(api)
        log.warning(
            "a stream of API %s passed %d bytes, more than limits.max-stream-retained (%d): "
            "not cached, its text not logged (logged once per API)",
            api,
            size,
            retain,
        )
