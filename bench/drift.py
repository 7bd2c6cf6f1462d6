"""How fast the server core was, before each target of a run and after the last.

Steal and other processes' share (bench/procstat.py) do not show everything that moves a
run's figures here: on this kind of virtual machine the core itself gets slower and faster
from hour to hour, and within a run, with no steal and nothing else running (a busy host
neighbour, the clock). bench/peers.py times its targets one after the other, so a target timed
while the core was slow looks worse than one timed a minute earlier. A probe (a fixed piece of
pure-Python work, pinned to the server core, its CPU time the fastest of a few tries) taken
before each target and at the end shows how far the core's speed moved over the run; the
report prints each and warns when the spread is over --max-drift.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

# The work: string formatting, a dict and a sort, a few tens of ms on this machine, in a fresh
# interpreter so nothing of the caller's state (its heap, its caches) moves it.
PROBE = """
import time
best = None
for _ in range({tries}):
    start = time.process_time()
    seen = {{}}
    for i in range(60_000):
        seen[f"key-{{i % 997}}"] = seen.get(f"key-{{i % 997}}", 0) + len(str(i * 31))
    sorted(seen.items())
    took = time.process_time() - start
    best = took if best is None else min(best, took)
print(best)
"""


def probe_seconds(core: int, tries: int = 3) -> float:
    """CPU seconds the probe's work takes on `core`: the fastest of `tries`."""
    command = ["taskset", "-c", str(core), sys.executable, "-c", PROBE.format(tries=tries)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(done.stdout)


@dataclass(frozen=True)
class Drift:
    """The probe's time at each point of a run: (label, seconds), in order."""

    probes: tuple[tuple[str, float], ...]

    @property
    def spread(self) -> float:
        """How much slower the slowest probe was than the fastest (0.04: 4 %)."""
        times = [seconds for _, seconds in self.probes]
        return max(times) / min(times) - 1 if times and min(times) > 0 else 0.0

    def describe(self) -> str:
        points = ", ".join(f"{label} {seconds * 1000:.1f}" for label, seconds in self.probes)
        return (
            f"the server core's speed: a fixed probe took (ms) {points}; spread {self.spread:.1%}"
        )

    def then(self, label: str, seconds: float) -> Drift:
        return Drift((*self.probes, (label, seconds)))
