"""bench/soak.py's verdict: the gateway's process tree read from /proc, what became of each
request, the samples, whether RSS stayed flat and the descriptors steady, and the report."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import procstat
from latency import BenchError

FLAT_TOLERANCE = 0.05
FD_TOLERANCE = 16  # descriptors the last sample may hold beyond the first after the warm-up
RSS_CEILING_KB = 100 * 1024

# What became of a request.
OK = "2xx"
LIMITED = "429 from the rate limit (expected)"
BROKEN_STREAM = "stream without [DONE]"
BAD_BODY = "2xx not a chat completion"
CONNECTION = "connection error"
TIMEOUT = "timeout"
NOT_ERRORS = (OK, LIMITED)


def vm_rss_kb(status: str) -> int:
    """VmRSS in kB from the text of /proc/<pid>/status (0 when absent: a zombie)."""
    found = re.search(r"^VmRSS:\s+(\d+)\s+kB", status, re.MULTILINE)
    return int(found.group(1)) if found else 0


@dataclass(frozen=True)
class Usage:
    rss_kb: int
    fds: int


def tree_usage(pid: int) -> Usage:
    """RSS and open file descriptors of `pid` and its descendants (a process gone is skipped)."""
    rss = fds = 0
    for proc in procstat.tree(pid, procstat.all_processes()):
        try:
            rss += vm_rss_kb(Path(f"/proc/{proc}/status").read_text())
            fds += len(os.listdir(f"/proc/{proc}/fd"))
        except (FileNotFoundError, ProcessLookupError):
            continue
    return Usage(rss, fds)


def classify(status: int, body: bytes, streamed: bool, greedy: bool) -> str:
    """The kind of a response: OK, LIMITED, or an error kind."""
    if status == 429 and greedy:
        return LIMITED
    if not 200 <= status < 300:
        return f"status {status // 100}xx"
    if streamed:
        return OK if body.rstrip().endswith(b"data: [DONE]") else BROKEN_STREAM
    return OK if b'"chat.completion"' in body else BAD_BODY


@dataclass(frozen=True)
class Sample:
    seconds: float  # since the load started
    rss_kb: int
    fds: int
    kinds: dict[str, int]  # requests so far by kind

    @property
    def requests(self) -> int:
        return sum(self.kinds.values())

    @property
    def errors(self) -> int:
        return sum(n for kind, n in self.kinds.items() if kind not in NOT_ERRORS)


@dataclass(frozen=True)
class Verdict:
    start: Sample  # the first sample after the warm-up
    end: Sample
    peak_rss_kb: int  # the most of any sample from `start` on
    peak_fds: int
    growth: float  # (peak - start) / start
    flat: bool
    under_ceiling: bool
    clean: bool  # no request failed but the expected 429s
    steady_fds: bool = True  # the last sample holds at most FD_TOLERANCE more than the first

    @property
    def passed(self) -> bool:
        """What the exit status says: the ceiling is reported, not held to (the semantic
        cache's embedder takes a worker past it; docs/sizing.md)."""
        return self.flat and self.clean and self.steady_fds


def judge(
    samples: list[Sample],
    warmup: float,
    tolerance: float = FLAT_TOLERANCE,
    ceiling_kb: int = RSS_CEILING_KB,
) -> Verdict:
    """Flat when no sample from the first after `warmup` on exceeds it by more than `tolerance`."""
    measured = [sample for sample in samples if sample.seconds >= warmup]
    if not measured:
        raise BenchError(f"no sample after the {warmup:g} s warm-up: run longer")
    start, end = measured[0], samples[-1]
    peak = max(sample.rss_kb for sample in measured)
    growth = (peak - start.rss_kb) / start.rss_kb if start.rss_kb else 0.0
    return Verdict(
        start,
        end,
        peak,
        max(sample.fds for sample in measured),
        growth,
        growth <= tolerance,
        peak < ceiling_kb,
        end.errors == 0,
        end.fds <= start.fds + FD_TOLERANCE,
    )


def table(samples: list[Sample]) -> list[str]:
    lines = [
        "| s | RSS MB | open fds | requests | req/s | expected 429 | errors |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    previous: Sample | None = None
    for sample in samples:
        done = sample.requests - (previous.requests if previous else 0)
        span = sample.seconds - (previous.seconds if previous else 0.0)
        rate = done / span if span > 0 else 0.0
        lines.append(
            f"| {sample.seconds:.0f} | {sample.rss_kb / 1024:.1f} | {sample.fds} | "
            f"{sample.requests:,} | {rate:,.0f} | {sample.kinds.get(LIMITED, 0):,} | "
            f"{sample.errors:,} |"
        )
        previous = sample
    return lines


def summary(verdict: Verdict, warmup: float, tolerance: float = FLAT_TOLERANCE) -> list[str]:
    start, end = verdict.start, verdict.end
    errors = {kind: n for kind, n in sorted(end.kinds.items()) if kind not in NOT_ERRORS}
    rate = end.requests / end.seconds if end.seconds else 0.0
    mb = 1024
    return [
        f"- requests: {end.requests:,} in {end.seconds:.0f} s ({rate:,.0f}/s);"
        f" 2xx {end.kinds.get(OK, 0):,}, {LIMITED} {end.kinds.get(LIMITED, 0):,}",
        "- errors: "
        + (", ".join(f"{kind} {n:,}" for kind, n in errors.items()) if errors else "none"),
        f"- RSS: {start.rss_kb / mb:.1f} MB at {start.seconds:.0f} s (after the {warmup:g} s"
        f" warm-up), {end.rss_kb / mb:.1f} MB at the end, at most {verdict.peak_rss_kb / mb:.1f}"
        f" MB ({verdict.growth:+.1%})",
        f"- open fds: {start.fds} at {start.seconds:.0f} s, {end.fds} at the end,"
        f" at most {verdict.peak_fds}",
        f"- {'PASS' if verdict.steady_fds else 'MISS'}: open fds steady (at most"
        f" {FD_TOLERANCE} more at the end than after the warm-up)",
        f"- {'PASS' if verdict.flat else 'MISS'}: RSS flat (at most {tolerance:.0%} above the"
        " first sample after the warm-up)",
        f"- {'PASS' if verdict.under_ceiling else 'MISS'}: RSS under"
        f" {RSS_CEILING_KB // 1024} MB (reported only)",
        f"- {'PASS' if verdict.clean else 'MISS'}: no errors (the expected 429s aside)",
    ]
