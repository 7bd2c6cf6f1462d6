"""bench/drift.py: the server core's speed, probed for real, and the spread over a run."""

from __future__ import annotations

import drift
from drift import Drift


def test_the_probe_times_its_work_on_the_core_it_is_given() -> None:
    seconds = drift.probe_seconds(0, tries=2)
    assert 0.001 < seconds < 2.0  # a few tens of ms here; a broken probe prints nothing or 0


def test_the_spread_is_the_slowest_over_the_fastest() -> None:
    run = Drift(()).then("portkey", 0.020).then("governed", 0.022).then("end", 0.021)
    assert [label for label, _ in run.probes] == ["portkey", "governed", "end"]
    assert abs(run.spread - 0.10) < 1e-9
    assert Drift(()).spread == 0.0
