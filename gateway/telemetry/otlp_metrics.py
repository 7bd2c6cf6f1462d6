"""The same metrics pushed over OTLP, when gateway.yaml's `telemetry.otlp-endpoint` is set.

Counters and gauges are read from the in-process series when the exporter collects
(observable instruments: nothing per request); histograms are recorded into OpenTelemetry
histograms too, with the same bucket bounds, which costs an OpenTelemetry call per
observation, so only a gateway that exports pays it. Each worker exports its own series
under its own `service.instance.id`; the collector adds them up.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable

from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.sdk.resources import Resource

from gateway.telemetry.series import Counter, GaugeReader, Histogram, Instrument, Labels


class OtlpExport:
    def __init__(self, endpoint: str) -> None:
        resource = Resource.create(
            {
                "service.name": "aigw",
                "service.instance.id": f"{socket.gethostname()}:{os.getpid()}",
            }
        )
        self.provider = MeterProvider(metric_readers=[_reader(endpoint)], resource=resource)
        self.meter: Meter = self.provider.get_meter("aigw")

    def counter(self, counter: Counter) -> None:
        instrument = counter.instrument
        self.meter.create_observable_counter(
            instrument.name,
            callbacks=[_observer(instrument.keys, lambda: counter.series)],
            unit=instrument.unit,
            description=instrument.description,
        )

    def sums(
        self, name: str, description: str, sums: dict[tuple[tuple[str, str], ...], float]
    ) -> None:
        """A policy's counter, its series labelled by (key, value) pairs."""

        def observe(options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(total, dict(labels)) for labels, total in list(sums.items())]

        self.meter.create_observable_counter(name, callbacks=[observe], description=description)

    def gauge(self, instrument: Instrument, read: GaugeReader) -> None:
        self.meter.create_observable_gauge(
            instrument.name,
            callbacks=[_observer(instrument.keys, read)],
            unit=instrument.unit,
            description=instrument.description,
        )

    def histogram(self, histogram: Histogram) -> Histogram:
        """`histogram`, its observations recorded into OpenTelemetry's as well."""
        instrument = histogram.instrument
        mirror = self.meter.create_histogram(
            instrument.name,
            unit=instrument.unit,
            description=instrument.description,
            explicit_bucket_boundaries_advisory=histogram.bounds,
        )
        return _Mirrored(histogram, mirror.record)

    def close(self) -> None:
        self.provider.shutdown()


class _Mirrored(Histogram):
    __slots__ = ("record",)

    def __init__(self, histogram: Histogram, record: Callable[..., None]) -> None:
        super().__init__(histogram.instrument, histogram.bounds)
        self.series = histogram.series
        self.record = record

    def observe(self, labels: Labels, value: float) -> None:
        super().observe(labels, value)
        self.record(value, dict(zip(self.instrument.keys, labels, strict=True)))


def _observer(
    keys: tuple[str, ...], read: Callable[[], dict[Labels, float]]
) -> Callable[[CallbackOptions], Iterable[Observation]]:
    def observe(options: CallbackOptions) -> Iterable[Observation]:
        # A copy: the exporter collects from its own thread while requests add.
        return [
            Observation(value, dict(zip(keys, labels, strict=True)))
            for labels, value in list(read().items())
        ]

    return observe


def _reader(endpoint: str) -> MetricReader:
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    except ImportError as error:
        raise RuntimeError(
            "telemetry.otlp-endpoint needs the OTLP exporter: pip install 'aigw[otlp]'"
        ) from error
    return PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=metrics_url(endpoint)))


def metrics_url(endpoint: str) -> str:
    """The URL metrics go to: `telemetry.otlp-endpoint` is the collector's base URL (traces go
    there too), so `/v1/metrics` is added unless it is there already."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1/metrics") else base + "/v1/metrics"
