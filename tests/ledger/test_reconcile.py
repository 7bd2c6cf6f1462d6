"""`aigw reconcile` on a prepared ledger and prepared provider exports (tests/data/ledger):
each difference per day and model, exactly; none where they agree; bad files named."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ledger.prepared import EXPORTS, aigw, prepared_ledger

OPENAI_DIFFERENCES = """\
day         model              measure            ledger  provider  difference
2026-11-03  gpt-4o-2024-08-06  completion_tokens     300       310         -10
2026-11-03  gpt-4o-2024-08-06  cost                0.008    0.0081     -0.0001
2 day and model pairs compared, 2 differences
"""


def test_openai_usage_and_costs_differ_where_the_ledger_does(tmp_path: Path) -> None:
    root = prepared_ledger(tmp_path)
    files = [str(EXPORTS / "openai-usage.csv"), str(EXPORTS / "openai-costs.csv")]
    done = aigw("reconcile", str(root), *files)
    assert (done.returncode, done.stdout) == (1, OPENAI_DIFFERENCES)
    as_json = aigw("reconcile", str(root), *files, "--format", "json")
    assert [(d["measure"], d["difference"]) for d in json.loads(as_json.stdout)] == [
        ("completion_tokens", "-10"),
        ("cost", "-0.0001"),
    ]
    usage_only = aigw("reconcile", str(root), files[0])  # no dollars in it: none compared
    assert "cost" not in usage_only.stdout and "1 differences" in usage_only.stdout


def test_anthropic_usage_and_costs_agree_with_the_ledger(tmp_path: Path) -> None:
    root = prepared_ledger(tmp_path)
    files = [str(EXPORTS / "anthropic-usage.csv"), str(EXPORTS / "anthropic-costs.csv")]
    done = aigw("reconcile", str(root), *files)
    assert (done.returncode, done.stdout) == (0, "1 day and model pairs compared, 0 differences\n")


def test_a_file_that_is_no_export_is_named(tmp_path: Path) -> None:
    root = prepared_ledger(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    done = aigw("reconcile", str(root), str(other))
    assert done.returncode == 2 and "not a known usage or cost export" in done.stderr
    mixed = aigw(
        "reconcile",
        str(root),
        str(EXPORTS / "openai-usage.csv"),
        str(EXPORTS / "anthropic-usage.csv"),
    )
    assert mixed.returncode == 2 and "several providers" in mixed.stderr
