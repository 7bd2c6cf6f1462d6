"""The dashboard's routes on a running gateway, over HTTP: the admin key in front of every one
(the header, the login form's session cookie for reads only), the usage as `aigw usage`
prints it (JSON, CSV), the effective policy as `aigw explain` prints it, the ledger's series
and the overview (subscriptions with their limits, refusals, breakers); and with PostgreSQL
and Redis, one replica's dashboard shows the calls and breakers of another."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, REPO, require_redis
from tests.ledger.directories import rows_of
from tests.ledger.postgres_servers import shared_schema
from tests.ledger.prepared import aigw
from tests.proxy.dashboard_gateway import (
    ADMIN_KEY,
    Running,
    admin_get,
    bearer,
    running_dashboard,
)
from tests.proxy.processes import free_port, start_gateway, stop

READS = [
    "/-/api/overview",
    "/-/api/usage",
    "/-/api/usage/series",
    "/-/api/explain?api=chat",
    "/-/dashboard/static/dashboard.js",
]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with running_dashboard(tmp_path_factory.mktemp("dashboard")) as started:
        yield started


def test_every_route_needs_the_admin_key(running: Running) -> None:
    for path in READS:
        refused = httpx.get(running.admin + path)
        assert refused.status_code == 401, path
        assert refused.json()["error"]["code"] == "unauthorized"
        wrong = httpx.get(running.admin + path, headers={"authorization": "Bearer nope"})
        assert (wrong.status_code, wrong.json()["error"]["message"][:22]) == (
            401,
            "the admin key is wrong",
        )
        assert httpx.get(running.admin + path, headers=bearer()).status_code == 200, path
    page = httpx.get(running.admin + "/-/dashboard")
    assert (page.status_code, page.headers["location"]) == (303, "/-/login")


def test_the_login_form_sets_a_session_for_reads_only(running: Running) -> None:
    form = httpx.get(running.admin + "/-/login")
    assert form.status_code == 200 and 'name="key"' in form.text
    wrong = httpx.post(running.admin + "/-/login", data={"key": "guess-Zq81"})
    assert wrong.status_code == 401 and "That is not the admin key." in wrong.text
    assert "guess-Zq81" not in wrong.text and "set-cookie" not in wrong.headers

    right = httpx.post(running.admin + "/-/login", data={"key": ADMIN_KEY})
    assert (right.status_code, right.headers["location"]) == (303, "/-/dashboard")
    cookie = right.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age", "samesite"} <= attributes
    assert "Path=/-/" in cookie and "SameSite=strict" in cookie and "Max-Age=43200" in cookie
    assert ADMIN_KEY not in cookie

    session = httpx.Client(base_url=running.admin, cookies=right.cookies)
    page = session.get("/-/dashboard")
    assert page.status_code == 200 and "<title>aigw dashboard</title>" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert session.get("/-/api/overview").status_code == 200
    assert session.get("/-/dashboard/static/uPlot.iife.min.js").status_code == 200
    assert session.post("/-/reload").status_code == 401, "a change needs the header"
    gone = session.post("/-/logout")
    assert gone.status_code == 303 and 'aigw_admin=""' in gone.headers["set-cookie"]


@pytest.mark.parametrize("form", ["json", "csv"])
def test_usage_is_what_aigw_usage_prints(running: Running, form: str) -> None:
    by = "subscription,model"
    served = admin_get(running, "/-/api/usage", since="7d", by=by, format=form)
    printed = aigw("usage", str(running.root), "--since", "7d", "--by", by, "--format", form)
    assert (served.status_code, printed.returncode) == (200, 0), printed.stderr
    assert served.text == printed.stdout
    assert served.headers["content-type"].startswith("text/csv" if form == "csv" else "appl")
    assert admin_get(running, "/-/api/usage", by="colour").status_code == 400


def test_the_effective_policy_is_what_aigw_explain_prints(running: Running) -> None:
    for api, operation, product in [("chat", "ChatCompletions_Create", "team"), ("cached", "", "")]:
        served = admin_get(running, "/-/api/explain", api=api, operation=operation, product=product)
        arguments = ["--api", api] + (
            ["--operation", operation, "--product", product] * bool(product)
        )
        printed = aigw("explain", str(running.root), *arguments)
        assert (served.status_code, served.text) == (200, printed.stdout)
    missing = admin_get(running, "/-/api/explain", api="chta")
    assert (
        missing.status_code == 404 and "did you mean 'chat'" in missing.json()["error"]["message"]
    )


def test_the_series_counts_each_call_once(running: Running) -> None:
    rows = rows_of(running.ledger_url)
    for by in ("api", "backend", "subscription", "model"):
        answer = admin_get(running, "/-/api/usage/series", since="1h", step="60", by=by).json()
        assert answer["fleet"] is False and answer["by"] == by
        assert sum(row["calls"] for row in answer["rows"]) == len(rows)
    assert answer["cache"]["cache_hits"] == 1
    assert admin_get(running, "/-/api/usage/series", since="7d", step="1").status_code == 400


def test_the_overview_has_subscriptions_with_their_limits_refusals_and_breakers(
    running: Running,
) -> None:
    overview = admin_get(running, "/-/api/overview").json()
    [team] = overview["subscriptions"]
    assert (team["id"], team["scope"], team["calls"]) == ("team-a", "product/team", 2)
    limits = {limit["statement"]: limit for limit in team["limits"]}
    assert set(limits) == {"rate-limit", "llm-token-limit"}, "the IP-keyed limit is no one's"
    assert limits["rate-limit"]["settings"] == {"calls": "100", "renewal-period": "60"}
    assert limits["rate-limit"]["origin"] == "products/team.xml:3"
    assert "chat" in limits["rate-limit"]["applies_to"]
    assert overview["replica"]["refusals"] == [
        {"api": "cached", "statement": "rate-limit-by-key", "count": 1.0}
    ]
    breakers = {row["backend"]: row["open"] for row in overview["breakers"]["rows"]}
    assert breakers == {running.flaky: True, "p": False}
    assert overview["breakers"]["fleet"] is False and overview["ledger"]["fleet"] is False
    targets = {(t["api"], t["operation"], t["product"]) for t in overview["targets"]}
    assert ("chat", "ChatCompletions_Create", "team") in targets


@contextmanager
def bare_gateway(root: Path, extra: str = "") -> Iterator[str]:
    """A gateway that no call reached yet; yields its admin listener's URL."""
    (root / "gateway.yaml").write_text(
        "backends: {p: {url: 'http://127.0.0.1:9/v1'}}\n"
        f"apis: {{chat: {{path: chat, style: openai, backend: p}}}}\n{extra}"
    )
    port, admin_port = free_port(), free_port()
    gateway = start_gateway(root, port, os.environ, admin_port)
    try:
        yield f"http://127.0.0.1:{admin_port}"
    finally:
        stop(gateway)


def test_without_an_admin_key_the_dashboard_is_off(tmp_path: Path) -> None:
    with bare_gateway(tmp_path) as admin:
        off = httpx.get(admin + "/-/dashboard")
        assert (off.status_code, off.json()["error"]["code"]) == (404, "admin_api_off")
        assert httpx.get(admin + "/-/api/overview").status_code == 404
        login = httpx.post(admin + "/-/login", data={"key": "anything"})
        assert login.status_code == 404 and "set admin.key" in login.text


def test_before_the_first_call_the_charts_are_empty_and_say_why(tmp_path: Path) -> None:
    with bare_gateway(tmp_path, f"admin: {{key: {ADMIN_KEY}}}\n") as admin:
        series = httpx.get(admin + "/-/api/usage/series", headers=bearer()).json()
        assert (series["rows"], series["cache"]["calls"]) == ([], 0)
        assert series["error"] == "no calls recorded yet (no ledger file)"
        usage = httpx.get(admin + "/-/api/usage", headers=bearer())
        assert (usage.status_code, usage.json()["error"]["code"]) == (503, "ledger_unavailable")
        overview = httpx.get(admin + "/-/api/overview", headers=bearer()).json()
        assert overview["subscriptions"] == [] and overview["breakers"]["rows"] == []


def test_with_postgres_and_redis_a_replica_shows_the_fleet(tmp_path: Path) -> None:
    require_redis()
    with (
        shared_schema() as url,
        running_dashboard(tmp_path, url, REDIS_URL, replicas=2) as fleet,
    ):
        # Every call went through the second replica; the first one's dashboard shows them.
        answer = admin_get(fleet, "/-/api/usage/series", since="1h", by="api").json()
        assert answer["fleet"] is True
        assert sum(row["calls"] for row in answer["rows"]) == len(rows_of(url))
        overview = admin_get(fleet, "/-/api/overview").json()
        assert overview["ledger"]["fleet"] is True and overview["breakers"]["fleet"] is True
        breakers = {row["backend"]: row["open"] for row in overview["breakers"]["rows"]}
        assert breakers[fleet.flaky] is True, "tripped on the other replica, seen through Redis"
        assert overview["subscriptions"][0]["calls"] == 2
        # This replica's own metrics count no call: they are its workers' alone.
        assert sum(row["requests"] for row in overview["replica"]["apis"]) == 0


def test_the_examples_in_the_docs(running: Running) -> None:
    text = (REPO / "docs" / "dashboard.md").read_text()
    urls = re.findall(r"'http://127\.0\.0\.1:9090(/-/api/[^']+)'", text)
    assert len(urls) == 2
    csv = httpx.get(running.admin + urls[0], headers=bearer())
    shown = text.split(urls[0])[1].split("```\n\n```\n")[1].split("```")[0]
    assert csv.text == shown
    policy = httpx.get(running.admin + urls[1], headers=bearer())
    assert policy.status_code == 200 and policy.text.startswith("<!-- api: chat  operation:")
