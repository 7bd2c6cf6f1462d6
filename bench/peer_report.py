"""bench/peers.py's report: one Markdown table, each peer's ratio to ours, the targets.

Ratios are each figure divided by the governed chain's: 0.25x req/s is a quarter of ours, 4x
CPU ms/req four times ours. A target that failed its checks (or fell over while measured) has
a row saying why and no figures; a target that needs its figures reads "not measured".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from drift import Drift
from procstat import Noise

OURS = "governed"
NO_PROBES = Drift(())  # a report from figures alone (the tests' own)


@dataclass(frozen=True)
class Measured:
    added_p50_ms: float  # p50 at one connection minus nginx direct's
    rate: float  # requests/s at 32 connections
    streams: float  # streams/s at 16 connections
    first_byte_ms: float  # a stream's time to first byte, p50 at one connection
    slow_rate: float  # requests/s at 32 connections, the upstream 50 ms late
    cpu_ms: float  # the target's CPU per request over the 32-connection run
    rss_mb: float  # the target's resident memory after its runs


@dataclass(frozen=True)
class Outcome:
    key: str  # peer_targets.Peer.key
    name: str
    measured: Measured | None
    failure: str | None = None  # why it was not timed


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[Measured], float]
    digits: int  # after the point


COLUMNS = (
    Column("added p50 ms (c=1)", lambda m: m.added_p50_ms, 3),
    Column("req/s (c=32)", lambda m: m.rate, 0),
    Column("streams/s (c=16)", lambda m: m.streams, 0),
    Column("stream TTFB p50 ms", lambda m: m.first_byte_ms, 3),
    Column("req/s, 50 ms upstream (c=32)", lambda m: m.slow_rate, 0),
    Column("CPU ms/req", lambda m: m.cpu_ms, 3),
    Column("RSS MB", lambda m: m.rss_mb, 0),
)


def cell(value: float, digits: int, ours: float | None) -> str:
    text = f"{value:,.{digits}f}"
    if ours is None:
        return text
    return f"{text} ({value / ours:.2f}x)" if ours else f"{text} (n/a)"


def table(outcomes: list[Outcome]) -> list[str]:
    base = next((o.measured for o in outcomes if o.key == OURS), None)
    lines = [
        "| target | " + " | ".join(column.title for column in COLUMNS) + " |",
        "| --- |" + " ---: |" * len(COLUMNS),
    ]
    for outcome in outcomes:
        measured = outcome.measured
        if measured is None:
            cells = [f"not timed: {outcome.failure}", *[""] * (len(COLUMNS) - 1)]
        else:
            cells = [
                cell(
                    column.value(measured),
                    column.digits,
                    None if base is None or outcome.key == OURS else column.value(base),
                )
                for column in COLUMNS
            ]
        lines.append(f"| {outcome.name} | " + " | ".join(cells) + " |")
    return lines


@dataclass(frozen=True)
class Target:
    """governed / other or a / other's figure held to a bound: at least or at most."""

    text: str
    subject: str  # the outcome key whose figure is judged
    other: str  # the outcome key it is compared with
    value: Callable[[Measured], float]
    bound: float  # the ratio subject / other must reach (at_least) or stay under
    at_least: bool


TARGETS = (
    Target("governed req/s >= 4x Portkey's", OURS, "portkey", lambda m: m.rate, 4.0, True),
    Target(
        "governed CPU ms/req <= 1/4 of Portkey's", OURS, "portkey", lambda m: m.cpu_ms, 0.25, False
    ),
    Target(
        "governed CPU ms/req <= 1.25x the bare forwarder's",
        OURS,
        "bare",
        lambda m: m.cpu_ms,
        1.25,
        False,
    ),
    Target("governed streams/s >= 4x Portkey's", OURS, "portkey", lambda m: m.streams, 4.0, True),
    Target(
        "pass-through req/s within 10 % of the bare forwarder's",
        "passthrough",
        "bare",
        lambda m: m.rate,
        0.90,
        True,
    ),
    Target(
        "pass-through streams/s within 15 % of the bare forwarder's",
        "passthrough",
        "bare",
        lambda m: m.streams,
        0.85,
        True,
    ),
)


def verdicts(outcomes: list[Outcome]) -> list[tuple[str, bool | None]]:
    """Each target's line and whether it is met (None: a figure it needs is missing)."""
    by = {outcome.key: outcome.measured for outcome in outcomes}
    found: list[tuple[str, bool | None]] = []
    for target in TARGETS:
        subject, other = by.get(target.subject), by.get(target.other)
        if subject is None or other is None or not target.value(other):
            found.append((f"{target.text}: not measured", None))
            continue
        ratio = target.value(subject) / target.value(other)
        met = ratio >= target.bound if target.at_least else ratio <= target.bound
        sign = ">=" if target.at_least else "<="
        found.append((f"{target.text}: {ratio:.2f}x (target {sign} {target.bound:g}x)", met))
    return found


def flagged(line: str, over: str | None, limit: str) -> tuple[list[str], list[str]]:
    """(the warning that heads the table when a measure is `over` its limit, the line under
    it saying the measure; under the limit, only the line, with the limit it is under)."""
    if over is None:
        return [], [f"{line} (under {limit})"]
    return [over, ""], [line]


def noise_lines(noise: Noise, max_noise: float) -> tuple[list[str], list[str]]:
    """(the warning that heads the table when the run was noisy, the noise line under it)."""
    limit = f"--max-noise {max_noise:.0%}"
    over = (
        f"> **WARNING: a noisy run.** Other processes or the hypervisor took up to"
        f" {noise.worst:.0%} of a core (over {limit}): the figures are not to be quoted;"
        " rerun on a quiet machine."
    )
    line = f"noise during the measurements: {noise.describe()}"
    return flagged(line, over if noise.worst > max_noise else None, limit)


def drift_lines(drift: Drift, max_drift: float) -> tuple[list[str], list[str]]:
    """(the warning that heads the table when the core's speed moved, the line under it)."""
    if not drift.probes:
        return [], []
    limit = f"--max-drift {max_drift:.0%}"
    over = (
        f"> **WARNING: the server core's speed moved by {drift.spread:.0%} during the run**"
        f" (over {limit}): targets timed at different speeds; ratios between them are off by"
        " up to as much. Rerun in a steadier hour."
    )
    return flagged(drift.describe(), over if drift.spread > max_drift else None, limit)


def render(
    outcomes: list[Outcome],
    noise: Noise,
    max_noise: float,
    direct_p50_ms: float,
    drift: Drift = NO_PROBES,
    max_drift: float = 0.05,
) -> list[str]:
    """The whole report: warnings, table, what the columns mean, targets, noise, drift."""
    warning, noise_line = noise_lines(noise, max_noise)
    moved, drift_line = drift_lines(drift, max_drift)
    lines = [*warning, *moved, *table(outcomes), ""]
    lines.append(
        f"Ratios: each figure / ours, governed. added p50: over nginx direct's {direct_p50_ms:.3f}"
        " ms. CPU ms/req: the target's processes' user + system time over the c=32 run divided"
        " by the requests; RSS: its processes' resident memory after the runs. Each target ran"
        " alone, one worker pinned to core 0, wrk (and this script) on core 1."
    )
    lines.append("")
    for text, met in verdicts(outcomes):
        word = {True: "MET", False: "MISSED", None: "NOT MEASURED"}[met]
        lines.append(f"- {word}: {text}")
    lines.extend(f"- NOTE: {line}" for line in [*noise_line, *drift_line])
    return lines
