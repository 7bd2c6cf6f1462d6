"""Traces through OpenTelemetry: the provider, the sampler, the OTLP exporter, span helpers.

Built once, at load, only when gateway.yaml's `telemetry.traces.sampling` is above 0
(gateway.proxy.wiring); at 0 nothing here exists and a request makes no OpenTelemetry call.

The sampler is parent-based: a client's `traceparent` decides for its request (sampled or
not, as its flag says); a request without one is sampled at the configured ratio, by its
trace id (OpenTelemetry's TraceIdRatioBased rule). That trace id is drawn here, before any
span exists, so a request left out costs one random draw rather than an unsampled span (16 µs
measured). Spans leave in batches over OTLP/HTTP (protobuf) from the SDK's own thread.

Names follow OpenTelemetry's semantic conventions: GenAI (`gen_ai.*`) and HTTP
(`http.*`, `url.*`, `server.*`); the gateway's own under `aigw.*` (docs/observability.md).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

__all__ = ["Span", "SpanKind", "Tracing", "exporter_for", "traces_url"]

TRACES_PATH = "/v1/traces"
_SIGNAL_PATHS = ("/v1/traces", "/v1/metrics", "/v1/logs")


class _DrawnIds(RandomIdGenerator):
    """Ids as the SDK's, but a new trace's id is the one `Tracing` drew to sample it by."""

    def __init__(self) -> None:
        self.drawn = 0

    def generate_trace_id(self) -> int:
        drawn, self.drawn = self.drawn, 0
        return drawn or super().generate_trace_id()


class Tracing:
    """The gateway's tracer: one per serving process, closed (flushed) with it."""

    def __init__(
        self, sampling: float, exporter: SpanExporter, *, batch: bool = True, service: str = "aigw"
    ) -> None:
        ratio = TraceIdRatioBased(sampling)
        self.bound = ratio.bound
        self.ids = _DrawnIds()
        self.provider = TracerProvider(
            sampler=ParentBased(ratio),
            resource=Resource.create({"service.name": service}),
            id_generator=self.ids,
        )
        # Batched: a span's export never waits on the request that made it. Tests read spans
        # the moment a request ends: they ask for the simple processor.
        processor = BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        self.provider.add_span_processor(processor)
        self.tracer = self.provider.get_tracer("aigw")
        self.propagator = TraceContextTextMapPropagator()

    def start_request(self, name: str, headers: Mapping[str, str]) -> Span | None:
        """The request's span (a server span), the client's `traceparent` its parent; None
        for a request without one that the ratio leaves out. (A span that does not record:
        a client's trace that it sampled out.)"""
        if "traceparent" in headers:
            parent = self.propagator.extract(headers)
            return self.tracer.start_span(name, context=parent, kind=SpanKind.SERVER)
        drawn = random.getrandbits(128)
        if drawn & TraceIdRatioBased.TRACE_ID_LIMIT >= self.bound or not drawn:
            return None  # the sampler would say no to this trace id: ask it nothing
        self.ids.drawn = drawn  # the sampler (the same rule) says yes to it
        return self.tracer.start_span(name, kind=SpanKind.SERVER)

    def start_child(
        self,
        name: str,
        parent: Span,
        attributes: Mapping[str, AttributeValue] | None = None,
        kind: SpanKind = SpanKind.CLIENT,
    ) -> Span:
        """A span under `parent` (a backend attempt, a side call)."""
        context = trace.set_span_in_context(parent)
        return self.tracer.start_span(name, context=context, kind=kind, attributes=attributes)

    def make_current(self, span: Span) -> object:
        """Make `span` the current one in this task; the token `restore` takes back."""
        return otel_context.attach(trace.set_span_in_context(span))

    def restore(self, token: object) -> None:
        otel_context.detach(token)  # type: ignore[arg-type]

    def headers(self, span: Span) -> list[tuple[str, str]]:
        """W3C `traceparent` (and `tracestate`) naming `span`, for the call it stands for."""
        carrier: dict[str, str] = {}
        self.propagator.inject(carrier, trace.set_span_in_context(span))
        return list(carrier.items())

    def close(self) -> None:
        self.provider.shutdown()  # flushes what is batched


def failed(span: Span, description: str) -> None:
    span.set_status(Status(StatusCode.ERROR, description))


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of an endpoint: a collector's base URL gets `/v1/traces`; a
    signal's URL (`.../v1/metrics`, as telemetry.otlp-endpoint may name) becomes the traces
    one; a traces URL stays as written."""
    parts = urlsplit(endpoint)
    path = parts.path.rstrip("/")
    for signal in _SIGNAL_PATHS:
        if path.endswith(signal):
            path = path[: -len(signal)]
            break
    return urlunsplit(parts._replace(path=path + TRACES_PATH))


def exporter_for(endpoint: str) -> SpanExporter:
    """The OTLP/HTTP span exporter (the `otlp` extra)."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as error:
        raise RuntimeError(
            "telemetry.traces needs the OTLP exporter: pip install 'aigw[otlp]'"
        ) from error
    return OTLPSpanExporter(endpoint=traces_url(endpoint))
