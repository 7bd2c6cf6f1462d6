"""Reading one series out of the Prometheus text the admin listener serves at /metrics."""

from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, metric: str, **labels: str) -> float:
    """The value of one series in Prometheus text, found by name and some of its labels."""
    for line in text.splitlines():
        if not line.startswith(metric + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {metric} with {labels} in:\n{text}")


def samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    """Every sample named `name` (a histogram's `x_count`, a counter's `x_total`, ...)."""
    return [
        (dict(each.labels), each.value)
        for family in text_string_to_metric_families(text)
        for each in family.samples
        if each.name == name
    ]


def total(text: str, name: str, **labels: str) -> float:
    """The sum of the samples named `name` that carry these labels (0 when there are none)."""
    return sum(
        value
        for found, value in samples(text, name)
        if all(found.get(key) == wanted for key, wanted in labels.items())
    )


def names(text: str) -> set[str]:
    """Every metric family's name, as PromQL knows its series (`x_total`, `x_bucket`, ...)."""
    return {each.name for family in text_string_to_metric_families(text) for each in family.samples}
