"""Typed configuration objects built from a checked gateway.yaml.

Values that may be secrets stay `ConfigValue`s until the gateway uses them: linting on a
machine without the environment variables works, and nothing secret is resolved early.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from gateway.common.diagnostics import Location
from gateway.config.reader import SECRET_REFERENCE
from gateway.tokens.prices import Price


class SecretUnavailable(Exception):
    """A `${env:...}`/`${file:...}` reference could not be resolved; names it, not its value."""


@dataclass(frozen=True, slots=True)
class ConfigValue:
    """A string from gateway.yaml that may contain `${env:NAME}` or `${file:PATH}`."""

    raw: str
    base: Path = Path(".")

    @property
    def is_reference(self) -> bool:
        return bool(SECRET_REFERENCE.search(self.raw))

    def resolve(self) -> str:
        def value_of(match: object) -> str:
            kind, name = match.group(1), match.group(2).strip()  # type: ignore[attr-defined]
            if kind == "env":
                if name not in os.environ:
                    raise SecretUnavailable(f"the environment variable {name} is not set")
                return os.environ[name]
            path = Path(name) if Path(name).is_absolute() else self.base / name
            try:
                return path.read_text(encoding="utf-8").removesuffix("\n")
            except OSError as error:
                raise SecretUnavailable(
                    f"cannot read the secret file {path}: {error.strerror}"
                ) from None

        return SECRET_REFERENCE.sub(value_of, self.raw)

    def __repr__(self) -> str:  # never print a resolved secret; the raw text is a reference
        return f"ConfigValue({self.raw if self.is_reference else '***'!r})"


@dataclass(frozen=True, slots=True)
class BreakerRule:
    interval: float
    trip_duration: float
    count: int | None = None
    percentage: int | None = None
    status_code_ranges: tuple[tuple[int, int], ...] = ()
    error_reasons: tuple[str, ...] = ()
    accept_retry_after: bool = False
    name: str = ""


@dataclass(frozen=True, slots=True)
class Credentials:
    headers: dict[str, ConfigValue] = field(default_factory=dict)
    query: dict[str, ConfigValue] = field(default_factory=dict)
    authorization: tuple[str, ConfigValue | None] | None = None
    managed_identity_resource: str | None = None
    managed_identity_client_id: str | None = None


# RFC 6265's cookie-name (an RFC 7230 token): what a pool's session-affinity cookie may be named.
COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True, slots=True)
class PoolMember:
    backend: str
    priority: int = 0
    weight: int = 1


@dataclass(frozen=True, slots=True)
class Backend:
    id: str
    url: ConfigValue | None = None
    provider: str = "openai-compatible"
    credentials: Credentials = field(default_factory=Credentials)
    timeout: float = 300.0
    breaker_rules: tuple[BreakerRule, ...] = ()
    validate_certificate_chain: bool = True
    validate_certificate_name: bool = True
    pool_strategy: str | None = None  # set when this backend is a pool
    pool_members: tuple[PoolMember, ...] = ()
    models: dict[str, str] = field(default_factory=dict)  # the client's model -> this backend's
    api_key: ConfigValue | None = None  # sent the provider's way (Bearer, api-key, x-api-key)
    api_version: str = "2024-10-21"  # azure-openai: the api-version calls from OpenAI clients get
    # A chat call translated for this backend (translation: reasoning, sampling): "map" or "drop".
    reasoning: str = "drop"  # reasoning_effort <-> thinking, and the answer's reasoning back
    sampling: str = "map"  # temperature and top_p
    race_count: int = 2  # strategy race: members asked per call
    hedge_delay: float = 0.0  # strategy race: seconds before each further member is asked
    session_cookie: str | None = None

    @property
    def is_pool(self) -> bool:
        return self.pool_strategy is not None


@dataclass(frozen=True, slots=True)
class Operation:
    id: str
    method: str
    url_template: str
    name: str = ""
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True, slots=True)
class Example:
    """An example answer of an operation (mock-response picks one)."""

    body: str
    status: int = 200
    content_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Api:
    id: str
    path: str
    style: str = "http"
    backend: str | None = None
    subscription_required: bool = True
    key_header: str = "Ocp-Apim-Subscription-Key"
    key_query: str = "subscription-key"
    operations: tuple[Operation, ...] = ()
    name: str = ""
    openapi: str | None = None  # the file its operations were imported from


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    apis: tuple[str, ...] = ()
    subscription_required: bool = True
    approval_required: bool = False
    state: str = "published"
    subscriptions_limit: int | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    scope: str  # "all-apis", "product/<id>" or "api/<id>"
    primary_key: ConfigValue | None = None
    secondary_key: ConfigValue | None = None
    state: str = "active"
    name: str = ""


@dataclass(frozen=True, slots=True)
class NamedValue:
    name: str
    value: ConfigValue
    secret: bool = False
    where: Location | None = None  # its line in gateway.yaml, for load-time errors

    @property
    def plain_value(self) -> str | None:
        """The value when it is neither secret nor a reference; otherwise None."""
        return None if self.secret or self.value.is_reference else self.value.raw


@dataclass(frozen=True, slots=True)
class PriceRow:
    provider: str
    model: str
    input: float
    output: float
    cached_input: float | None = None
    cache_write: float | None = None
    reasoning: float | None = None
    date: str = ""

    def price(self) -> Price:
        return Price.of(
            self.provider,
            self.model,
            self.input,
            self.output,
            self.cached_input,
            self.cache_write,
            self.reasoning,
            self.date,
        )


@dataclass(frozen=True, slots=True)
class Telemetry:
    prometheus: bool = True
    otlp_endpoint: str | None = None
    access_log: bool = True
    routing_headers: bool = True  # x-aigw-backend / x-aigw-attempts on answers


ENTRA_AUTHORITY = "https://login.microsoftonline.com"


@dataclass(frozen=True, slots=True)
class Identity:
    """Where `authentication-managed-identity` gets tokens (gateway.yaml `identity`)."""

    tokens: dict[str, ConfigValue] = field(default_factory=dict)  # resource -> bearer token
    tenant_id: ConfigValue | None = None
    client_id: ConfigValue | None = None
    client_secret: ConfigValue | None = None
    authority_host: str = ENTRA_AUTHORITY
    endpoint: str | None = None  # a managed identity endpoint other than the environment's


DEFAULT_MAX_REQUEST_BODY = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    apis: dict[str, Api]
    backends: dict[str, Backend] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    named_values: dict[str, NamedValue] = field(default_factory=dict)
    stores: dict[str, ConfigValue] = field(default_factory=dict)
    embedders: dict[str, dict[str, object]] = field(default_factory=dict)
    pricing: tuple[PriceRow, ...] = ()
    telemetry: Telemetry = field(default_factory=Telemetry)
    max_request_body: int = DEFAULT_MAX_REQUEST_BODY
    # None: APIM's token-limit accounting; a number: reserve-and-settle, with this many output
    # tokens reserved for a request that sets no max tokens itself.
    reserved_output_tokens: int | None = None
    on_store_failure: str = "open"  # what a limit does when its store is unreachable
    cache_max_bytes: int | None = None  # the in-process cache's size; None: the default
    cache_partition_entries: int | None = None  # vectors per semantic partition; None: default
    allowed_urls: tuple[str, ...] = ()  # prefixes send-request may call from an expression URL
    identity: Identity = field(default_factory=Identity)

    @property
    def backend_ids(self) -> frozenset[str]:
        return frozenset(self.backends)

    def api(self, api_id: str) -> Api | None:
        return self.apis.get(api_id)
