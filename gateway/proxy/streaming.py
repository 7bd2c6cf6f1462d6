"""Passing a streamed answer through, and letting outbound steps see it once it has ended.

A step that needs the whole answer (token counting, cache store) cannot hold a stream back:
it registers an `after_stream` action instead. The proxy forwards every chunk the moment it
arrives, keeps a copy only when some action is registered, and after the last chunk puts the
whole body in `context.Response.Body` and runs the actions. The client has its answer by
then; an action's failure is logged, not sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from gateway.expressions.model import MessageBody
from gateway.runtime.context import RequestContext
from gateway.runtime.transport import StreamBroken

log = logging.getLogger("aigw.proxy")


async def pass_through(
    chunks: AsyncIterator[bytes], context: RequestContext
) -> AsyncIterator[bytes]:
    kept: list[bytes] | None = [] if context.after_stream or context.on_complete else None
    hidden = UsageChunkFilter() if context.hide_stream_usage else None
    finished = False
    try:
        try:
            async for chunk in chunks:
                if kept is not None:
                    kept.append(chunk)
                if hidden is None:
                    yield chunk
                elif passed := hidden.feed(chunk):
                    yield passed
        except StreamBroken as error:
            # Never passed off as a complete answer: the client gets an error event in its
            # API's format; what was produced still counts (below), nothing is cached.
            context.stream_error = str(error)
            _count_failure(context)
            log.warning("a streamed answer broke off: %s", error)
            yield error_event(context, f"The upstream stream broke off: {error}")
            return
        if hidden is not None and (rest := hidden.rest()):
            yield rest
        finished = True
    finally:  # a client gone mid-stream closes the upstream answer at once, not at GC
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
        if kept is not None:
            # What was produced counts, even when the client walked away.
            context.model.Response.Body = MessageBody(b"".join(kept))
            if finished:
                await _run_all(context.after_stream, context)
            await complete(context)


def error_event(context: RequestContext, message: str) -> bytes:
    """An error event in the stream format of the request's API style."""
    if context.model.Operation.Id.startswith("Messages_"):  # Anthropic's Messages API
        error = {"type": "error", "error": {"type": "api_error", "message": message}}
        return b"event: error\ndata: " + json.dumps(error).encode() + b"\n\n"
    error = {"error": {"message": message, "type": "upstream_error", "code": "stream_broken"}}
    return b"data: " + json.dumps(error).encode() + b"\n\n"


def _count_failure(context: RequestContext) -> None:
    metrics = context.services.metrics
    if metrics is not None:
        dimensions = {
            "API ID": context.model.Api.Id,
            "Backend ID": context.backend_member or context.backend or "",
        }
        metrics.add("aigw", "stream_failures", 1, dimensions)


async def complete(context: RequestContext) -> None:
    """Run the request's on-complete actions (counting at the end of outbound), once."""
    actions, context.on_complete = context.on_complete, []
    await _run_all(actions, context)


async def _run_all(
    actions: list[Callable[[RequestContext], Awaitable[None]]], context: RequestContext
) -> None:
    for action in actions:
        try:
            await action(context)
        except Exception:
            log.exception("an action after the answer failed")


class UsageChunkFilter:
    """Drops the usage-only event the gateway asked an OpenAI-style upstream for.

    The client did not ask for `stream_options.include_usage`, so it gets the stream it asked
    for: every event passes as soon as it is complete, except the one with no choices and
    the usage. (The gateway's own copy of the stream keeps it, for counting.)
    """

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, chunk: bytes) -> bytes:
        self.pending += chunk
        *events, self.pending = self.pending.split(b"\n\n")
        return b"".join(event + b"\n\n" for event in events if not _usage_only(event))

    def rest(self) -> bytes:
        rest, self.pending = self.pending, b""
        return b"" if _usage_only(rest) else rest


def _usage_only(event: bytes) -> bool:
    for line in event.splitlines():
        if line.startswith(b"data:") and b'"usage"' in line:
            try:
                data = json.loads(line[5:])
            except ValueError:
                return False
            return isinstance(data, dict) and data.get("choices") == [] and bool(data.get("usage"))
    return False
