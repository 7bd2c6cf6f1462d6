"""bench/procstat.py: /proc/stat read into each core's time; the noise between two samples."""

from __future__ import annotations

import os

import procstat
import pytest
from procstat import CoreTimes, Noise, ProcEntry, noise, parse_proc_stat

TICK = os.sysconf("SC_CLK_TCK")


def stat_text(cores: list[tuple[int, int, int, int]]) -> str:
    """A /proc/stat text whose cores spent (user, system, idle, steal) ticks; "cpu" their sum."""
    lines = []
    for name, (user, system, idle, steal) in [
        ("cpu", tuple(map(sum, zip(*cores, strict=True)))),
        *((f"cpu{number}", core) for number, core in enumerate(cores)),
    ]:
        # user nice system idle iowait irq softirq steal guest guest_nice
        lines.append(f"{name} {user} 0 {system} {idle} 0 0 0 {steal} 0 0")
    lines += ["intr 12345 0 1", "ctxt 999", "btime 1700000000", "procs_running 3"]
    return "\n".join(lines) + "\n"


def test_parse_reads_busy_steal_and_total_per_core() -> None:
    found = parse_proc_stat(stat_text([(100, 50, 800, 10), (30, 20, 950, 0)]))
    assert set(found) == {"cpu", "cpu0", "cpu1"}
    assert found["cpu0"] == CoreTimes(150 / TICK, 10 / TICK, 960 / TICK)
    assert found["cpu"].busy == pytest.approx(200 / TICK)


def test_noise_is_what_the_cores_did_beyond_our_processes() -> None:
    before = parse_proc_stat(stat_text([(1000, 0, 1000, 0), (1000, 0, 1000, 0)]))
    # Over 100 ticks per core: core 0 busy 90 (we used 60), core 1 busy 50 (we used 50), and
    # the hypervisor stole 20 of the 200.
    after = parse_proc_stat(stat_text([(1090, 0, 1000, 10), (1050, 0, 1040, 10)]))
    found = noise(before, after, {0: 60 / TICK, 1: 50 / TICK})
    assert found.share(0) == pytest.approx(0.30)
    assert found.share(1) == pytest.approx(0.0)
    assert found.steal == pytest.approx(0.10)
    assert found.worst == pytest.approx(0.30)
    assert found.describe() == "other processes' CPU: core 0 30%, core 1 0%; steal 10%"


def test_our_processes_never_make_the_others_negative() -> None:
    sample = parse_proc_stat(stat_text([(1000, 0, 1000, 0)]))
    later = parse_proc_stat(stat_text([(1010, 0, 1090, 0)]))
    assert noise(sample, later, {0: 50 / TICK}).share(0) == 0.0


def test_noise_adds_up_over_stretches() -> None:
    first = Noise({0: 1.0, 1: 0.0}, {0: 10.0, 1: 10.0}, 0.0, 20.0)
    second = Noise({0: 5.0, 1: 2.0}, {0: 10.0, 1: 10.0}, 4.0, 20.0)
    total = Noise({}, {}, 0.0, 0.0) + first + second
    assert total.share(0) == pytest.approx(0.30)
    assert total.share(1) == pytest.approx(0.10)
    assert total.steal == pytest.approx(0.10)


def test_tree_is_the_process_and_its_descendants() -> None:
    processes = {
        1: ProcEntry(0, 5, 1),
        10: ProcEntry(1, 1, 1),
        11: ProcEntry(10, 2, 1),
        12: ProcEntry(11, 3, 1),
        20: ProcEntry(1, 4, 1),
    }
    assert sorted(procstat.tree(10, processes)) == [10, 11, 12]
    assert procstat.tree(99, processes) == []


def test_this_process_has_cpu_time_and_memory() -> None:
    assert procstat.cpu_seconds(os.getpid()) > 0
    assert procstat.rss_bytes(os.getpid()) > 10_000_000  # the interpreter and pytest, at least
    assert set(procstat.read_proc_stat()) >= {"cpu", "cpu0"}
