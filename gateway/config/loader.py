"""`load_gateway_config`: gateway.yaml -> typed `GatewayConfig` plus every diagnostic.

Never raises for bad input. Checks the document against the shapes, then what the shapes
cannot say: references between entries, subscription scopes, duplicate API paths, pool cycles.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from gateway.common.diagnostics import Diagnostic, Location, Report
from gateway.common.suggest import nearest
from gateway.config.model import (
    COOKIE_NAME,
    DEFAULT_MAX_REQUEST_BODY,
    ENTRA_AUTHORITY,
    Api,
    Backend,
    BreakerRule,
    ConfigValue,
    Credentials,
    Example,
    GatewayConfig,
    Identity,
    NamedValue,
    Operation,
    PoolMember,
    PriceRow,
    Product,
    SecretUnavailable,
    Subscription,
    Telemetry,
)
from gateway.config.openapi import OpenApiError, import_operations
from gateway.config.reader import Path as KeyPath
from gateway.config.reader import ReadResult, read_document
from gateway.config.shapes import GATEWAY
from gateway.stores.redis_urls import BadStoreUrl
from gateway.stores.redis_urls import parse as parse_store_url

_HASHED_KEY = re.compile(r"sha256:[0-9a-f]{64}")
_STATUS_RANGE = re.compile(r"(\d{3})(?:-(\d{3}))?")
JSON = "application/json"
_DEFAULT_KEY_NAMES = {"azure-openai": ("api-key", "api-key")}


def load_gateway_config(path: Path) -> tuple[GatewayConfig | None, list[Diagnostic]]:
    report = Report()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        report.error(Location(str(path)), "unreadable-file", f"cannot read gateway.yaml: {reason}")
        return None, report.sorted()
    result = read_document(text, str(path), GATEWAY, report)
    if result is None:
        return None, report.sorted()
    config = _build(result.data, path.parent, result.locations)
    _import_openapi(config, path.parent, result, report)
    _check_references(config, result, report, str(path))
    return config, report.sorted()


def _import_openapi(config: GatewayConfig, base: Path, result: ReadResult, report: Report) -> None:
    """Give each API that names an OpenAPI file the operations the file declares."""
    for api in list(config.apis.values()):
        if api.openapi is None:
            continue
        where = result.locations.get(("apis", api.id, "openapi"), Location(str(base)))
        if api.style != "http":
            report.error(where, "invalid-value", "only style: http APIs import operations")
            continue
        try:
            imported = import_operations(base / api.openapi)
        except OpenApiError as error:
            report.error(where, "invalid-openapi", str(error))
            continue
        config.apis[api.id] = replace(api, operations=api.operations + imported)


def _value(raw: object, base: Path) -> ConfigValue | None:
    return None if raw is None else ConfigValue(str(raw), base)


def _build(data: dict[str, Any], base: Path, locations: dict[KeyPath, Location]) -> GatewayConfig:
    backends = {k: _backend(k, v, base) for k, v in (data.get("backends") or {}).items()}
    apis = {k: _api(k, v) for k, v in (data.get("apis") or {}).items()}
    products = {
        k: Product(
            id=k,
            apis=tuple(v.get("apis") or ()),
            subscription_required=v.get("subscription-required", True),
            approval_required=v.get("approval-required", False),
            state=v.get("state", "published"),
            subscriptions_limit=v.get("subscriptions-limit"),
            name=v.get("name", k),
        )
        for k, v in (data.get("products") or {}).items()
    }
    subscriptions = {
        k: Subscription(
            id=k,
            scope=v.get("scope", ""),
            primary_key=_value(v.get("primary-key"), base),
            secondary_key=_value(v.get("secondary-key"), base),
            state=v.get("state", "active"),
            name=v.get("name", k),
        )
        for k, v in (data.get("subscriptions") or {}).items()
    }
    named_values = {
        k: NamedValue(
            k,
            ConfigValue(str(v.get("value", "")), base),
            v.get("secret", False),
            locations.get(("named-values", k)),
        )
        for k, v in (data.get("named-values") or {}).items()
    }
    stores = {k: ConfigValue(str(v), base) for k, v in (data.get("stores") or {}).items()}
    telemetry_data = data.get("telemetry") or {}
    limits = data.get("limits") or {}
    return GatewayConfig(
        apis=apis,
        backends=backends,
        products=products,
        subscriptions=subscriptions,
        named_values=named_values,
        stores=stores or {"default": ConfigValue("memory")},
        embedders=dict(data.get("embedders") or {}),
        pricing=tuple(
            PriceRow(
                provider=row["provider"],
                model=row["model"],
                input=row["input"],
                output=row["output"],
                cached_input=row.get("cached-input"),
                cache_write=row.get("cache-write"),
                reasoning=row.get("reasoning"),
                date=row.get("date", ""),
            )
            for row in data.get("pricing") or ()
            if {"provider", "model", "input", "output"} <= set(row)
        ),
        telemetry=Telemetry(
            prometheus=telemetry_data.get("prometheus", True),
            otlp_endpoint=telemetry_data.get("otlp-endpoint"),
            access_log=telemetry_data.get("access-log", True),
            routing_headers=telemetry_data.get("routing-headers", True),
        ),
        max_request_body=limits.get("max-request-body", DEFAULT_MAX_REQUEST_BODY),
        reserved_output_tokens=(
            limits.get("reserved-output-tokens", 1024)
            if limits.get("token-limit-mode") == "reserve-and-settle"
            else None
        ),
        on_store_failure=limits.get("on-store-failure", "open"),
        cache_max_bytes=(data.get("cache") or {}).get("memory-max-bytes"),
        cache_partition_entries=(data.get("cache") or {}).get("partition-max-entries"),
        allowed_urls=tuple((data.get("send-request") or {}).get("allowed-urls") or ()),
        identity=_identity(data.get("identity") or {}, base),
    )


def _identity(data: dict[str, Any], base: Path) -> Identity:
    return Identity(
        tokens={k: ConfigValue(str(v), base) for k, v in (data.get("tokens") or {}).items()},
        tenant_id=_value(data.get("tenant-id"), base),
        client_id=_value(data.get("client-id"), base),
        client_secret=_value(data.get("client-secret"), base),
        authority_host=str(data.get("authority-host", ENTRA_AUTHORITY)).rstrip("/"),
        endpoint=data.get("endpoint"),
    )


def _backend(backend_id: str, data: dict[str, Any], base: Path) -> Backend:
    credentials = data.get("credentials") or {}
    headers = {k: ConfigValue(str(v), base) for k, v in (credentials.get("header") or {}).items()}
    authorization = credentials.get("authorization")
    identity = credentials.get("managed-identity") or {}
    pool = data.get("pool")
    rules = (data.get("circuit-breaker") or {}).get("rules") or ()
    tls = data.get("tls") or {}
    translation = data.get("translation") or {}
    return Backend(
        id=backend_id,
        url=_value(data.get("url"), base),
        provider=data.get("provider", "openai-compatible"),
        credentials=Credentials(
            headers=headers,
            query={
                k: ConfigValue(str(v), base) for k, v in (credentials.get("query") or {}).items()
            },
            authorization=(
                (authorization["scheme"], _value(authorization.get("parameter"), base))
                if authorization and "scheme" in authorization
                else None
            ),
            managed_identity_resource=identity.get("resource"),
            managed_identity_client_id=identity.get("client-id"),
        ),
        timeout=data.get("timeout", 300.0),
        breaker_rules=tuple(_breaker_rule(r) for r in rules if "failure-condition" in r),
        validate_certificate_chain=tls.get("validate-certificate-chain", True),
        validate_certificate_name=tls.get("validate-certificate-name", True),
        pool_strategy=(pool.get("strategy", "round-robin") if pool is not None else None),
        pool_members=tuple(
            PoolMember(m["backend"], int(m.get("priority", 0)), int(m.get("weight", 1)))
            for m in (pool or {}).get("services") or ()
            if "backend" in m
        ),
        session_cookie=((pool or {}).get("session-affinity") or {}).get("cookie"),
        models={str(k): str(v) for k, v in (data.get("models") or {}).items()},
        api_version=str(data.get("api-version", "2024-10-21")),
        api_key=_value(data.get("api-key"), base),
        reasoning=translation.get("reasoning", "drop"),
        sampling=translation.get("sampling", "map"),
        race_count=int((pool or {}).get("race-count", 2)),
        hedge_delay=float((pool or {}).get("hedge-delay", 0.0)),
    )


def _breaker_rule(data: dict[str, Any]) -> BreakerRule:
    condition = data["failure-condition"]
    ranges = []
    for text in condition.get("status-code-ranges") or ():
        match = _STATUS_RANGE.fullmatch(str(text).strip())
        if match:
            low = int(match.group(1))
            ranges.append((low, int(match.group(2) or low)))
    return BreakerRule(
        interval=condition.get("interval", 0.0),
        trip_duration=data.get("trip-duration", 0.0),
        count=condition.get("count"),
        percentage=condition.get("percentage"),
        status_code_ranges=tuple(ranges),
        error_reasons=tuple(condition.get("error-reasons") or ()),
        accept_retry_after=data.get("accept-retry-after", False),
        name=data.get("name", ""),
    )


def _api(api_id: str, data: dict[str, Any]) -> Api:
    style = data.get("style", "http")
    header, query = _DEFAULT_KEY_NAMES.get(style, ("Ocp-Apim-Subscription-Key", "subscription-key"))
    names = data.get("subscription-key-parameter-names") or {}
    return Api(
        id=api_id,
        path=str(data.get("path", "")).strip("/"),
        style=style,
        backend=data.get("backend"),
        subscription_required=data.get("subscription-required", True),
        key_header=names.get("header", header),
        key_query=names.get("query", query),
        operations=tuple(
            Operation(
                o["id"],
                o["method"],
                o["url-template"],
                o.get("name", o["id"]),
                tuple(
                    Example(e["body"], e.get("status", 200), e.get("content-type", JSON))
                    for e in o.get("examples") or ()
                    if "body" in e
                ),
            )
            for o in data.get("operations") or ()
            if {"id", "method", "url-template"} <= set(o)
        ),
        name=data.get("name", api_id),
        openapi=data.get("openapi"),
    )


class _Checker:
    def __init__(
        self, config: GatewayConfig, result: ReadResult, report: Report, path: str
    ) -> None:
        self.config = config
        self.locations = result.locations
        self.report = report
        self.path = path

    def at(self, *keys: str | int) -> Location:
        key: KeyPath = tuple(keys)
        while key and key not in self.locations:
            key = key[:-1]
        return self.locations.get(key, Location(self.path))

    def dangling(
        self, where: Location, kind: str, name: str, known: list[str], section: str
    ) -> None:
        suggestion = nearest(name, known)
        hint = f"did you mean '{suggestion}'?" if suggestion else f"declare it under '{section}'"
        self.report.error(where, "unknown-reference", f"no {kind} named '{name}'; {hint}")

    def run(self) -> None:
        config = self.config
        backends = list(config.backends)
        for api in config.apis.values():
            if api.backend is not None and api.backend not in config.backends:
                self.dangling(
                    self.at("apis", api.id, "backend"), "backend", api.backend, backends, "backends"
                )
            if api.style != "http" and api.operations:
                self.report.error(
                    self.at("apis", api.id, "operations"),
                    "invalid-value",
                    f"API '{api.id}' has style {api.style}, whose operations are built in; "
                    "declare operations only for style: http",
                )
        self.check_paths()
        for backend in config.backends.values():
            self.check_backend(backend, backends)
        for product in config.products.values():
            for index, api_id in enumerate(product.apis):
                if api_id not in config.apis:
                    self.dangling(
                        self.at("products", product.id, "apis", index),
                        "API",
                        api_id,
                        list(config.apis),
                        "apis",
                    )
        for subscription in config.subscriptions.values():
            self.check_subscription(subscription)
        self.check_pool_cycles()
        self.check_stores()
        self.check_embedders()

    def check_embedders(self) -> None:
        for name, embedder in self.config.embedders.items():
            backend = embedder.get("backend")
            if ("builtin" in embedder) == (backend is not None):
                self.report.error(
                    self.at("embedders", name),
                    "missing-key",
                    f"embedder '{name}' needs either 'builtin: minilm-l6-v2' or 'backend'",
                )
            elif backend is not None and backend not in self.config.backends:
                where = self.at("embedders", name, "backend")
                self.dangling(
                    where, "backend", str(backend), list(self.config.backends), "backends"
                )

    def check_stores(self) -> None:
        """A store URL written in gateway.yaml must be one the gateway can connect with."""
        for name, value in self.config.stores.items():
            if value.is_reference or value.raw.strip() == "memory":
                continue
            try:
                parse_store_url(value.raw.strip())
            except BadStoreUrl as error:
                self.report.error(self.at("stores", name), "invalid-value", str(error))

    def check_paths(self) -> None:
        seen: dict[str, str] = {}
        for api in self.config.apis.values():
            if api.path in seen:
                self.report.error(
                    self.at("apis", api.id, "path"),
                    "duplicate-path",
                    f"API '{api.id}' uses the path '{api.path}' of API '{seen[api.path]}'; "
                    "give each API its own path",
                )
            seen.setdefault(api.path, api.id)

    def check_backend(self, backend: Backend, backends: list[str]) -> None:
        if backend.is_pool and backend.url is not None:
            self.report.error(
                self.at("backends", backend.id, "url"),
                "conflicting-keys",
                f"backend '{backend.id}' has both 'url' and 'pool'; a pool has no URL",
            )
        if not backend.is_pool and backend.url is None:
            self.report.error(
                self.at("backends", backend.id),
                "missing-key",
                f"backend '{backend.id}' needs 'url' (or 'pool' for a pool of backends)",
            )
        for index, member in enumerate(backend.pool_members):
            if member.backend not in self.config.backends:
                self.dangling(
                    self.at("backends", backend.id, "pool", "services", index, "backend"),
                    "backend",
                    member.backend,
                    backends,
                    "backends",
                )
        for index, rule in enumerate(backend.breaker_rules):
            if rule.count is None and rule.percentage is None:
                self.report.error(
                    self.at(
                        "backends",
                        backend.id,
                        "circuit-breaker",
                        "rules",
                        index,
                        "failure-condition",
                    ),
                    "missing-key",
                    "a failure-condition needs 'count' or 'percentage'",
                )
        self.check_session_affinity(backend)
        self.check_secrets(backend)

    def check_session_affinity(self, backend: Backend) -> None:
        cookie = backend.session_cookie
        if cookie is None:
            return
        where = self.at("backends", backend.id, "pool", "session-affinity", "cookie")
        if not COOKIE_NAME.fullmatch(cookie):
            self.report.error(
                where,
                "invalid-value",
                f"'{cookie}' cannot be a cookie name: use letters, digits and !#$%&'*+-.^_`|~ "
                "(no spaces, quotes, separators or '=')",
            )
        elif backend.pool_strategy in ("fallback", "race"):
            self.report.warning(
                where,
                "ignored-setting",
                f"a {backend.pool_strategy} pool asks its members in their declared order, so "
                "session-affinity has no effect here",
            )

    def check_secrets(self, backend: Backend) -> None:
        """Warn about a URL or credential whose ${env:}/${file:} cannot be read here.

        A warning, not an error: the machine that lints may not be the one that serves. The
        gateway still starts with it; requests to this backend get a 500 that names it.
        """
        credentials = backend.credentials
        values: list[tuple[tuple[str, ...], ConfigValue | None]] = [(("url",), backend.url)]
        values.append((("api-key",), backend.api_key))
        values += [(("credentials", "header", k), v) for k, v in credentials.headers.items()]
        values += [(("credentials", "query", k), v) for k, v in credentials.query.items()]
        if credentials.authorization is not None:
            values.append(
                (("credentials", "authorization", "parameter"), credentials.authorization[1])
            )
        for keys, value in values:
            if value is None or not value.is_reference:
                continue
            try:
                value.resolve()
            except SecretUnavailable as error:
                self.report.warning(
                    self.at("backends", backend.id, *keys),
                    "unset-secret",
                    f"backend '{backend.id}' cannot be called while {error}; "
                    "its requests will get a 500 that says so",
                )

    def check_subscription(self, subscription: Subscription) -> None:
        scope = subscription.scope
        where = self.at("subscriptions", subscription.id, "scope")
        kind, _, target = scope.partition("/")
        if scope == "all-apis":
            pass
        elif kind == "product" and target:
            if target not in self.config.products:
                self.dangling(where, "product", target, list(self.config.products), "products")
        elif kind == "api" and target:
            if target not in self.config.apis:
                self.dangling(where, "API", target, list(self.config.apis), "apis")
        else:
            self.report.error(
                where,
                "invalid-value",
                f"subscription scope '{scope}' must be all-apis, product/<id> or api/<id>",
            )
        if subscription.primary_key is None and subscription.secondary_key is None:
            self.report.error(
                self.at("subscriptions", subscription.id),
                "missing-key",
                f"subscription '{subscription.id}' needs 'primary-key'",
            )
        for name, key in (
            ("primary-key", subscription.primary_key),
            ("secondary-key", subscription.secondary_key),
        ):
            if (
                key is not None
                and key.raw.startswith("sha256:")
                and not _HASHED_KEY.fullmatch(key.raw)
            ):
                self.report.error(
                    self.at("subscriptions", subscription.id, name),
                    "invalid-value",
                    f"{name} 'sha256:...' must be 64 lowercase hex digits (sha256sum of the key)",
                )

    def check_pool_cycles(self) -> None:
        backends = self.config.backends

        def visit(backend_id: str, trail: tuple[str, ...]) -> None:
            backend = backends.get(backend_id)
            if backend is None:
                return
            for member in backend.pool_members:
                if member.backend in trail:
                    self.report.error(
                        self.at("backends", trail[0], "pool"),
                        "pool-cycle",
                        "pools contain each other: " + " -> ".join([*trail, member.backend]),
                    )
                    return
                visit(member.backend, (*trail, member.backend))

        for backend_id, backend in backends.items():
            if backend.is_pool:
                visit(backend_id, (backend_id,))


def _check_references(config: GatewayConfig, result: ReadResult, report: Report, path: str) -> None:
    _Checker(config, result, report, path).run()
