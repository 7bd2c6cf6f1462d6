"""The admin API's reads that the dashboard polls, each behind the admin key (always):

- `GET /-/api/usage?since=7d&until=&by=subscription,model&format=json|csv`: what
  `aigw usage DIR --since 7d --by subscription,model --format json|csv` prints, byte for byte;
- `GET /-/api/usage/series?since=1h&step=60&by=model`: the ledger per time bucket;
- `GET /-/api/explain?api=&operation=&product=`: the text `aigw explain` prints;
- `GET /-/api/overview?since=24h`: this replica's requests and refusals (the metrics of its
  process group), the breakers, the subscriptions with their usage and limits, the targets.

Where each number comes from decides its reach, and each answer says it: the ledger is the
fleet's when it is in PostgreSQL, the breakers when the counter store is Redis; the metrics
are always this replica's workers, added up.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.common.diagnostics import DiagnosticError
from gateway.explain import Limit, Overview, explain, overview
from gateway.ledger.output import render
from gateway.ledger.queries import MEASURES, Row, dimensions, moment, totals
from gateway.ledger.series import NOTHING_SAVED, cache_savings, series
from gateway.proxy.admin_api import subscription_rows
from gateway.proxy.admin_auth import AdminKey, guarded
from gateway.proxy.fleet import Fleet
from gateway.proxy.ledger_reads import LedgerReads, LedgerUnavailable
from gateway.proxy.live import Live
from gateway.stores.redis_urls import is_redis_url
from gateway.telemetry.builtin import REFUSALS, REQUESTS
from gateway.telemetry.series import merge

MAX_BUCKETS = 2000  # a chart needs no more points than a screen has pixels
CSV = "text/csv; charset=utf-8"


def _bad(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": {"code": "bad_request", "message": message}}, status)


def _ledger_off(error: LedgerUnavailable) -> JSONResponse:
    return JSONResponse({"error": {"code": "ledger_unavailable", "message": str(error)}}, 503)


def dashboard_subscriptions(live: Live) -> list[dict[str, str]]:
    """The subscriptions the dashboard lists: gateway.yaml's and the admin API's."""
    return [
        {
            "id": str(row["id"]),
            "name": str(row["displayName"]),
            "scope": str(row["scope"]),
            "state": str(row["state"]),
            "source": str(row["source"]),
        }
        for row in subscription_rows(live)
    ]


class AdminData:
    def __init__(self, live: Live, fleet: Fleet, metrics: bool) -> None:
        self.live = live
        self.fleet = fleet
        self.metrics = metrics
        self.ledger = LedgerReads(live)
        self._overview: tuple[str, Overview] | None = None  # (version, its overview)

    def routes(self, admin_key: Callable[[], AdminKey]) -> list[Route]:
        def route(path: str, endpoint: Any) -> Route:
            return Route(path, guarded(endpoint, admin_key, always=True), methods=["GET"])

        return [
            route("/-/api/usage", self.usage),
            route("/-/api/usage/series", self.usage_series),
            route("/-/api/explain", self.explain),
            route("/-/api/overview", self.overview),
        ]

    async def usage(self, request: Request) -> Response:
        query = request.query_params
        form = query.get("format", "json")
        if form not in ("json", "csv"):
            return _bad("format is json or csv")
        try:
            by = dimensions(query.get("by", ""))
            since = moment(query["since"]) if query.get("since") else None
            until = moment(query["until"]) if query.get("until") else None
            rows = await self.ledger.run(lambda database: totals(database, by, since, until))
        except ValueError as error:
            return _bad(str(error))
        except LedgerUnavailable as error:
            return _ledger_off(error)
        text = render(rows, [*by, *MEASURES], form)
        return Response(text, media_type=CSV if form == "csv" else "application/json")

    async def usage_series(self, request: Request) -> Response:
        query = request.query_params
        try:
            by = dimensions(query.get("by", "model"))
            step = int(query.get("step", "60"))
            now = time.time()
            since = moment(query.get("since", "1h"), now)
            until = moment(query["until"], now) if query.get("until") else None
            if len(by) != 1 or step < 1 or ((until or now) - since) / step > MAX_BUCKETS:
                raise ValueError(f"one dimension in by, and at most {MAX_BUCKETS} steps")
        except ValueError as error:
            return _bad(str(error))
        rows: list[Row] = []
        cache = dict(NOTHING_SAVED)
        missing = None  # a ledger not there yet is an empty chart, and says why
        try:
            rows = await self.ledger.run(lambda d: series(d, by[0], step, since, until))
            cache = await self.ledger.run(lambda d: cache_savings(d, since, until))
        except LedgerUnavailable as error:
            missing = str(error)
        return JSONResponse(
            {
                "by": by[0],
                "step": step,
                "since": since,
                "until": until if until is not None else now,
                "fleet": self.ledger.fleet_wide(),
                "rows": rows,
                "cache": cache,
                "error": missing,
            }
        )

    async def explain(self, request: Request) -> Response:
        query = request.query_params
        api = query.get("api")
        if not api:
            return _bad("api is required")
        root = self.live.gateway.root
        try:
            text = await asyncio.to_thread(
                explain,
                root,
                api=api,
                operation=query.get("operation") or None,
                product=query.get("product") or None,
            )
        except ValueError as error:
            return _bad(str(error), 404)
        except DiagnosticError as error:
            return _bad("\n".join(d.format() for d in error.diagnostics), 422)
        return PlainTextResponse(text)

    async def overview(self, request: Request) -> Response:
        try:
            since = moment(request.query_params.get("since", "24h"))
        except ValueError as error:
            return _bad(str(error))
        described = await self._described()
        usage: dict[str, Row] = {}
        ledger_error = None
        try:
            rows = await self.ledger.run(lambda d: totals(d, ["subscription"], since))
            usage = {str(row["subscription"]): row for row in rows if row["subscription"]}
        except LedgerUnavailable as error:
            ledger_error = str(error)
        return JSONResponse(
            {
                "version": self.live.version,
                "ledger": {
                    "fleet": self.ledger.fleet_wide(),
                    "where": self.ledger.described(),
                    "error": ledger_error,
                },
                "replica": await self._replica() if self.metrics else None,
                "breakers": await self._breakers(),
                "subscriptions": self._subscriptions(described, usage),
                "targets": [
                    {**asdict(t), "route": described.operations.get((t.api, t.operation), "")}
                    for t in described.targets
                ],
            }
        )

    async def _described(self) -> Overview:
        """The directory's targets and limits, read once per version served."""
        version = self.live.version
        if self._overview is None or self._overview[0] != version:
            found = await asyncio.to_thread(overview, self.live.gateway.root)
            self._overview = (version, found)
        return self._overview[1]

    async def _replica(self) -> dict[str, Any]:
        """Requests, errors, cache hits and refusals of this replica's workers, added up."""
        answers = await self.fleet.ask_all("GET", "metrics", timeout=10)
        merged = merge(answer.body for answer in answers if answer.ok)
        counters = merged.get("counters", {})
        per: dict[str, dict[str, dict[str, float]]] = {
            "api": defaultdict(lambda: defaultdict(float)),
            "backend": defaultdict(lambda: defaultdict(float)),
        }
        for labels, value in counters.get(REQUESTS.name, {}).get("series", []):
            status = labels.get("status_class", "")
            for key in per:
                row = per[key][labels.get(key) or "-"]
                row["requests"] += value
                row["errors"] += value if status in ("4xx", "5xx") else 0
                row["cache_hits"] += value if labels.get("cache") == "hit" else 0
        refusals: dict[tuple[str, str], float] = defaultdict(float)
        for labels, value in counters.get(REFUSALS.name, {}).get("series", []):
            refusals[(labels.get("api", ""), labels.get("statement", ""))] += value
        return {
            "workers": {
                "answered": sum(answer.ok for answer in answers),
                "missing": sum(not answer.ok for answer in answers),
            },
            **{
                key + "s": [{key: name, **rows[name]} for name in sorted(rows)]
                for key, rows in per.items()
            },
            "refusals": [
                {"api": api, "statement": statement, "count": count}
                for (api, statement), count in sorted(refusals.items())
            ],
        }

    async def _breakers(self) -> dict[str, Any]:
        """Each backend with a circuit breaker: open or closed, as the counter store says."""
        wiring = self.live.current.wiring
        shared = is_redis_url(self.live.gateway.config.stores.default.resolve().strip())
        rows = []
        for backend in sorted(wiring.breakers.rules):
            left = await wiring.breakers.open_for(backend)
            rows.append({"backend": backend, "open": left > 0, "seconds_left": round(left, 1)})
        return {"fleet": shared, "rows": rows}

    def _subscriptions(self, described: Overview, usage: dict[str, Row]) -> list[dict[str, Any]]:
        config = self.live.gateway.config
        every: dict[str, set[str]] = defaultdict(set)  # an API's operations
        for api, operation in described.operations:
            every[api].add(operation)
        rows = []
        for row in dashboard_subscriptions(self.live):
            scope = row["scope"]
            kind, _, name = scope.partition("/")
            if kind == "product":
                product = config.products.get(name)
                opens = set(product.apis) if product is not None else set()
            else:
                opens = {name} if kind == "api" else set(config.apis)
            limits = [
                limit
                for limit in described.limits
                if limit.target.api in opens
                and limit.target.product == (name if kind == "product" else None)
            ]
            used: Row = usage.get(row["id"], {})
            rows.append(
                {
                    **row,
                    "calls": int(str(used.get("calls", 0))),
                    "tokens": int(str(used.get("prompt_tokens", 0)))
                    + int(str(used.get("completion_tokens", 0))),
                    "cost": used.get("cost", "0"),
                    "limits": _limits(limits, every),
                }
            )
        return rows


def _limits(found: list[Limit], operations: dict[str, set[str]]) -> list[dict[str, Any]]:
    """Each limit once, with where it applies: an API whose every operation it covers is named
    alone (`chat`), else each operation (`chat/ChatCompletions_Create`)."""
    where: dict[tuple[str, tuple[tuple[str, str], ...], str], dict[str, set[str]]] = {}
    for limit in found:
        key = (limit.statement, limit.settings, limit.origin)
        where.setdefault(key, defaultdict(set))[limit.target.api].add(limit.target.operation)
    return [
        {
            "statement": statement,
            "settings": dict(settings),
            "origin": origin,
            "applies_to": _applies_to(apis, operations),
        }
        for (statement, settings, origin), apis in where.items()
    ]


def _applies_to(apis: dict[str, set[str]], operations: dict[str, set[str]]) -> list[str]:
    named: list[str] = []
    for api, covered in sorted(apis.items()):
        if covered >= operations.get(api, set()):
            named.append(api)
        else:
            named += [f"{api}/{operation}" for operation in sorted(covered)]
    return named
