"""The access log: one JSON object per request, on standard output.

Written when the response is complete (a stream's after its last chunk), so it carries the
provider's usage and the call's cost. A request replied to before any policy ran (no route,
wrong method, no valid key, body too large, a CORS preflight, an internal error) gets a line
too, with what is known of it, and why it was refused (`refusal`). It names the subscription,
never its key, and the path without the query (where a key may travel); prompt and completion
text are never logged. The fields, and what the timings measure (gateway.telemetry.timings),
are documented in docs/observability.md (a test holds the table to the code).
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any, TextIO

from gateway.common.fastjson import dumps
from gateway.common.request_ids import new_request_id
from gateway.runtime.context import Action, RequestContext
from gateway.telemetry.timings import timings_of
from gateway.telemetry.traceparent import client_trace_id
from gateway.telemetry.traceparent import trace_id as span_trace_id

FLUSH_AFTER = 0.2  # seconds a line may wait before it is written
FLUSH_LINES = 256  # or this many lines, whichever comes first


class AccessLog:
    """Lines are written in batches (one write per ~0.2 s or 256 lines, not one per request):
    a write per request was a measurable share of the gateway's per-request cost."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self.pending: list[str] = []
        self.scheduled = False

    def write(self, context: RequestContext, status: int) -> None:
        model = context.model
        usage = context.usage
        variables = model.Variables
        timings = timings_of(context)
        first = timings.first_byte
        error = model.LastError
        entry = {
            "time": thousandths(model.started),
            "request_id": model.request_id_text,
            "method": model.Request.Method,
            "path": model.Request.Url.Path,
            "status": status,
            "duration_ms": thousandths(timings.total * 1000),
            "gateway_ms": thousandths(timings.gateway * 1000),
            "upstream_ms": thousandths(timings.upstream * 1000) if context.attempts else None,
            "ttfb_ms": thousandths(first * 1000) if first is not None else None,
            "refusal": error.Source if error is not None and 400 <= status < 500 else None,
            "api": model.Api.Id,
            "operation": model.Operation.Id,
            "product": model.Product.Id if model.Product is not None else None,
            "subscription": model.Subscription.Id if model.Subscription is not None else None,
            "client_ip": model.Request.IpAddress,
            "backend": context.backend,
            "member": context.backend_member,
            "attempts": context.attempts or None,
            "model": variables.get("llm-model"),
            "prompt_tokens": usage.prompt if usage is not None else None,
            "completion_tokens": usage.completion if usage is not None else None,
            "cost": variables.get("llm-cost"),
        }
        trace_id = trace_id_of(context)
        if trace_id is not None:
            entry["trace_id"] = trace_id
        if model.traces:  # `trace` statements' messages and the backend attempts
            entry["trace"] = model.traces
        if context.stream_error is not None:
            entry["error"] = "stream broke off: " + context.stream_error
        elif context.client_left:  # its upstream was closed then, its usage counted so far
            entry["error"] = "client went before the stream ended"
        self._queue(entry)

    def write_refused(
        self,
        method: str,
        path: str,
        client_ip: str,
        status: int,
        started: float,
        api: str | None = None,
        request_id: str | None = None,
        refusal: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        """A request refused before it had a context: no route, no key, too large..."""
        took = _ms(time.time() - started)
        entry: dict[str, Any] = {
            "time": thousandths(started),
            "request_id": request_id or new_request_id(),
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": took,
            "gateway_ms": took,
            "ttfb_ms": took,
            "refusal": refusal,
            "api": api,
            "client_ip": client_ip,
        }
        if trace_id is not None:
            entry["trace_id"] = trace_id
        self._queue(entry)

    def _queue(self, entry: dict[str, Any]) -> None:
        self.pending.append(dumps(entry))
        if len(self.pending) >= FLUSH_LINES:
            self.flush()
        elif not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_later(FLUSH_AFTER, self.flush)

    def flush(self) -> None:
        self.scheduled = False
        if self.pending:
            lines, self.pending = self.pending, []
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()

    def action(self, status: int) -> Action:
        """An on-complete action that logs the request with this status."""

        def log_request(context: RequestContext) -> None:
            self.write(context, status)

        return log_request


def trace_id_of(context: RequestContext) -> str | None:
    """The request span's trace id when traced; else the client's valid traceparent's."""
    span = context.span
    if span is not None:  # only gateway.proxy.traced sets it, to an OpenTelemetry span
        return span_trace_id(span)  # type: ignore[arg-type]
    return client_trace_id(context.model.Request.Headers.joined("traceparent"))


def _ms(seconds: float) -> float:
    return thousandths(seconds * 1000)


# Below this, `value * 1000` is within 2**-12 of the exact product (an ulp there is 2**-11 at
# most): 2**42 thousandths of a second since the epoch reach the year 2109.
_EXACT = float(2**42)


def thousandths(value: float) -> float:
    """`round(value, 3)`, the same float, in about a quarter of its instructions: `round`
    writes the decimal digits, formats them with snprintf and parses them back (some 2,600
    instructions; five a request). The product with 1000 is within 2**-12 of the exact one
    below `_EXACT`, so unless it is that close to a half its nearest integer is the exact
    product's, which `round` rounds to; that integer over 1000 is one correctly rounded
    division (both exact doubles), the float `round` parses. Near a half, beyond `_EXACT`, and
    for NaN or the infinities, `round` itself decides."""
    scaled = value * 1000.0
    if -_EXACT < scaled < _EXACT:
        whole = round(scaled)
        if -0.499 < scaled - whole < 0.499:  # never more than a half away: not near one
            return whole / 1000 if whole else value * 0.0  # a zero keeps its sign, as round's
    return round(value, 3)
