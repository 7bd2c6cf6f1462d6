"""The dashboard in Debian's chromium, driven by Playwright: log in through the form, the page
loads with no console error, its charts and their tables show the calls this test made (as
the ledger's own rows count them), and the effective policy shown is `aigw explain`'s. The
full-page screenshot is kept in test-artifacts/ (AIGW_TEST_ARTIFACTS overrides it)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.ledger.directories import rows_of
from tests.ledger.prepared import aigw
from tests.proxy.dashboard_gateway import ADMIN_KEY, running_dashboard

CHROMIUM = os.environ.get("AIGW_CHROMIUM", "/usr/bin/chromium")
TARGET = ("chat", "ChatCompletions_Create", "team")


def chromium_or_skip() -> None:
    if shutil.which(CHROMIUM) is None:
        message = (
            f"no chromium at {CHROMIUM} (apt-get install chromium): the browser test cannot run"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: chromium is required)")
        print(f"\n*** SKIPPING: {message} ***", file=sys.stderr)
        pytest.skip(message)


def artifacts() -> Path:
    folder = Path(os.environ.get("AIGW_TEST_ARTIFACTS", REPO / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_the_dashboard_shows_the_calls_made_and_the_effective_policy(tmp_path: Path) -> None:
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with running_dashboard(tmp_path) as running, sync_playwright() as playwright:
        rows = rows_of(running.ledger_url)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))

            page.goto(running.admin + "/-/dashboard")
            assert page.url.endswith("/-/login"), "no session: the login form first"
            page.fill("#key", ADMIN_KEY)
            page.click("button[type=submit]")
            page.wait_for_url("**/-/dashboard")
            page.wait_for_selector("body[data-polls]")  # the page's policy allows no eval

            calls = Counter(str(row["api"]) for row in rows)
            errors = Counter(str(row["api"]) for row in rows if int(str(row["status"])) >= 400)
            for api in ("chat", "cached"):
                line = f"#api-table tr[data-key='{api}']"
                assert page.text_content(f"{line} td[data-col=calls]") == str(calls[api])
                assert page.text_content(f"{line} td[data-col=errors]") == str(errors[api])
            charted = page.evaluate(
                "charts['api-chart'].plot.series.slice(1).map((s, i) =>"
                " [s.label, charts['api-chart'].plot.data[i + 1].reduce((a, b) => a + b, 0)])"
            )
            assert dict(charted) == dict(calls), "the chart's lines add up to the calls made"

            tokens = sum(
                int(str(r["prompt_tokens"])) + int(str(r["completion_tokens"])) for r in rows
            )
            team = sum(
                int(str(r["prompt_tokens"])) + int(str(r["completion_tokens"]))
                for r in rows
                if r["subscription"] == "team-a"
            )
            assert team > 0 and tokens > team
            team_row = "#subscription-table tr[data-key='team-a'] td[data-col=tokens]"
            assert page.text_content(team_row) == str(team)
            assert page.text_content("#model-table tr[data-key='m'] td[data-col=tokens]") == str(
                tokens
            )
            by_model = aigw("usage", str(running.root), "--by", "model", "--format", "json")
            [priced] = [row for row in json.loads(by_model.stdout) if row["model"] == "m"]
            shown = page.text_content("#model-table tr[data-key='m'] td[data-col=cost]")
            assert shown == priced["cost"], "the exact decimal, as aigw usage prints it"
            hits = sum(row["cache"] == "hit" for row in rows)
            assert (hits, page.text_content("#cache-hits")) == (1, "1")
            refused = "#refusals-table tr[data-key='rate-limit-by-key'] td[data-col=count]"
            assert page.text_content(refused) == "1"
            breaker = "#breakers-table tr[data-key='{}'] td[data-col=state]"
            assert page.text_content(breaker.format(running.flaky)) == "open"
            assert page.text_content(breaker.format("p")) == "closed"
            limits = page.text_content("#subscriptions-table tr[data-key='team-a']") or ""
            assert "rate-limit calls=100 renewal-period=60" in limits
            assert "llm-token-limit tokens-per-minute=5000" in limits

            chosen = json.dumps(list(TARGET), separators=(",", ":"))  # as JSON.stringify writes
            page.select_option("#target", chosen)
            api, operation, product = TARGET
            printed = aigw(
                "explain", str(running.root), "--api", api, "--operation", operation,
                "--product", product,
            )  # fmt: skip
            assert printed.returncode == 0, printed.stderr
            page.wait_for_selector(f"#policy[data-target='{chosen}']", state="attached")
            assert page.text_content("#policy") == printed.stdout
            page.screenshot(path=str(artifacts() / "dashboard.png"), full_page=True)
            assert problems == [], "the page logged errors"
        finally:
            browser.close()
