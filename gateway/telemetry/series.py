"""Counters, histograms and gauges kept as plain dictionaries; snapshots, merged and rendered.

A request updates a dictionary entry (a counter) or one bucket found by `bisect` (a
histogram): the cheapest bookkeeping there is, and exact. A snapshot is plain JSON, so one
worker can hand its series to another (gateway.proxy.fleet); `merge` adds the workers'
counters and histograms and takes the highest of their gauges; `prometheus_text` renders
a snapshot, merged or not, in Prometheus' text format.

Names are OpenTelemetry's (`gen_ai.client.token.usage`); Prometheus shows them as the
OpenTelemetry Prometheus exporter does: dots become underscores, a counter ends in `_total`,
a histogram in seconds in `_seconds`, and a label's characters other than letters, digits
and `_` become `_` (`API ID` -> `API_ID`, `gen_ai.request.model` -> `gen_ai_request_model`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

Labels = tuple[str, ...]  # a series' label values, in its instrument's key order
Snapshot = dict[str, Any]  # {"counters": {...}, "histograms": {...}, "gauges": {...}}


@dataclass(frozen=True, slots=True)
class Instrument:
    name: str  # OpenTelemetry's name
    unit: str  # "s", "{token}", "{request}", "1"
    description: str
    keys: tuple[str, ...]  # label keys, in the order a series' values come


class Counter:
    """Sums by label values."""

    __slots__ = ("instrument", "series")

    def __init__(self, instrument: Instrument) -> None:
        self.instrument = instrument
        self.series: dict[Labels, float] = {}

    def add(self, labels: Labels, value: float = 1) -> None:
        series = self.series
        series[labels] = series.get(labels, 0) + value


class Histogram:
    """Counts by bucket (the first bound a value is at most; the last bucket is +Inf), and
    the sum of the values, by label values: `[bucket counts..., +Inf count, sum]`."""

    __slots__ = ("bounds", "instrument", "series", "width")

    def __init__(self, instrument: Instrument, bounds: Sequence[float]) -> None:
        self.instrument = instrument
        self.bounds = tuple(bounds)
        self.width = len(self.bounds) + 2
        self.series: dict[Labels, list[float]] = {}

    def observe(self, labels: Labels, value: float) -> None:
        counts = self.series.get(labels)
        if counts is None:
            counts = self.series[labels] = [0] * self.width
        counts[bisect_left(self.bounds, value)] += 1
        counts[-1] += value


# A gauge is read when a snapshot is taken: its callback gives the value of each series.
GaugeReader = Callable[[], dict[Labels, float]]


class Series:
    """One process's instruments, by name."""

    def __init__(self) -> None:
        self.counters: dict[str, Counter] = {}
        self.histograms: dict[str, Histogram] = {}
        self.gauges: dict[str, tuple[Instrument, GaugeReader]] = {}

    def counter(self, instrument: Instrument) -> Counter:
        """The counter of that name (made once: a reload's new parts keep counting on)."""
        found = self.counters.get(instrument.name)
        if found is None:
            found = self.counters[instrument.name] = Counter(instrument)
        return found

    def histogram(self, instrument: Instrument, bounds: Sequence[float]) -> Histogram:
        found = self.histograms.get(instrument.name)
        if found is None:
            found = self.histograms[instrument.name] = Histogram(instrument, bounds)
        return found

    def gauge(self, instrument: Instrument, read: GaugeReader) -> None:
        """Read `read` at each snapshot (a later registration of the name replaces it)."""
        self.gauges[instrument.name] = (instrument, read)

    def snapshot(self) -> Snapshot:
        """Every series as JSON: `[labels, value]` (counters, gauges) or
        `[labels, bucket counts, sum]` (histograms), labels as an object."""
        counters = {
            name: {**_described(c.instrument), "series": _pairs(c.instrument.keys, c.series)}
            for name, c in self.counters.items()
        }
        histograms = {
            name: {
                **_described(h.instrument),
                "bounds": list(h.bounds),
                "series": [
                    [dict(zip(h.instrument.keys, labels, strict=True)), counts[:-1], counts[-1]]
                    for labels, counts in list(h.series.items())
                ],
            }
            for name, h in self.histograms.items()
        }
        gauges = {
            name: {**_described(instrument), "series": _pairs(instrument.keys, read())}
            for name, (instrument, read) in self.gauges.items()
        }
        return {"counters": counters, "histograms": histograms, "gauges": gauges}


def _described(instrument: Instrument) -> dict[str, str]:
    return {"unit": instrument.unit, "description": instrument.description}


def _pairs(keys: tuple[str, ...], series: dict[Labels, float]) -> list[list[Any]]:
    # A copy first: an OTLP export reads from its own thread while requests add.
    return [[dict(zip(keys, labels, strict=True)), value] for labels, value in list(series.items())]


def merge(snapshots: Iterable[Snapshot]) -> Snapshot:
    """The group's series: counters and histograms added up, gauges at their highest."""
    merged: Snapshot = {"counters": {}, "histograms": {}, "gauges": {}}
    for snapshot in snapshots:
        for kind in ("counters", "gauges"):
            for name, metric in snapshot.get(kind, {}).items():
                into = merged[kind].setdefault(name, {**metric, "series": {}})
                add = max if kind == "gauges" else _plus
                for labels, value in metric["series"]:
                    key = _key(labels)
                    known = into["series"].get(key)
                    into["series"][key] = value if known is None else add(known, value)
        for name, metric in snapshot.get("histograms", {}).items():
            into = merged["histograms"].setdefault(name, {**metric, "series": {}})
            if into["bounds"] != metric["bounds"]:  # a reload changed them: skip, never mix
                continue
            for labels, counts, total in metric["series"]:
                key = _key(labels)
                known = into["series"].get(key)
                if known is None:
                    into["series"][key] = [list(counts), total]
                else:
                    known[0] = [a + b for a, b in zip(known[0], counts, strict=True)]
                    known[1] += total
    for kind in ("counters", "gauges"):
        for metric in merged[kind].values():
            metric["series"] = [[dict(k), v] for k, v in metric["series"].items()]
    for metric in merged["histograms"].values():
        metric["series"] = [[dict(k), c, t] for k, (c, t) in metric["series"].items()]
    return merged


def _plus(a: float, b: float) -> float:
    return a + b


def _key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def prometheus_text(snapshot: Snapshot) -> bytes:
    registry = CollectorRegistry()
    registry.register(_Rendered(snapshot))
    return generate_latest(registry)


def prometheus_name(name: str, unit: str = "") -> str:
    """The name Prometheus shows for an instrument (without a counter's `_total`)."""
    base = _INVALID_NAME.sub("_", name)
    suffix = _UNIT_SUFFIXES.get(unit, "")
    return base + suffix if suffix and not base.endswith(suffix) else base


def label_name(key: str) -> str:
    return _INVALID_LABEL.sub("_", key)


_INVALID_NAME = re.compile(r"[^a-zA-Z0-9_:]")
_INVALID_LABEL = re.compile(r"[^a-zA-Z0-9_]")
_UNIT_SUFFIXES = {"s": "_seconds", "ms": "_milliseconds", "By": "_bytes"}


class _Rendered(Collector):
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        for name, metric in sorted(self.snapshot["counters"].items()):
            base = prometheus_name(name, metric["unit"])
            family = Metric(base, metric["description"], "counter")
            for labels, value in metric["series"]:
                family.add_sample(base + "_total", _labels(labels), value)
            yield family
        for name, metric in sorted(self.snapshot["gauges"].items()):
            base = prometheus_name(name, metric["unit"])
            family = Metric(base, metric["description"], "gauge")
            for labels, value in metric["series"]:
                family.add_sample(base, _labels(labels), value)
            yield family
        for name, metric in sorted(self.snapshot["histograms"].items()):
            base = prometheus_name(name, metric["unit"])
            family = Metric(base, metric["description"], "histogram")
            bounds = [*map(_bound, metric["bounds"]), "+Inf"]
            for labels, counts, total in metric["series"]:
                named = _labels(labels)
                cumulative = 0.0
                for bound, count in zip(bounds, counts, strict=True):
                    cumulative += count
                    family.add_sample(base + "_bucket", {**named, "le": bound}, cumulative)
                family.add_sample(base + "_count", named, cumulative)
                family.add_sample(base + "_sum", named, total)
            yield family


def _labels(labels: dict[str, str]) -> dict[str, str]:
    return {label_name(key): str(value) for key, value in labels.items()}


def _bound(bound: float) -> str:
    return repr(float(bound))
