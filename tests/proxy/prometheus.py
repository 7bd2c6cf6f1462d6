"""Reading one series out of the Prometheus text the admin listener serves at /metrics."""

from __future__ import annotations

import re


def sample(text: str, metric: str, **labels: str) -> float:
    """The value of one series in Prometheus text, found by name and some of its labels."""
    for line in text.splitlines():
        if not line.startswith(metric + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {metric} with {labels} in:\n{text}")
