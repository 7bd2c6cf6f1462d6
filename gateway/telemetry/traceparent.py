"""Trace ids for the access log: a client's W3C `traceparent`, or the request's own span.

Apart from gateway.telemetry.tracing so that an untraced gateway, which still logs the trace
id its clients send, never imports OpenTelemetry (its SDK is a few MB a process).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.trace import Span

# W3C trace context: version-traceid-parentid-flags, lower-case hex, ids not all zeros.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
_ZERO_TRACE = "0" * 32


def trace_id(span: Span) -> str:
    """A span's trace id as `traceparent` writes it (32 hex digits)."""
    return format(span.get_span_context().trace_id, "032x")


def client_trace_id(traceparent: str | None) -> str | None:
    """The trace id of a client's valid W3C `traceparent`, else None."""
    if traceparent is None:
        return None
    found = _TRACEPARENT.match(traceparent.strip())
    if found is None or found.group(1) == _ZERO_TRACE or found.group(2) == "0" * 16:
        return None
    return found.group(1)
