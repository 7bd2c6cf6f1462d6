"""bench/peer_report.py: the side-by-side table, its ratios to ours, the targets, the noise."""

from __future__ import annotations

from drift import Drift
from peer_report import Measured, Outcome, render, table, verdicts
from procstat import Noise


def measured(rate: float, streams: float, cpu_ms: float) -> Measured:
    return Measured(1.0, rate, streams, 2.0, 500.0, cpu_ms, 100.0)


OUTCOMES = [
    Outcome("litellm", "LiteLLM proxy", None, "json: answered 500: b'oops'"),
    Outcome("portkey", "Portkey gateway", measured(200.0, 100.0, 2.0)),
    Outcome("passthrough", "ours, pass-through", measured(950.0, 400.0, 0.3)),
    Outcome("governed", "ours, governed", measured(1000.0, 300.0, 0.4)),
    Outcome("bare", "bare forwarder", measured(1000.0, 500.0, 0.3)),
]
QUIET = Noise({0: 0.5, 1: 0.2}, {0: 10.0, 1: 10.0}, 0.1, 20.0)  # 5 %, 2 %, steal 0.5 %
NOISY = Noise({0: 3.0, 1: 0.2}, {0: 10.0, 1: 10.0}, 0.1, 20.0)  # core 0: 30 %


def test_the_table_gives_each_figure_and_its_ratio_to_ours() -> None:
    lines = table(OUTCOMES)
    assert lines[0].startswith("| target | added p50 ms (c=1) | req/s (c=32) | streams/s (c=16)")
    assert lines[1] == "| --- |" + " ---: |" * 7
    portkey = lines[3]
    assert portkey.startswith("| Portkey gateway | 1.000 (1.00x) | 200 (0.20x) | 100 (0.33x) |")
    assert "| 2.000 (5.00x) |" in portkey  # CPU ms/req: five times ours
    governed = lines[5]
    assert governed == (
        "| ours, governed | 1.000 | 1,000 | 300 | 2.000 | 500 | 0.400 | 100 |"
    )  # ours: no ratio


def test_a_target_not_timed_says_why_in_its_row() -> None:
    row = table(OUTCOMES)[2]
    assert row.startswith("| LiteLLM proxy | not timed: json: answered 500: b'oops' |")
    assert row.count("|") == 9  # still eight columns


def test_without_ours_there_are_no_ratios() -> None:
    lines = table([OUTCOMES[1]])
    assert "x)" not in lines[2]


def test_targets_met_missed_and_not_measured() -> None:
    found = dict(verdicts(OUTCOMES))
    assert found["governed req/s >= 4x Portkey's: 5.00x (target >= 4x)"] is True
    assert found["governed CPU ms/req <= 1/4 of Portkey's: 0.20x (target <= 0.25x)"] is True
    assert (
        found["governed CPU ms/req <= 1.25x the bare forwarder's: 1.33x (target <= 1.25x)"] is False
    )
    assert found["governed streams/s >= 4x Portkey's: 3.00x (target >= 4x)"] is False
    assert found["pass-through req/s within 10 % of the bare forwarder's: 0.95x (target >= 0.9x)"]
    assert (
        found["pass-through streams/s within 15 % of the bare forwarder's: 0.80x (target >= 0.85x)"]
        is False
    )
    without_portkey = dict(verdicts([o for o in OUTCOMES if o.key != "portkey"]))
    assert without_portkey["governed req/s >= 4x Portkey's: not measured"] is None


def test_a_quiet_run_has_no_warning_but_its_noise_line() -> None:
    lines = render(OUTCOMES, QUIET, 0.10, 0.08)
    assert lines[0].startswith("| target |")
    assert "- MET: governed req/s >= 4x Portkey's: 5.00x (target >= 4x)" in lines
    assert "- NOT MEASURED" not in "\n".join(lines)
    assert lines[-1] == (
        "- NOTE: noise during the measurements: other processes' CPU: core 0 5%, core 1 2%;"
        " steal 0% (under --max-noise 10%)"
    )
    assert "over nginx direct's 0.080 ms" in "\n".join(lines)


def test_a_noisy_run_is_headed_by_a_warning() -> None:
    lines = render(OUTCOMES, NOISY, 0.10, 0.08)
    assert lines[0].startswith("> **WARNING: a noisy run.**")
    assert "up to 30% of a core (over --max-noise 10%)" in lines[0]
    assert lines[2].startswith("| target |")
    assert lines[-1].endswith("core 0 30%, core 1 2%; steal 0%")


STEADY = Drift((("litellm", 0.0250), ("governed", 0.0255), ("end", 0.0252)))  # 2 %
MOVED = Drift((("litellm", 0.0250), ("bare", 0.0280), ("end", 0.0275)))  # 12 %


def test_a_steady_core_is_noted_under_the_noise() -> None:
    lines = render(OUTCOMES, QUIET, 0.10, 0.08, STEADY, 0.05)
    assert lines[0].startswith("| target |")
    assert lines[-1] == (
        "- NOTE: the server core's speed: a fixed probe took (ms) litellm 25.0, governed 25.5,"
        " end 25.2; spread 2.0% (under --max-drift 5%)"
    )


def test_a_core_whose_speed_moved_heads_the_report_with_a_warning() -> None:
    lines = render(OUTCOMES, QUIET, 0.10, 0.08, MOVED, 0.05)
    assert lines[0].startswith("> **WARNING: the server core's speed moved by 12% during the run**")
    assert lines[2].startswith("| target |")
    assert lines[-1].endswith("bare 28.0, end 27.5; spread 12.0%")
