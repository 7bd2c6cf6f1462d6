"""`aigw check`'s report: one line per probe (`ok|FAIL  name  detail`), or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from gateway.checks.probe import Outcome


def format_text(outcomes: Sequence[Outcome]) -> str:
    width = max((len(outcome.name) for outcome in outcomes), default=0)
    return "".join(
        f"{'ok' if o.ok else 'FAIL':<4}  {o.name:<{width}}  {o.detail} ({o.milliseconds} ms)\n"
        for o in outcomes
    )


def format_json(outcomes: Sequence[Outcome]) -> str:
    probes = [
        {"name": o.name, "ok": o.ok, "detail": o.detail, "milliseconds": o.milliseconds}
        for o in outcomes
    ]
    return json.dumps({"ok": all(o.ok for o in outcomes), "probes": probes}, indent=2) + "\n"


def summary(outcomes: Sequence[Outcome]) -> str:
    failed = sum(not o.ok for o in outcomes)
    if not outcomes:
        return "aigw check: gateway.yaml names no backend, Redis store or database to reach"
    if failed:
        return f"aigw check: {failed} of {len(outcomes)} failed"
    return f"aigw check: all {len(outcomes)} answer"
