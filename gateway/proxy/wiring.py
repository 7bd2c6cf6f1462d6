"""The composition root: the stores, caches, backend calls and services gateway.yaml asks
for, built once per serving process and closed together.

The lower packages know nothing of gateway.yaml; here it is read and their parts are built:
the counter store and the caches (in the process or in Redis), the backend sessions,
credentials, member choice and forwarding, the side-call clients, the price table, the
embedders, the loggers (and the APIs' LLM message logging), the tracing spans (when
traces are on), and the one `Services` every request context carries.
"""

from __future__ import annotations

from pathlib import Path

from gateway.caching.caches import Caches
from gateway.caching.memory import MemoryCache
from gateway.caching.vectors import MemoryVectors
from gateway.config.settings import GatewayConfig
from gateway.ledger.writer import ledger_writer
from gateway.proxy.accounting import Accounting, Prices
from gateway.proxy.credentials import Credentials
from gateway.proxy.embeddings import GatewayEmbeddings
from gateway.proxy.forwarder import Forwarder
from gateway.proxy.identity import IdentityTokens
from gateway.proxy.jwks import JwksKeys
from gateway.proxy.samples import OperationSamples
from gateway.proxy.sessions import Sessions
from gateway.proxy.side_calls import AiohttpSideCalls
from gateway.proxy.traced import Spans
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
from gateway.telemetry.tracing import Tracing
from gateway.tokens.prices import PriceTable


class Wiring:
    """Every part a serving gateway builds from its configuration, once."""

    def __init__(
        self,
        config: GatewayConfig,
        metrics: Metrics | None = None,
        tracing: Tracing | None = None,
        root: Path | None = None,
    ) -> None:
        self.tracing = tracing
        # None when tracing is off: then nothing on the request path asks for a span.
        self.spans = Spans(config, tracing) if tracing is not None else None
        self.counters = counter_store(config)
        self.caches = caches_for(config)
        self.bearer_tokens = IdentityTokens(config.identity)
        self.signing_keys = JwksKeys(config)
        self.side_calls = AiohttpSideCalls(config)
        self.sessions = Sessions()
        tokens: BearerTokens = self.bearer_tokens
        if self.spans is not None:
            tokens = self.spans.bearer_tokens(tokens)
        self.upstream = Upstream(config.backends, self.sessions, Credentials(tokens))
        prices = PriceTable(row.price() for row in config.pricing)
        costs = CallCosts(config, prices)
        latencies = Latencies()
        breakers = Breakers(config.backends, self.counters)
        members = Members(config.backends, breakers, latencies, costs)
        serves_llm = any(api.style != "http" for api in config.apis.values())
        accounting = Accounting(metrics) if serves_llm else None
        self.builtin = builtin_metrics(config, metrics, prices, breakers)
        self.forwarder = Forwarder(
            members,
            self.upstream,
            latencies,
            costs,
            accounting,
            metrics,
            spans=self.spans,
            builtin=self.builtin,
        )
        self.embeddings = GatewayEmbeddings(config, self.upstream)
        self.access_log = AccessLog() if config.telemetry.access_log else None
        # The usage ledger: of the LLM calls of a policies directory (`root`) being served.
        self.ledger = ledger_writer(config, root, metrics) if serves_llm and root else None
        self.loggers = Loggers(config.loggers, metrics) if config.loggers else None
        self.llm_messages = llm_message_logs(config, self.loggers)
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

    async def close(self) -> None:
        await self.sessions.close()
        await self.side_calls.close()
        await self.bearer_tokens.close()
        await self.signing_keys.close()
        await self.counters.close()
        await self.caches.close()
        self.embeddings.close()
        if self.access_log is not None:
            self.access_log.flush()
        if self.ledger is not None:
            await self.ledger.close()
        if self.loggers is not None:  # what is queued gets a short while to be written
            await self.loggers.close()
        if self.tracing is not None:
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
