"""One process's metrics: the gateway's own (gateway.telemetry.builtin) and the counters
that policies emit (`llm-emit-token-metric`, `emit-metric`), in plain dictionaries.

APIM names its metrics with spaces ("Prompt Tokens" in the "API Management" namespace);
OpenTelemetry instrument names cannot have them, so a policy's metric is named
`namespace.name` in snake case (`api_management.prompt_tokens`), which Prometheus shows as
`api_management_prompt_tokens_total`. Dimension names keep their text as attribute keys;
Prometheus turns them into labels such as `API_ID`.

The admin listener's `/metrics` renders the sum of every worker's `snapshot()`
(gateway.proxy.admin); OTLP export, when set, sends each worker's own series
(gateway.telemetry.otlp_metrics).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from gateway.telemetry.series import (
    PROMETHEUS_CONTENT_TYPE,
    Counter,
    GaugeReader,
    Histogram,
    Instrument,
    Series,
    Snapshot,
    prometheus_text,
)

if TYPE_CHECKING:  # OpenTelemetry is imported only when metrics are pushed over OTLP
    from gateway.telemetry.otlp_metrics import OtlpExport

__all__ = ["PROMETHEUS_CONTENT_TYPE", "Metrics", "instrument_name"]


@lru_cache(maxsize=1024)
def instrument_name(namespace: str, name: str) -> str:
    def snake(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")

    return f"{snake(namespace) or 'aigw'}.{snake(name) or 'metric'}"


Dimensions = tuple[tuple[str, str], ...]


class Metrics:
    """Counters summed here, per instrument and dimensions; histograms counted by bucket.

    OpenTelemetry's synchronous `Counter.add` cost about ten microseconds a call, several
    calls a request; a dictionary update costs a fraction of one. Readers see the same
    monotonic cumulative sums either way. Made once per process (server.py), so a reload's
    new parts count on in the same series.
    """

    def __init__(self, otlp_endpoint: str | None = None) -> None:
        self.series = Series()
        self.export: OtlpExport | None = None
        if otlp_endpoint:
            # Here, not at the top: only a gateway that pushes over OTLP imports OpenTelemetry.
            from gateway.telemetry.otlp_metrics import OtlpExport

            self.export = OtlpExport(otlp_endpoint)
        self._sums: dict[str, dict[Dimensions, float]] = {}
        self._descriptions: dict[str, str] = {}

    def add(self, namespace: str, name: str, value: float, dimensions: Mapping[str, str]) -> None:
        key = instrument_name(namespace, name)
        sums = self._sums.get(key)
        if sums is None:
            sums = self._sums[key] = {}
            self._descriptions[key] = description = f"{namespace}: {name}"
            if self.export is not None:
                self.export.sums(key, description, sums)
        labels = tuple(sorted(dimensions.items()))
        sums[labels] = sums.get(labels, 0.0) + value

    def counter(self, instrument: Instrument) -> Counter:
        known = self.series.counters.get(instrument.name)
        if known is not None:
            return known
        counter = self.series.counter(instrument)
        if self.export is not None:
            self.export.counter(counter)
        return counter

    def histogram(self, instrument: Instrument, bounds: Sequence[float]) -> Histogram:
        known = self.series.histograms.get(instrument.name)
        if known is not None:
            return known
        histogram = Histogram(instrument, bounds)
        if self.export is not None:
            histogram = self.export.histogram(histogram)
        self.series.histograms[instrument.name] = histogram
        return histogram

    def gauge(self, instrument: Instrument, read: GaugeReader) -> None:
        """Read `read` at each scrape; a reload's registration replaces the one before."""
        first = instrument.name not in self.series.gauges
        self.series.gauge(instrument, read)
        if first and self.export is not None:
            gauges = self.series.gauges
            self.export.gauge(instrument, lambda: gauges[instrument.name][1]())

    def requests_served(self) -> int:
        """The requests this process has counted (`aigw.requests`, gateway.telemetry.builtin)."""
        counter = self.series.counters.get("aigw.requests")
        return int(sum(list(counter.series.values()))) if counter is not None else 0

    def snapshot(self) -> Snapshot:
        """This process's series as JSON (gateway.telemetry.series), policies' counters too."""
        snapshot = self.series.snapshot()
        counters = snapshot["counters"]
        for name, sums in list(self._sums.items()):
            if name in counters:  # a policy named one of the gateway's own: the gateway's wins
                continue
            counters[name] = {
                "unit": "",
                "description": self._descriptions[name],
                "series": [[dict(labels), total] for labels, total in list(sums.items())],
            }
        return snapshot

    def prometheus_text(self) -> bytes:
        """This process's series alone, in Prometheus' text format."""
        return prometheus_text(self.snapshot())

    def close(self) -> None:
        if self.export is not None:
            self.export.close()
