"""`aigw usage` on a prepared ledger: exact totals, by any dimensions, over a window, as
text, JSON and CSV; and the example in docs/ledger.md is what it prints."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from gateway.ledger.schema import MIGRATIONS
from tests.conftest import REPO
from tests.ledger.prepared import aigw, prepared_ledger
from tests.proxy.processes import free_port

BY_SUBSCRIPTION_AND_MODEL = """\
subscription  model                     calls  prompt_tokens  completion_tokens  cached_tokens  reasoning_tokens      cost
team-a        claude-sonnet-4-20250514      1           1200                400            200                 0   0.00906
team-a        gpt-4o-2024-08-06             1           2000                300              0                 0     0.008
team-a        gpt-4o-mini-2024-07-18        1           1000                200              0                 0   0.00027
team-b        gpt-4o-mini-2024-07-18        1            500                100              0                 0  0.000135
team-b        -                             1              0                  0              0                 0         0
"""
BY_DAY = """\
day         calls  prompt_tokens  completion_tokens  cached_tokens  reasoning_tokens      cost
2026-10-15      1            100                 10              0                 0  0.000021
2026-11-02      2           1500                300              0                 0  0.000405
2026-11-03      3           3200                700            200                 0   0.01706
"""


def test_totals_by_subscription_and_model_over_a_window(tmp_path: Path) -> None:
    root = prepared_ledger(tmp_path)
    window = ["--since", "2026-11-01", "--until", "2026-12-01"]
    done = aigw("usage", str(root), *window, "--by", "subscription,model")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == BY_SUBSCRIPTION_AND_MODEL
    assert aigw("usage", str(root), "--by", "day").stdout == BY_DAY


def test_everything_in_one_row_and_a_relative_window(tmp_path: Path) -> None:
    root = prepared_ledger(tmp_path)
    everything = aigw("usage", str(root)).stdout.splitlines()[1].split()
    assert everything == ["6", "4800", "1010", "200", "0", "0.017486"]
    days = (time.time() - 1793577600) / 86400  # since 2026-11-02 (days ago, rounded up)
    recent = aigw("usage", str(root), "--since", f"{int(days) + 1}d", "--format", "json")
    assert json.loads(recent.stdout)[0]["calls"] == 5  # the October call is older
    nothing = aigw("usage", str(root), "--since", "1h", "--format", "json")
    assert json.loads(nothing.stdout) == [
        {
            "calls": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cached_tokens": 0,
            "reasoning_tokens": 0,
            "cost": "0",
        }
    ]


def test_json_and_csv_carry_the_same_rows_with_exact_costs(tmp_path: Path) -> None:
    root = prepared_ledger(tmp_path)
    since = ["--since", "2026-11-03"]
    csv = aigw("usage", str(root), *since, "--by", "api", "--format", "csv").stdout
    assert csv == (
        "api,calls,prompt_tokens,completion_tokens,cached_tokens,reasoning_tokens,cost\n"
        "chat,2,2000,300,0,0,0.008\n"
        "claude,1,1200,400,200,0,0.00906\n"
    )
    rows = json.loads(
        aigw("usage", str(root), *since, "--by", "backend", "--format", "json").stdout
    )
    assert [(r["backend"], r["calls"], r["cost"]) for r in rows] == [
        ("c", 1, "0.00906"),
        ("p", 1, "0.008"),
        (None, 1, "0"),
    ]


def test_bad_input_is_named(tmp_path: Path) -> None:
    root = prepared_ledger(tmp_path)
    wrong = aigw("usage", str(root), "--by", "colour")
    assert wrong.returncode == 2
    assert "unknown --by colour; choose from subscription, product" in wrong.stderr
    assert "neither a duration" in aigw("usage", str(root), "--since", "lately").stderr
    (tmp_path / "policies.ledger.sqlite").unlink()
    missing = aigw("usage", str(root))
    assert missing.returncode == 2 and "no ledger at" in missing.stderr


def test_a_database_that_cannot_be_reached_is_named_without_its_password(
    tmp_path: Path,
) -> None:
    url = f"postgresql://aigw:sekret@127.0.0.1:{free_port()}/ledger"
    (tmp_path / "gateway.yaml").write_text(
        f'apis: {{chat: {{path: chat}}}}\nledger: {{url: "{url}"}}\n'
    )
    for command in (["usage"], ["ledger", "migrate"]):
        done = aigw(*command, str(tmp_path))
        assert done.returncode == 2
        assert f"postgresql://aigw:***@127.0.0.1:{url.split(':')[3]}" in done.stderr
        assert "sekret" not in done.stderr + done.stdout


def test_the_docs_example_is_what_aigw_prints(tmp_path: Path) -> None:
    root = prepared_ledger(tmp_path)
    docs = (REPO / "docs" / "ledger.md").read_text(encoding="utf-8")
    examples = re.findall(r"```console\n\$ aigw (usage[^\n]*)\n(.*?)```", docs, re.S)
    assert examples, "docs/ledger.md shows aigw usage"
    assert f"applied 1: {MIGRATIONS[0].description}\n" in docs  # aigw ledger migrate's line
    for command, printed in examples:
        arguments = command.split()
        arguments[1] = str(root)  # the docs' DIR
        assert aigw(*arguments).stdout == printed, command
