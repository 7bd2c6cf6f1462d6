"""What the shapes cannot say about gateway.yaml, checked on the typed configuration.

References between entries (an API's backend, a product's APIs, a subscription's scope, a
pool's members, an embedder's backend, an API's llm-messages logger), each logger's keys for
its kind, duplicate API paths, pools that contain each other,
store URLs, cookie names, hashed keys, and secrets that cannot be read on this machine.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from gateway.common.diagnostics import Location, Report
from gateway.common.suggest import nearest
from gateway.config.apis import Subscription
from gateway.config.backends import COOKIE_NAME, Backend
from gateway.config.loggers import KIND_KEYS, REQUIRED_KEYS, SINK_KEYS
from gateway.config.reader import Path as KeyPath
from gateway.config.refusals import check_refused_operations
from gateway.config.secrets import ConfigValue, SecretUnavailable
from gateway.config.settings import GatewayConfig
from gateway.stores.redis_urls import BadStoreUrl
from gateway.stores.redis_urls import parse as parse_store_url

_HASHED_KEY = re.compile(r"sha256:[0-9a-f]{64}")
_LEDGER_SCHEMES = ("sqlite", "postgresql", "postgres")


def check_config(
    config: GatewayConfig, locations: dict[KeyPath, Location], report: Report, path: str
) -> None:
    _Checker(config, locations, report, path).run()


class _Checker:
    def __init__(
        self,
        config: GatewayConfig,
        locations: dict[KeyPath, Location],
        report: Report,
        path: str,
    ) -> None:
        self.config = config
        self.locations = locations
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
        self.check_ledger()
        self.check_embedders()
        self.check_loggers()
        self.check_traces()
        self.check_trusted_proxies()
        check_refused_operations(self.config, self.at, self.report)

    def check_embedders(self) -> None:
        for name, embedder in self.config.embedders.items():
            backend = embedder.backend
            if (embedder.builtin is not None) == (backend is not None):
                self.report.error(
                    self.at("embedders", name),
                    "missing-key",
                    f"embedder '{name}' needs either 'builtin: minilm-l6-v2' or 'backend'",
                )
            elif backend is not None and backend not in self.config.backends:
                where = self.at("embedders", name, "backend")
                self.dangling(where, "backend", backend, list(self.config.backends), "backends")

    def check_loggers(self) -> None:
        loggers = self.config.loggers
        for api in self.config.apis.values():
            wanted = api.llm_messages
            if wanted is not None and wanted.logger not in loggers:
                where = self.at("apis", api.id, "llm-messages", "logger")
                self.dangling(where, "logger", wanted.logger, list(loggers), "loggers")
        for name, logger in loggers.items():
            kind = logger.kind
            for key_name in SINK_KEYS:
                where = ("loggers", name, key_name)
                if key_name not in KIND_KEYS[kind] and where in self.locations:
                    self.report.error(
                        self.locations[where],
                        "conflicting-keys",
                        f"logger '{name}' is of kind {kind}, which has no '{key_name}' "
                        f"(its keys: {', '.join(KIND_KEYS[kind])})",
                    )
            for key_name in REQUIRED_KEYS[kind]:
                if ("loggers", name, key_name) not in self.locations:
                    self.report.error(
                        self.at("loggers", name),
                        "missing-key",
                        f"logger '{name}' of kind {kind} needs '{key_name}'",
                    )
            secrets = (("sasl-password", logger.sasl_password),)
            secrets += (("connection-string", logger.connection_string),)
            for key_name, value in secrets:
                if value is not None and value.is_reference:
                    try:
                        value.resolve()
                    except SecretUnavailable as error:
                        self.report.warning(
                            self.at("loggers", name, key_name),
                            "unset-secret",
                            f"logger '{name}' cannot connect while {error}; its messages "
                            "will be dropped and counted",
                        )

    def check_traces(self) -> None:
        """Sampled spans need somewhere to go."""
        telemetry = self.config.telemetry
        if telemetry.traces.sampling > 0 and telemetry.traces_endpoint is None:
            self.report.error(
                self.at("telemetry", "traces", "sampling"),
                "missing-key",
                "telemetry.traces.sampling is above 0 but spans have nowhere to go: set "
                "telemetry.traces.otlp-endpoint (or telemetry.otlp-endpoint), e.g. "
                "http://127.0.0.1:4318/v1/traces",
            )

    def check_trusted_proxies(self) -> None:
        for index, proxy in enumerate(self.config.limits.trusted_proxies):
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                self.report.error(
                    self.at("limits", "trusted-proxies", index),
                    "invalid-value",
                    f"limits.trusted-proxies: '{proxy}' is not an address or a CIDR range "
                    "(10.0.0.7, 10.0.0.0/8, fd00::/8)",
                )

    def check_stores(self) -> None:
        """A store URL written in gateway.yaml must be one the gateway can connect with."""
        stores = self.config.stores
        named = {"default": stores.default, "cache": stores.cache, **stores.named}
        for name, value in named.items():
            if value is None or value.is_reference or value.raw.strip() == "memory":
                continue
            try:
                parse_store_url(value.raw.strip())
            except BadStoreUrl as error:
                self.report.error(self.at("stores", name), "invalid-value", str(error))

    def check_ledger(self) -> None:
        """`ledger.url`: a SQLite path or URL, or PostgreSQL's (a reference is checked when
        the gateway resolves it)."""
        url = self.config.ledger.url
        if url is None or url.is_reference:
            return
        text = url.raw.strip()
        scheme = re.match(r"^([a-z][a-z0-9+.-]*)://", text)
        if not text or (scheme and scheme.group(1) not in _LEDGER_SCHEMES):
            named = f"a {scheme.group(1)}:// URL" if scheme else "empty"  # never its password
            self.report.error(
                self.at("ledger", "url"),
                "invalid-value",
                f"ledger.url is {named}: give sqlite:///PATH, a path, or postgresql://...",
            )
        elif scheme and scheme.group(1).startswith("postgres"):
            try:  # an unclosed `[`, or a port out of range, fails only when .port is read
                _ = urlsplit(text).port
            except ValueError as error:  # the message names the problem, never the URL
                self.report.error(
                    self.at("ledger", "url"),
                    "invalid-value",
                    f"ledger.url cannot be read ({error}); write "
                    "postgresql://user:password@host:port/database",
                )

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
        members = backend.pool.services if backend.pool is not None else ()
        for index, member in enumerate(members):
            if member.backend not in self.config.backends:
                self.dangling(
                    self.at("backends", backend.id, "pool", "services", index, "backend"),
                    "backend",
                    member.backend,
                    backends,
                    "backends",
                )
        for index, rule in enumerate(backend.circuit_breaker.rules):
            condition = rule.failure_condition
            if condition.count is None and condition.percentage is None:
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
        pool = backend.pool
        if pool is None or pool.session_affinity is None:
            return
        cookie = pool.session_affinity.cookie
        where = self.at("backends", backend.id, "pool", "session-affinity", "cookie")
        if not COOKIE_NAME.fullmatch(cookie):
            self.report.error(
                where,
                "invalid-value",
                f"'{cookie}' cannot be a cookie name: use letters, digits and !#$%&'*+-.^_`|~ "
                "(no spaces, quotes, separators or '=')",
            )
        elif pool.strategy in ("fallback", "race"):
            self.report.warning(
                where,
                "ignored-setting",
                f"a {pool.strategy} pool asks its members in their declared order, so "
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
                (("credentials", "authorization", "parameter"), credentials.authorization.parameter)
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
            if backend is None or backend.pool is None:
                return
            for member in backend.pool.services:
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
