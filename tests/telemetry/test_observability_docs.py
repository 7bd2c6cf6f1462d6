"""docs/observability.md is held to the code: every metric the gateway counts is in its
tables as Prometheus shows it, every access log field a line can carry is in its table, and
the Grafana dashboard queries only metrics the gateway exposes."""

from __future__ import annotations

import asyncio
import io
import json
import re

from gateway.expressions.model import (
    ApiModel,
    ContextModel,
    LastErrorModel,
    OperationModel,
    RequestModel,
    UrlModel,
)
from gateway.runtime.context import RequestContext
from gateway.telemetry import builtin
from gateway.telemetry.access_log import AccessLog
from gateway.telemetry.metrics import instrument_name
from gateway.telemetry.series import Instrument, prometheus_name
from tests.conftest import REPO

DOC = (REPO / "docs" / "observability.md").read_text(encoding="utf-8")
DASHBOARD = REPO / "docs" / "grafana" / "aigw-dashboard.json"


def section(title: str) -> str:
    return DOC.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def rows(text: str) -> list[list[str]]:
    """The cells of every table row whose first cell is `code`."""
    found = []
    for line in text.splitlines():
        if line.startswith("| `"):
            found.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return found


METRIC_ROWS = {row[0].strip("`"): row for row in rows(section("Metrics"))}
INSTRUMENTS = [v for v in vars(builtin).values() if isinstance(v, Instrument)]
KINDS = {
    builtin.REQUESTS.name: "counter",
    builtin.ATTEMPTS.name: "counter",
    builtin.REFUSALS.name: "counter",
    builtin.CONNECTIONS_REFUSED.name: "counter",
    builtin.BREAKER_STATE.name: "gauge",
    builtin.SCRAPE_WORKERS.name: "gauge",
}


def counted_where_they_happen() -> set[str]:
    """The `aigw` counters the code adds to (`metrics.add("aigw", "name", ...)`)."""
    names = set()
    for path in (REPO / "gateway").rglob("*.py"):
        for name in re.findall(r'\.add\(\s*"aigw",\s*"([^"]+)"', path.read_text("utf-8")):
            names.add(instrument_name("aigw", name))
    return names


def exposed_series() -> set[str]:
    """Every series name Prometheus gets, by the documented tables."""
    series = set()
    for row in METRIC_ROWS.values():
        shown, kind = row[1].strip("`"), row[2]
        if kind == "histogram":
            series |= {shown + "_bucket", shown + "_sum", shown + "_count"}
        else:
            series.add(shown)
    return series


def test_every_metric_is_documented_as_prometheus_shows_it() -> None:
    expected = {i.name for i in INSTRUMENTS} | counted_where_they_happen()
    assert set(METRIC_ROWS) == expected
    for instrument in INSTRUMENTS:
        name, shown, kind, _, labels = METRIC_ROWS[instrument.name][:5]
        kind_is = KINDS.get(instrument.name, "histogram")
        suffix = "_total" if kind_is == "counter" else ""
        assert (shown, kind) == (
            f"`{prometheus_name(name.strip('`'), instrument.unit)}{suffix}`",
            kind_is,
        )
        for key in instrument.keys:
            assert f"`{key}`" in labels, (instrument.name, key)
    for name in counted_where_they_happen():
        assert METRIC_ROWS[name][1] == f"`{prometheus_name(name)}_total`"


def test_every_access_log_field_is_documented() -> None:
    documented = {row[0].strip("`") for row in rows(section("Access log"))}
    stream = io.StringIO()
    log = AccessLog(stream)
    url = UrlModel(Path="/chat/chat/completions")
    model = ContextModel(
        Api=ApiModel(Id="chat"),
        Operation=OperationModel(Id="ChatCompletions_Create"),
        Request=RequestModel(Method="POST", Url=url, IpAddress="127.0.0.1"),
        LastError=LastErrorModel(Source="rate-limit-by-key", Reason="RateLimitExceeded"),
    )
    model.traces.append("[information] forward-request: east answered 503")
    context = RequestContext(model, backend="pool", backend_member="east", attempts=["east:503"])
    context.stream_error = "cut"

    async def write() -> None:
        log.write(context, 429)
        log.write_refused(
            "GET", "/nowhere", "127.0.0.1", 404, 0.0, None, "id", "no-route", "0af7651916cd43dd"
        )
        log.flush()

    asyncio.run(write())
    carried = set().union(*(json.loads(line) for line in stream.getvalue().splitlines()))
    assert documented == carried
    first = json.loads(stream.getvalue().splitlines()[0])
    assert first["refusal"] == "rate-limit-by-key" and first["upstream_ms"] == 0


def test_the_dashboard_queries_only_exposed_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exposed = exposed_series()
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= metric_names(target["expr"])
    assert used and used <= exposed, used - exposed
    for needed in (
        "aigw_requests_total",
        "http_server_request_duration_seconds_bucket",
        "gen_ai_server_time_to_first_token_seconds_bucket",
        "gen_ai_client_token_usage_sum",
        "aigw_cost_total",
        "aigw_upstream_attempts_total",
        "aigw_breaker_state",
        "aigw_limit_refusals_total",
    ):
        assert needed in used


def metric_names(expr: str) -> set[str]:
    """The metric names in a PromQL expression: identifiers that are no function, keyword,
    label matcher, range or grouping."""
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\b(?:by|without)\s*\([^)]*\)", "", expr)
    return set(re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", bare))
