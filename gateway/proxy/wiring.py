"""The composition root: the stores, caches, backend calls and services gateway.yaml asks
for, built once per serving process and closed together.

The lower packages know nothing of gateway.yaml; here it is read and their parts are built:
the counter store and the caches (in the process or in Redis), the backend sessions,
credentials, member choice and forwarding, the side-call clients, the price table, the
embedders, the loggers (and the APIs' LLM message logging), the tracing spans (when
traces are on), and the one `Services` every request context carries.

A reload (gateway.proxy.live) builds a new Wiring from the new configuration and the one
serving: each part whose settings did not change is carried over, the very object, so counters,
cache entries, breaker states (kept in the counter store), fetched tokens, latencies and the
sessions of backends that remain survive. `close(successor)` then closes only what the
successor did not take. The metrics and the tracer belong to the process: every generation
shares them, and only the last close ends the tracer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from gateway.caching.caches import Caches
from gateway.caching.memory import MemoryCache
from gateway.caching.vectors import MemoryVectors
from gateway.common.url_paths import AllowedUrls
from gateway.config.settings import GatewayConfig
from gateway.ledger.writer import ledger_writer
from gateway.proxy.accounting import Accounting, Prices
from gateway.proxy.admin_auth import AdminKey
from gateway.proxy.credentials import Credentials
from gateway.proxy.embeddings import GatewayEmbeddings
from gateway.proxy.forwarder import Forwarder
from gateway.proxy.identity import IdentityTokens
from gateway.proxy.jwks import JwksKeys
from gateway.proxy.samples import OperationSamples
from gateway.proxy.sessions import Sessions
from gateway.proxy.side_calls import AiohttpSideCalls, plain_backend_urls
from gateway.proxy.upstream import Upstream
from gateway.routing.breakers import Breakers
from gateway.routing.costs import CallCosts
from gateway.routing.members import Members
from gateway.routing.pools import Latencies
from gateway.runtime.services import (
    BackendCalls,
    BearerTokens,
    Embeddings,
    Services,
    SideCalls,
)
from gateway.stores.counters import CounterStore
from gateway.stores.memory import MemoryCounters
from gateway.stores.redis_urls import is_redis_url
from gateway.telemetry.access_log import AccessLog
from gateway.telemetry.builtin import BREAKER_STATE, BuiltinMetrics
from gateway.telemetry.llm_messages import LlmMessageLog
from gateway.telemetry.loggers import Loggers
from gateway.telemetry.metrics import Metrics
from gateway.tenants.index import Tenants
from gateway.tenants.location import open_store, store_location
from gateway.tokens.prices import PriceTable

if TYPE_CHECKING:  # OpenTelemetry is imported only when tracing is on
    from gateway.proxy.traced import Spans
    from gateway.telemetry.tracing import Tracing

Part = TypeVar("Part")


class Wiring:
    """Every part a serving gateway builds from its configuration, once (per reload)."""

    def __init__(
        self,
        config: GatewayConfig,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
        previous: Wiring | None = None,
        root: Path | None = None,
    ) -> None:
        # Each carried part's settings: equal settings, the same object.
        self.settings: dict[str, object] = {}

        def carried(name: str, settings: object, make: Callable[[], Part]) -> Part:
            self.settings[name] = settings
            if previous is not None and previous.settings.get(name) == settings:
                part: Part = getattr(previous, name)
                return part
            return make()

        self.config = config
        self.tracing = tracing
        self.admin_key = AdminKey(config.admin.admin_key)
        # None when tracing is off: then nothing on the request path asks for a span, and
        # OpenTelemetry (gateway.proxy.traced imports it) is never imported.
        self.spans: Spans | None = None
        if tracing is not None:
            from gateway.proxy.traced import Spans

            self.spans = Spans(config, tracing)
        self.counters = carried(
            "counters", config.stores.default.resolve().strip(), lambda: counter_store(config)
        )
        cache = config.cache
        self.caches = carried(
            "caches",
            (external_cache_url(config), cache.memory_max_bytes, cache.partition_max_entries),
            lambda: caches_for(config),
        )
        self.bearer_tokens = carried(
            "bearer_tokens", config.identity, lambda: IdentityTokens(config.identity)
        )
        self.signing_keys = carried(
            "signing_keys", config.identity.authority_host, lambda: JwksKeys(config)
        )
        fresh = AiohttpSideCalls(config)  # cheap: its session opens on first use
        self.side_calls = carried("side_calls", tuple(fresh.prefixes), lambda: fresh)
        self.latencies = carried("latencies", "", Latencies)
        self.sessions = Sessions()
        if previous is not None:  # a remaining backend keeps its pooled connections
            self.sessions.adopt(previous.sessions, _session_keys(previous.config, config))
        tokens: BearerTokens = self.bearer_tokens
        if self.spans is not None:
            tokens = self.spans.bearer_tokens(tokens)
        listed = config.set_backend_service.allowed_urls
        base_urls = AllowedUrls([*listed, *plain_backend_urls(config)]) if listed else None
        self.upstream = Upstream(config.backends, self.sessions, Credentials(tokens), base_urls)
        prices = PriceTable(row.price() for row in config.pricing)
        costs = CallCosts(config, prices)
        breakers = self.breakers = Breakers(config.backends, self.counters)
        members = Members(config.backends, breakers, self.latencies, costs)
        serves_llm = any(api.style != "http" for api in config.apis.values())
        accounting = Accounting(metrics) if serves_llm else None
        self.builtin = builtin_metrics(config, metrics, prices, breakers)
        self.forwarder = Forwarder(
            members,
            self.upstream,
            self.latencies,
            costs,
            accounting,
            metrics,
            spans=self.spans,
            builtin=self.builtin,
        )
        local = previous.embeddings.local if previous is not None else None
        self.embeddings = GatewayEmbeddings(config, self.upstream, local)
        self.access_log = carried("access_log", config.telemetry.access_log, _access_log(config))
        self.loggers = carried(
            "loggers",
            config.loggers,
            lambda: Loggers(config.loggers, metrics) if config.loggers else None,
        )
        # The usage ledger (of a policies directory `root` being served): carried over a
        # reload while its settings stay, so what it holds is neither lost nor written twice.
        self.ledger = carried(
            "ledger",
            (config.ledger, root, serves_llm),
            lambda: ledger_writer(config, root, metrics) if serves_llm and root else None,
        )
        self.llm_messages = llm_message_logs(config, self.loggers)
        # Subscriptions made through the admin API: kept while the store and refresh stay.
        where = store_location(config, root) if _manages_subscriptions(config) else None
        self.tenants = carried(
            "tenants",
            (where, config.admin.refresh),
            lambda: Tenants(open_store(where), config.admin.refresh) if where else None,
        )
        side_calls: SideCalls = self.side_calls
        backend_calls: BackendCalls = self.upstream
        embeddings: Embeddings = self.embeddings
        if self.spans is not None:  # each side call in a span
            side_calls, backend_calls, embeddings = self.spans.side_services(
                side_calls, backend_calls, embeddings
            )
        self.services = Services(
            counters=self.counters,
            reserved_output_tokens=config.limits.reserved_output,
            on_store_failure=config.limits.on_store_failure,
            metrics=metrics,
            caches=self.caches,
            embeddings=embeddings,
            prices=Prices(config, prices) if serves_llm else None,
            side_calls=side_calls,
            backend_calls=backend_calls,
            samples=OperationSamples(config),
            bearer_tokens=tokens,
            signing_keys=self.signing_keys,
            loggers=self.loggers,
        )

    async def start(self) -> None:
        """In the serving loop, before this wiring serves: read what the stores hold."""
        if self.tenants is not None:
            await self.tenants.start()

    async def close(self, successor: Wiring | None = None) -> None:
        """Close every part, or (after a reload) those `successor` did not carry over."""

        def dropped(name: str) -> bool:
            return successor is None or getattr(successor, name) is not getattr(self, name)

        await self.sessions.close(keep=successor.sessions if successor is not None else None)
        if dropped("side_calls"):
            await self.side_calls.close()
        if dropped("bearer_tokens"):
            await self.bearer_tokens.close()
        if dropped("signing_keys"):
            await self.signing_keys.close()
        if dropped("counters"):
            await self.counters.close()
        if dropped("caches"):
            await self.caches.close()
        if successor is None or successor.embeddings.local is not self.embeddings.local:
            self.embeddings.close()
        if self.access_log is not None:
            self.access_log.flush()
        if self.tenants is not None and dropped("tenants"):
            await self.tenants.close()
        if self.ledger is not None and dropped("ledger"):  # it writes what it holds
            await self.ledger.close()
        if self.loggers is not None and dropped("loggers"):  # what is queued gets a while
            await self.loggers.close()
        if self.tracing is not None and successor is None:
            self.tracing.close()  # the spans still batched go out


def builtin_metrics(
    config: GatewayConfig, metrics: Metrics | None, prices: PriceTable, breakers: Breakers
) -> BuiltinMetrics | None:
    """The gateway's own metrics (None when no metrics are served or exported); the breakers'
    state is read at each scrape."""
    if metrics is None:
        return None
    metrics.gauge(
        BREAKER_STATE,
        lambda: {(backend,): 1.0 if is_open else 0.0 for backend, is_open in breakers.states()},
    )
    models = [row.model for row in prices.rows()]
    for backend in config.backends.values():
        models += [*backend.models, *backend.models.values()]
    return BuiltinMetrics(metrics, config, models)


def _manages_subscriptions(config: GatewayConfig) -> bool:
    """Run-time subscriptions are kept and admitted once an admin key turns the admin API on,
    or gateway.yaml names their store (keeping them in force while the API is off)."""
    return config.admin.admin_key is not None or config.admin.subscriptions is not None


def _session_keys(before: GatewayConfig, after: GatewayConfig) -> Callable[[str], bool]:
    """Which of the sessions built under `before` still apply under `after`: a policy-set
    URL's (`url:<host>`), and a backend's that remains with the same certificate checking."""

    def applies(key: str) -> bool:
        if key.startswith("url:"):
            return True
        old, new = before.backends.get(key), after.backends.get(key)
        return old is not None and new is not None and old.tls == new.tls

    return applies


def _access_log(config: GatewayConfig) -> Callable[[], AccessLog | None]:
    return lambda: AccessLog() if config.telemetry.access_log else None


def counter_store(config: GatewayConfig) -> CounterStore:
    """`stores.default`: `memory` or a Redis URL."""
    url = config.stores.default.resolve().strip()
    if is_redis_url(url):
        from gateway.stores.redis import RedisCounters

        return RedisCounters(url)
    return MemoryCounters()


def external_cache_url(config: GatewayConfig) -> str | None:
    """The Redis URL caches share, if gateway.yaml names one."""
    stores = config.stores
    # `cache: memory` keeps caches in the process even when counters are in Redis.
    setting = stores.cache if stores.cache is not None else stores.default
    url = setting.resolve().strip()
    return url if is_redis_url(url) else None


def caches_for(config: GatewayConfig) -> Caches:
    """The in-process cache, and Redis's when gateway.yaml names one."""
    url = external_cache_url(config)
    internal = MemoryCache(config.cache.memory_max_bytes)
    entries = config.cache.partition_max_entries
    vectors = MemoryVectors(entries)
    if url is None:
        return Caches(internal, internal_vectors=vectors)
    from gateway.caching.redis_cache import RedisCache
    from gateway.caching.redis_vectors import RedisVectors

    shared = RedisVectors(url, entries)
    return Caches(internal, RedisCache(url), internal_vectors=vectors, external_vectors=shared)


def llm_message_logs(config: GatewayConfig, loggers: Loggers | None) -> dict[str, LlmMessageLog]:
    """API id -> its LLM message logging, for the APIs whose `llm-messages` asks for it."""
    if loggers is None:
        return {}
    return {
        api.id: LlmMessageLog(api.llm_messages, loggers.queue(api.llm_messages.logger))
        for api in config.apis.values()
        if api.llm_messages is not None
    }
