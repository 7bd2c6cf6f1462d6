"""Counters that policies emit (`llm-emit-token-metric`, `emit-metric`), via OpenTelemetry.

APIM names its metrics with spaces ("Prompt Tokens" in the "API Management" namespace);
OpenTelemetry instrument names cannot have them, so a metric is named `namespace.name` in
snake case (`api_management.prompt_tokens`), which Prometheus shows as
`api_management_prompt_tokens_total`. Dimension names keep their text as attribute keys;
Prometheus turns them into labels such as `API_ID`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import Counter, MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from prometheus_client import CollectorRegistry, generate_latest

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def instrument_name(namespace: str, name: str) -> str:
    def snake(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")

    return f"{snake(namespace) or 'aigw'}.{snake(name) or 'metric'}"


class Metrics:
    def __init__(self, otlp_endpoint: str | None = None) -> None:
        self.registry = CollectorRegistry()
        readers: list[MetricReader] = [PrometheusMetricReader(registry=self.registry)]
        if otlp_endpoint:
            readers.append(_otlp_reader(otlp_endpoint))
        self.provider = MeterProvider(metric_readers=readers)
        self.meter = self.provider.get_meter("aigw")
        self._counters: dict[str, Counter] = {}

    def add(self, namespace: str, name: str, value: float, dimensions: Mapping[str, str]) -> None:
        key = instrument_name(namespace, name)
        counter = self._counters.get(key)
        if counter is None:
            counter = self.meter.create_counter(key, description=f"{namespace}: {name}")
            self._counters[key] = counter
        counter.add(value, dict(dimensions))

    def prometheus_text(self) -> bytes:
        return generate_latest(self.registry)

    def close(self) -> None:
        self.provider.shutdown()


def _otlp_reader(endpoint: str) -> MetricReader:
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    except ImportError as error:
        raise RuntimeError(
            "telemetry.otlp-endpoint needs the OTLP exporter: pip install 'aigw[otlp]'"
        ) from error
    return PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=endpoint))
