"""gateway.yaml's `backends`: one backend (a URL) or a pool of backends, with credentials,
circuit breaker, TLS and translation settings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Literal

from gateway.config.keys import entry_id, key
from gateway.config.secrets import ConfigValue

Provider = Literal[
    "openai",
    "azure-openai",
    "anthropic",
    "gemini",
    "groq",
    "mistral",
    "deepinfra",
    "cerebras",
    "xai",
    "openai-compatible",
    "http",
]
PoolStrategy = Literal[
    "round-robin", "weighted", "priority", "fallback", "race", "cheapest", "fastest"
]

# RFC 6265's cookie-name (an RFC 7230 token): what a pool's session-affinity cookie may be named.
COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureCondition:
    """What counts as a failure, and how many trip the breaker."""

    count: int | None = key(None, "Failures within the interval that trip the breaker.", minimum=1)
    percentage: int | None = key(
        None, "Share of failed calls that trips it.", minimum=1, maximum=100
    )
    interval: float = key(
        0.0, "The window failures are counted in.", kind="duration", required=True
    )
    status_code_ranges: tuple[tuple[int, int], ...] = key(
        (), 'Status codes that count as failures: "429", "500-599".', kind="status-range"
    )
    error_reasons: tuple[str, ...] = key((), "Free-text labels, as APIM has them.")


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerRule:
    """A circuit breaker rule: when it trips, and for how long."""

    name: str = key("")
    failure_condition: FailureCondition = key(required=True)
    trip_duration: float = key(
        0.0, "How long the breaker stays open.", kind="duration", required=True
    )
    accept_retry_after: bool = key(False, "Let the backend's Retry-After set the open time.")


@dataclass(frozen=True, slots=True, kw_only=True)
class CircuitBreaker:
    """Stop calling a failing backend for a while."""

    rules: tuple[BreakerRule, ...] = key((), required=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Authorization:
    """An Authorization header sent to the backend: `<scheme> <parameter>`."""

    scheme: str = key(required=True)
    parameter: ConfigValue | None = key(None)


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagedIdentity:
    """A bearer token for the backend's resource, from the gateway's managed identity."""

    resource: str = key(required=True)
    client_id: str | None = key(None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """What the gateway adds to each call to the backend; it replaces a client's own."""

    headers: dict[str, ConfigValue] = key(
        dict, "Header name -> value sent to the backend.", name="header"
    )
    query: dict[str, ConfigValue] = key(dict, "Query parameter -> value.")
    authorization: Authorization | None = key(None)
    managed_identity: ManagedIdentity | None = key(None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Translation:
    """How a chat call in another API's style (OpenAI <-> Anthropic) is translated for this
    backend."""

    reasoning: Literal["drop", "map"] = key(
        "drop",
        "map: OpenAI's reasoning_effort <-> Anthropic's thinking budget, and the response's "
        "reasoning back (reasoning_content <-> thinking blocks); for backends whose models all "
        "reason. drop: left out both ways.",
    )
    sampling: Literal["map", "drop"] = key(
        "map", "map: temperature and top_p are sent. drop: left out, for models that reject them."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Tls:
    """How the backend's certificate is checked."""

    validate_certificate_chain: bool = key(True)
    validate_certificate_name: bool = key(True)


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolMember:
    """A member of a pool: a backend's name, or the backend with its priority and weight."""

    SHORTHAND: ClassVar[str] = "backend"

    backend: str = key(doc="A backend declared under 'backends'.", required=True)
    priority: int = key(0, "Lower is preferred.", minimum=0, maximum=100)
    weight: int = key(1, "Share within a priority group.", minimum=0, maximum=100)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionAffinity:
    """Keep one client session on one pool member, by a cookie."""

    cookie: str = key(doc="Cookie name.", required=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Pool:
    """A pool of backends instead of a URL."""

    strategy: PoolStrategy = key("round-robin")
    services: tuple[PoolMember, ...] = key((), "The member backends.", required=True)
    race_count: int = key(2, "race: how many members are asked each call.", minimum=2)
    hedge_delay: float = key(
        0.0, "race: seconds before each further member is asked (0: all at once).", minimum=0
    )
    session_affinity: SessionAffinity | None = key(None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Backend:
    """One backend (url) or a pool of backends (pool)."""

    id: str = entry_id()
    models: dict[str, str] = key(
        dict, "The model a client asks for -> the name this backend knows it by."
    )
    api_key: ConfigValue | None = key(
        None,
        "The provider's key, sent as it expects: Authorization Bearer, or api-key "
        "(azure-openai), or x-api-key (anthropic).",
    )
    api_version: str = key(
        "2024-10-21", "azure-openai: the api-version sent for calls from OpenAI-style clients."
    )
    url: ConfigValue | None = key(
        None, "The backend's base URL; the operation path is appended.", kind="url"
    )
    provider: Provider = key("openai-compatible")
    translation: Translation = key(Translation)
    credentials: Credentials = key(Credentials)
    timeout: float = key(300.0, "Seconds to wait for response headers.", kind="duration")
    circuit_breaker: CircuitBreaker = key(CircuitBreaker)
    tls: Tls = key(Tls)
    pool: Pool | None = key(None)
    title: str | None = key(None)
    description: str | None = key(None)

    @property
    def is_pool(self) -> bool:
        return self.pool is not None


def credential_headers(backend: Backend) -> list[tuple[str, str]]:
    """The headers the gateway adds to each call to `backend` (its `${env:}`/`${file:}` read
    now; `SecretUnavailable` when one cannot be): `credentials.header`, the provider's
    `api-key` the way that provider reads it, and `credentials.authorization`."""
    headers = [(name, value.resolve()) for name, value in backend.credentials.headers.items()]
    if backend.api_key is not None:
        headers.append(key_header(backend.provider, backend.api_key.resolve()))
    if backend.credentials.authorization is not None:
        headers.append(authorization_header(backend.credentials.authorization))
    return headers


def credential_query(backend: Backend) -> list[tuple[str, str]]:
    """`credentials.query`, resolved."""
    return [(name, value.resolve()) for name, value in backend.credentials.query.items()]


def authorization_header(authorization: Authorization) -> tuple[str, str]:
    """`credentials.authorization`: the scheme, then its parameter when it has one (APIM's)."""
    words = [authorization.scheme]
    if authorization.parameter is not None:
        words.append(authorization.parameter.resolve())
    return ("Authorization", " ".join(words))


def key_header(provider: str, key: str) -> tuple[str, str]:
    """A provider's key, the way that provider reads it."""
    if provider == "azure-openai":
        return ("api-key", key)
    if provider == "anthropic":
        return ("x-api-key", key)
    return ("Authorization", f"Bearer {key}")
