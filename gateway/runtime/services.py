"""What steps may ask of the running gateway beyond the request: stores, caches, side calls.

Every service is a protocol: the counter store's and the cache stores' are their packages'
own contracts (gateway.stores.counters, gateway.caching.store); the rest are declared here and
implemented above (the proxy, caching, telemetry), so steps never import the HTTP client, the
identity code or OpenTelemetry. The proxy puts one `Services` on every request context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from gateway.caching.store import CacheStore, VectorIndex
from gateway.expressions.model import ResponseModel
from gateway.stores.counters import CounterStore
from gateway.tokens.prices import Price

if TYPE_CHECKING:
    import numpy as np


class Caches(Protocol):
    """The gateway's caches, by APIM's `caching-type` (gateway.caching.caches)."""

    def pick(self, caching_type: str | None) -> CacheStore:
        """The cache for `caching-type` (None: prefer-external)."""
        ...

    def vectors(self, caching_type: str | None) -> VectorIndex:
        """The semantic-cache vectors for `caching-type`."""
        ...


class SideCalls(Protocol):
    """HTTP calls a policy makes itself (`send-request`, `send-one-way-request`)."""

    def allows(self, url: str) -> bool:
        """May a policy call this URL when an expression computed it?"""
        ...

    async def send(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: bytes | None,
        timeout: float,
    ) -> ResponseModel:
        """Send and read the whole response; raises `TimeoutError` or `ConnectionError`."""
        ...


class BackendCalls(Protocol):
    """Calls the gateway makes to a configured backend on its own account (Content Safety)."""

    async def post_json(
        self, backend_id: str, body: bytes, timeout: float, path: str = ""
    ) -> tuple[int, bytes]:
        """POST `body` to the backend's URL (`path` appended) with its credentials: the status
        and the body. Raises `PolicyError` for an unknown backend or an unset secret."""
        ...


class Samples(Protocol):
    """Example responses of operations, for `mock-response`."""

    def example(
        self, api: str, operation: str, status: int, content_type: str | None
    ) -> tuple[str, bytes] | None:
        """(content type, body) of the operation's example for that status, if it has one."""
        ...


class BearerTokens(Protocol):
    """Bearer tokens for `authentication-managed-identity`."""

    async def token(self, resource: str, client_id: str | None) -> str:
        """A token for `resource`; raises `TokenUnavailable` saying why there is none."""
        ...


class TokenUnavailable(Exception):
    """No token could be had for a resource; the message says what to configure."""


class SigningKeys(Protocol):
    """Signing keys published at OpenID configuration / JWKS URLs, for `validate-jwt`."""

    authority: str  # Entra's host, for validate-azure-ad-token

    async def signing_keys(self, url: str, *, refresh: bool = False) -> list[dict[str, object]]:
        """The JWKS `keys` behind an OpenID configuration or JWKS URL (cached)."""
        ...


class Embeddings(Protocol):
    """Vectors of prompts, for the semantic caches (`embeddings-backend-id`)."""

    def identity(self, name: str) -> str | None:
        """What distinguishes this embedder's vectors (None: no such embedder)."""
        ...

    async def embed(self, name: str, text: str) -> np.ndarray | None:
        """The unit vector of `text`, or None when none can be had now (a cache miss)."""
        ...


class Prices(Protocol):
    """The price table gateway.yaml and the shipped prices make (gateway.tokens.prices)."""

    # gateway.yaml's limits.unpriced-models: "refuse", "dearest" or "allow".
    unpriced: str

    def price(self, backend: str, api: str, model: str) -> Price | None:
        """`model`'s price at `backend`'s provider (by the API's style when `backend` is '' or
        unknown); for a model with no price, the dearest rates (`Price.dearest`) unless
        unpriced models are allowed, then None."""
        ...


class Metrics(Protocol):
    """Counters by name and dimensions (gateway.telemetry.metrics)."""

    def add(
        self, namespace: str, name: str, value: float, dimensions: Mapping[str, str]
    ) -> None: ...


class Loggers(Protocol):
    """gateway.yaml's named loggers, for `log-to-eventhub` (gateway.telemetry.loggers)."""

    def send(
        self, logger: str, text: str, partition_id: int | None, partition_key: str | None
    ) -> None:
        """Queue `text` for the logger's sink; never waits, never raises (a full queue drops
        it and counts the drop)."""
        ...


@dataclass(frozen=True, slots=True)
class Services:
    counters: CounterStore | None = None  # rate limits, quotas, token limits
    # Token limits reserve prompt + output before forwarding (reserve-and-settle) when set:
    # the output tokens reserved for a request that names no maximum.
    reserved_output_tokens: int | None = None
    on_store_failure: str = "open"  # limits whose store is unreachable: "open" or "closed"
    metrics: Metrics | None = None  # emit-metric, llm-emit-token-metric
    caches: Caches | None = None  # cache-lookup/-store, cache-*-value, semantic caches
    embeddings: Embeddings | None = None  # the semantic caches' embedders
    prices: Prices | None = None  # cost limits, the semantic cache's saved cost
    side_calls: SideCalls | None = None
    backend_calls: BackendCalls | None = None
    samples: Samples | None = None
    bearer_tokens: BearerTokens | None = None
    signing_keys: SigningKeys | None = None
    loggers: Loggers | None = None  # log-to-eventhub
