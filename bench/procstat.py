"""What /proc says about CPU time and memory: a process tree's, each core's, and the steal.

bench/latency.py charges a server the CPU time of its process and its descendants (nginx's
worker, a gateway's children); bench/peers.py also reads their memory, and how busy each core
was meanwhile, to tell how much of a run other processes (or the hypervisor) took.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcEntry:
    parent: int
    ticks: int  # utime + stime, in clock ticks
    rss_pages: int


def all_processes() -> dict[int, ProcEntry]:
    """Every process's parent, CPU ticks and resident pages (/proc/<pid>/stat)."""
    found: dict[int, ProcEntry] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "; comm may hold spaces
        found[int(entry.name)] = ProcEntry(
            int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[21])
        )
    return found


def tree(pid: int, processes: dict[int, ProcEntry]) -> list[int]:
    """The process and all its descendants that are still there."""
    children: dict[int, list[int]] = {}
    for proc, entry in processes.items():
        children.setdefault(entry.parent, []).append(proc)
    family, found = [pid], []
    while family:
        proc = family.pop()
        if proc in processes:
            found.append(proc)
        family.extend(children.get(proc, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process and its descendants (nginx's worker), from /proc."""
    processes = all_processes()
    return sum(processes[proc].ticks for proc in tree(pid, processes)) / TICK


def rss_bytes(pid: int) -> int:
    """Resident memory of the process and its descendants."""
    processes = all_processes()
    return sum(processes[proc].rss_pages for proc in tree(pid, processes)) * PAGE_BYTES


# -- the cores ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoreTimes:
    """Seconds a core (or, for "cpu", all of them) spent since boot."""

    busy: float  # user, nice, system, irq, softirq
    steal: float  # taken by the hypervisor for other guests
    total: float  # everything, idle and iowait included: the core's share of the wall clock


def parse_proc_stat(text: str) -> dict[str, CoreTimes]:
    """The "cpu" and "cpuN" lines of a /proc/stat text, by name."""
    found: dict[str, CoreTimes] = {}
    for line in text.splitlines():
        name, *fields = line.split()
        if not name.startswith("cpu"):
            continue
        # user nice system idle iowait irq softirq steal (guest time is inside user already)
        user, nice, system, idle, iowait, irq, softirq, steal = (int(f) for f in fields[:8])
        busy = user + nice + system + irq + softirq
        found[name] = CoreTimes(busy / TICK, steal / TICK, (busy + idle + iowait + steal) / TICK)
    return found


def read_proc_stat() -> dict[str, CoreTimes]:
    return parse_proc_stat(Path("/proc/stat").read_text())


def busy_seconds() -> tuple[float, float]:
    """CPU time all cores spent busy, and stolen by the hypervisor, since boot (/proc/stat)."""
    every = read_proc_stat()["cpu"]
    return every.busy, every.steal


@dataclass(frozen=True)
class Noise:
    """What was not ours over one or more stretches of time, in CPU seconds."""

    others: dict[int, float]  # core number: busy seconds not spent by our processes on it
    elapsed: dict[int, float]  # core number: its seconds over the stretches
    stolen: float  # seconds the hypervisor took, all cores together
    all_elapsed: float  # all cores' seconds together

    def share(self, core: int) -> float:
        """Other processes' share of the core's time."""
        return self.others[core] / self.elapsed[core] if self.elapsed[core] > 0 else 0.0

    @property
    def steal(self) -> float:
        """The hypervisor's share of all cores' time."""
        return self.stolen / self.all_elapsed if self.all_elapsed > 0 else 0.0

    @property
    def worst(self) -> float:
        return max([self.steal, *(self.share(core) for core in self.others)])

    def __add__(self, other: Noise) -> Noise:
        cores = self.others.keys() | other.others.keys()
        return Noise(
            {core: self.others.get(core, 0.0) + other.others.get(core, 0.0) for core in cores},
            {core: self.elapsed.get(core, 0.0) + other.elapsed.get(core, 0.0) for core in cores},
            self.stolen + other.stolen,
            self.all_elapsed + other.all_elapsed,
        )

    def describe(self) -> str:
        cores = ", ".join(f"core {core} {self.share(core):.0%}" for core in sorted(self.others))
        return f"other processes' CPU: {cores}; steal {self.steal:.0%}"


def noise(
    before: dict[str, CoreTimes], after: dict[str, CoreTimes], ours: dict[int, float]
) -> Noise:
    """What other processes took of each core in `ours` (the CPU seconds our processes spent
    on it) between two /proc/stat samples, and what the hypervisor stole of all cores."""
    others: dict[int, float] = {}
    elapsed: dict[int, float] = {}
    for core, own in ours.items():
        name = f"cpu{core}"
        elapsed[core] = after[name].total - before[name].total
        others[core] = max(0.0, after[name].busy - before[name].busy - own)
    every = after["cpu"].total - before["cpu"].total
    return Noise(others, elapsed, after["cpu"].steal - before["cpu"].steal, every)
