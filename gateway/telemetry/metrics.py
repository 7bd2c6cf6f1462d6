"""Counters that policies emit (`llm-emit-token-metric`, `emit-metric`), via OpenTelemetry.

APIM names its metrics with spaces ("Prompt Tokens" in the "API Management" namespace);
OpenTelemetry instrument names cannot have them, so a metric is named `namespace.name` in
snake case (`api_management.prompt_tokens`), which Prometheus shows as
`api_management_prompt_tokens_total`. Dimension names keep their text as attribute keys;
Prometheus turns them into labels such as `API_ID`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from prometheus_client import CollectorRegistry, generate_latest

PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@lru_cache(maxsize=1024)
def instrument_name(namespace: str, name: str) -> str:
    def snake(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")

    return f"{snake(namespace) or 'aigw'}.{snake(name) or 'metric'}"


Dimensions = tuple[tuple[str, str], ...]


class Metrics:
    """Counters summed here, per instrument and dimensions, and handed to OpenTelemetry as
    observable counters when a reader collects (a Prometheus scrape, an OTLP export).

    OpenTelemetry's synchronous `Counter.add` cost about ten microseconds a call, several
    calls a request; a dictionary update costs a fraction of one. Readers see the same
    monotonic cumulative sums either way.
    """

    def __init__(self, otlp_endpoint: str | None = None) -> None:
        self.registry = CollectorRegistry()
        readers: list[MetricReader] = [PrometheusMetricReader(registry=self.registry)]
        if otlp_endpoint:
            readers.append(_otlp_reader(otlp_endpoint))
        self.provider = MeterProvider(metric_readers=readers)
        self.meter = self.provider.get_meter("aigw")
        self._sums: dict[str, dict[Dimensions, float]] = {}

    def add(self, namespace: str, name: str, value: float, dimensions: Mapping[str, str]) -> None:
        key = instrument_name(namespace, name)
        sums = self._sums.get(key)
        if sums is None:
            sums = self._sums[key] = {}
            self.meter.create_observable_counter(
                key, callbacks=[_observer(sums)], description=f"{namespace}: {name}"
            )
        labels = tuple(sorted(dimensions.items()))
        sums[labels] = sums.get(labels, 0.0) + value

    def prometheus_text(self) -> bytes:
        return generate_latest(self.registry)

    def close(self) -> None:
        self.provider.shutdown()


def _observer(sums: dict[Dimensions, float]) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(options: CallbackOptions) -> Iterable[Observation]:
        # A copy: an OTLP export collects from its own thread while requests add.
        return [Observation(total, dict(labels)) for labels, total in list(sums.items())]

    return observe


def _otlp_reader(endpoint: str) -> MetricReader:
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    except ImportError as error:
        raise RuntimeError(
            "telemetry.otlp-endpoint needs the OTLP exporter: pip install 'aigw[otlp]'"
        ) from error
    return PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=endpoint))
