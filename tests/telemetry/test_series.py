"""Series kept in dictionaries: bucketed, snapshotted as JSON, merged over workers, rendered."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families

from gateway.telemetry.builtin import Models, status_class
from gateway.telemetry.metrics import Metrics
from gateway.telemetry.series import Instrument, merge, prometheus_text

LATENCY = Instrument("aigw.upstream.duration", "s", "One attempt.", ("member",))
CALLS = Instrument("aigw.upstream.attempts", "{attempt}", "Attempts.", ("member", "outcome"))
OPEN = Instrument("aigw.breaker.state", "1", "Open?", ("backend",))


def worker(latencies: list[float], calls: int, is_open: float) -> dict[str, object]:
    """One worker's snapshot, as it travels between workers (JSON)."""
    metrics = Metrics()
    histogram = metrics.histogram(LATENCY, (0.1, 1.0))
    for value in latencies:
        histogram.observe(("east",), value)
    metrics.counter(CALLS).add(("east", "200"), calls)
    metrics.gauge(OPEN, lambda: {("east",): is_open})
    metrics.add("llm", "Prompt Tokens", 5, {"API ID": "chat"})
    return json.loads(json.dumps(metrics.snapshot()))


def families(text: bytes) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text.decode()):
        for each in family.samples:
            found.setdefault(each.name, {})[tuple(sorted(each.labels.items()))] = each.value
    return found


def test_a_value_counts_in_the_first_bucket_it_is_at_most() -> None:
    histogram = Metrics().histogram(LATENCY, (0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 1.0, 3.0):
        histogram.observe(("east",), value)
    assert histogram.series[("east",)] == [2, 2, 1, 0.05 + 0.1 + 0.5 + 1.0 + 3.0]


def test_workers_snapshots_add_up_and_gauges_take_the_highest() -> None:
    merged = merge([worker([0.05, 2.0], 3, 0.0), worker([0.5], 4, 1.0), worker([], 0, 0.0)])
    rendered = families(prometheus_text(merged))
    east = (("member", "east"),)
    assert rendered["aigw_upstream_duration_seconds_bucket"][(("le", "0.1"), *east)] == 1
    assert rendered["aigw_upstream_duration_seconds_bucket"][(("le", "1.0"), *east)] == 2
    assert rendered["aigw_upstream_duration_seconds_bucket"][(("le", "+Inf"), *east)] == 3
    assert rendered["aigw_upstream_duration_seconds_count"][east] == 3
    assert rendered["aigw_upstream_duration_seconds_sum"][east] == 2.55
    assert rendered["aigw_upstream_attempts_total"][(*east, ("outcome", "200"))] == 7
    assert rendered["aigw_breaker_state"][(("backend", "east"),)] == 1
    # A policy's counter: its dimension names become Prometheus labels.
    assert rendered["llm_prompt_tokens_total"][(("API_ID", "chat"),)] == 15


def test_a_reload_keeps_counting_in_the_same_series() -> None:
    metrics = Metrics()
    metrics.counter(CALLS).add(("east", "200"))
    metrics.counter(CALLS).add(("east", "200"))  # the reloaded gateway asks for it again
    assert metrics.requests_served() == 0
    assert metrics.snapshot()["counters"]["aigw.upstream.attempts"]["series"] == [
        [{"member": "east", "outcome": "200"}, 2]
    ]


def test_model_labels_are_bounded_to_known_models() -> None:
    models = Models(["gpt-4o", "gpt-4o-mini", "m"])
    assert models.label("gpt-4o") == "gpt-4o"
    assert models.label("gpt-4o-2024-08-06") == "gpt-4o"  # a dated version: its row's name
    assert models.label("GPT-4o-mini-2024-07-18") == "gpt-4o-mini"  # the longest that fits
    assert models.label("openai/gpt-4o") == "gpt-4o"
    assert models.label("anything-a-client-names") == "other"
    for index in range(2 * Models.MAX):  # many names: still bounded memory
        assert models.label(f"x{index}") == "other"
    assert len(models.labels) <= Models.MAX


def test_status_classes() -> None:
    assert [status_class(s) for s in (101, 200, 304, 429, 503, 0, 999)] == [
        "1xx",
        "2xx",
        "3xx",
        "4xx",
        "5xx",
        "other",
        "other",
    ]
