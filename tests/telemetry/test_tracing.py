"""The tracer's pieces that need no gateway: where spans go, which client contexts count,
the sampler's decisions, the headers a backend call carries."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.telemetry.tracing import Tracing, traces_url


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("http://collector:4318", "http://collector:4318/v1/traces"),
        ("http://collector:4318/", "http://collector:4318/v1/traces"),
        ("http://collector:4318/v1/metrics", "http://collector:4318/v1/traces"),
        ("https://otel.example/tenant/v1/traces", "https://otel.example/tenant/v1/traces"),
        ("https://otel.example/tenant", "https://otel.example/tenant/v1/traces"),
    ],
)
def test_an_endpoint_becomes_its_traces_url(endpoint: str, url: str) -> None:
    assert traces_url(endpoint) == url


def tracing(sampling: float) -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    return Tracing(sampling, exporter, batch=False), exporter


def test_the_clients_sampled_flag_decides_whatever_the_ratio() -> None:
    never, _ = tracing(0.000001)
    sampled = never.start_request("GET", {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})
    assert sampled.is_recording()
    always, _ = tracing(1.0)
    unsampled = always.start_request(
        "GET", {"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-00"}
    )
    assert not unsampled.is_recording()


def test_a_ratio_samples_about_that_share_of_new_traces() -> None:
    some, _ = tracing(0.1)
    spans = [some.start_request("GET", {}) for _ in range(4000)]
    recorded = [span for span in spans if span is not None]
    assert 300 < len(recorded) < 500
    # Those it keeps, the SDK's own sampler keeps too: the same trace-id ratio rule.
    assert all(span.is_recording() for span in recorded)


def test_a_child_span_is_what_the_backend_sees_as_its_parent() -> None:
    traced, exporter = tracing(1.0)
    request = traced.start_request("POST", {})
    assert request is not None
    attempt = traced.start_child("chat gpt-4o", request, {"aigw.member": "east"})
    headers = dict(traced.headers(attempt))
    context = attempt.get_span_context()
    # (Flags: sampled, and, for ids the SDK made, W3C level 2's "random" bit.)
    flags = f"{int(context.trace_flags):02x}"
    assert headers["traceparent"] == f"00-{context.trace_id:032x}-{context.span_id:016x}-{flags}"
    assert int(flags, 16) & 1
    attempt.end()
    request.end()
    ended = exporter.get_finished_spans()
    assert [span.name for span in ended] == ["chat gpt-4o", "POST"]
    assert ended[0].parent.span_id == request.get_span_context().span_id
