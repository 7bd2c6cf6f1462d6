"""gateway.yaml as a whole (`GatewayConfig`) and its sections beside backends and APIs: stores,
named values, embedders, prices, telemetry, limits, the cache, send-request, identity,
loggers, the admin listener."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from gateway.caching.memory import DEFAULT_MAX_BYTES
from gateway.caching.partitions import DEFAULT_MAX_ENTRIES
from gateway.common.diagnostics import Location
from gateway.config.apis import Api, Product, Subscription
from gateway.config.backends import Backend
from gateway.config.keys import entry_id, key, position
from gateway.config.loggers import Logger
from gateway.config.secrets import ConfigValue
from gateway.tokens.prices import Price

ENTRA_AUTHORITY = "https://login.microsoftonline.com"


@dataclass(frozen=True, slots=True, kw_only=True)
class Stores:
    """Where counters and caches live."""

    default: ConfigValue = key(ConfigValue("memory"), "Counters: memory, or a Redis URL.")
    cache: ConfigValue | None = key(
        None, "Caches' shared store: memory, or a Redis URL. Default: stores.default if Redis."
    )
    named: dict[str, ConfigValue] = key(
        dict, "A named store: memory or a redis:// URL.", extra=True
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedValue:
    """A named value: text policies use as {{name}}."""

    SHORTHAND: ClassVar[str] = "value"

    id: str = entry_id()
    value: ConfigValue = key(ConfigValue(""), required=True)
    secret: bool = key(False, "Never shown by lint or explain.")
    where: Location | None = position()  # for errors when the value is resolved at load

    @property
    def plain_value(self) -> str | None:
        """The value when it is neither secret nor a reference; otherwise None."""
        return None if self.secret or self.value.is_reference else self.value.raw


@dataclass(frozen=True, slots=True, kw_only=True)
class Embedder:
    """An embedder for semantic caches: the gateway's own, or a backend's."""

    id: str = entry_id()
    builtin: Literal["minilm-l6-v2"] | None = key(
        None, "The embedder shipped with the gateway (offline, no service)."
    )
    backend: str | None = key(None, "A backend serving OpenAI-shaped embeddings.")
    model: str | None = key(None, "The model to ask the backend for.")
    dimensions: int | None = key(None, "Ask for vectors this long (text-embedding-3).", minimum=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class PriceRow:
    """A model's price, in dollars per million tokens."""

    provider: str = key(required=True)
    model: str = key(required=True)
    input: float = key(doc="Dollars per million input tokens.", required=True, minimum=0)
    cached_input: float | None = key(None, minimum=0)
    cache_write: float | None = key(None, minimum=0)
    output: float = key(doc="Dollars per million output tokens.", required=True, minimum=0)
    reasoning: float | None = key(None, minimum=0)
    audio_input: float | None = key(None, minimum=0)
    audio_output: float | None = key(None, minimum=0)
    date: str = key("", "When the price was read.")
    source: str = key("", "Where it was read (the provider's pricing page).")

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
            self.audio_input,
            self.audio_output,
            self.source,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Traces:
    """Distributed traces: a span per request, per backend attempt and per side call."""

    sampling: float = key(
        0.0,
        "Share of requests traced, 0 to 1 (0: tracing off, at no cost per request). A client's "
        "traceparent decides for its request: sampled or not, as the client says.",
        minimum=0,
        maximum=1,
    )
    otlp_endpoint: str | None = key(
        None, "Where spans go over OTLP/HTTP. Default: telemetry.otlp-endpoint.", kind="url"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Telemetry:
    """Metrics, traces, the access log and the routing headers."""

    prometheus: bool = key(True, "Serve /metrics on the admin listener.")
    routing_headers: bool = key(
        True,
        "Responses say which backend served (x-aigw-backend) and each attempt (x-aigw-attempts).",
    )
    otlp_endpoint: str | None = key(None, "Export metrics and traces over OTLP.", kind="url")
    access_log: bool = key(True, "One JSON line per request.")
    traces: Traces = key(Traces)

    @property
    def traces_endpoint(self) -> str | None:
        """Where spans are exported: traces.otlp-endpoint, else otlp-endpoint."""
        return self.traces.otlp_endpoint or self.otlp_endpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Limits the proxy enforces on every request."""

    max_request_body: int = key(
        16 * 1024 * 1024,
        "Largest request body in bytes; a larger one gets 413 before any policy runs.",
        minimum=0,
    )
    max_stream_retained: int = key(
        8 * 1024 * 1024,
        "Most bytes of a streamed response kept for what runs after it (cache stores, LLM "
        "message logging); a longer stream still passes to the client whole, but is not "
        "cached nor its text logged (aigw.streams_over_retention counts it).",
        minimum=0,
    )
    token_limit_mode: Literal["apim", "reserve-and-settle"] = key(
        "apim",
        "apim: count from the response, concurrent calls may overshoot as in APIM; "
        "reserve-and-settle: reserve prompt + output cap before forwarding, never overshoot.",
    )
    on_store_failure: Literal["open", "closed"] = key(
        "open",
        "When the counter store is unreachable, limits let calls through (open, with a "
        "warning and the aigw.store_failures metric) or respond 503 (closed).",
    )
    reserved_output_tokens: int = key(
        1024,
        "reserve-and-settle: the output reserved for a request that sets no max tokens.",
        minimum=0,
    )
    unpriced_models: Literal["refuse", "dearest", "allow"] = key(
        "refuse",
        "A call to a model with no price: refuse (403 where an llm-cost-limit applies; "
        "elsewhere counted at the dearest rate), dearest (counted at the dearest rate of its "
        "provider's prices), allow (not counted; aigw.unpriced_calls counts it).",
    )
    token_counter: Literal["compact", "tiktoken"] = key(
        "compact",
        "What counts OpenAI models' prompts offline (a streamed call under a token limit, "
        "estimate-prompt-tokens, reserve-and-settle), with the same counts: compact (the "
        "gateway's own, about 6 MB a worker) or tiktoken (about 45 MB, 2 to 28 times less CPU "
        "a count, and other requests go on while it counts: long streamed prompts, Chinese or "
        "Japanese traffic). A reload switching it applies from the next count.",
    )
    # The listeners (gateway.proxy.listener), read when `aigw run` starts: a reload keeps them.
    max_header_bytes: int = key(
        32 * 1024,
        "Largest request head (request line and headers) in bytes; a larger one gets 431 and "
        "its connection closed.",
        minimum=1024,
    )
    max_headers: int = key(100, "Most request headers; more get 431.", minimum=1)
    max_request_line: int = key(
        8 * 1024, "Longest URL in a request line, in bytes; a longer one gets 414.", minimum=256
    )
    header_timeout: float = key(
        10.0,
        "Seconds a client has to send a request's whole head; later, 408 and the connection "
        "closed (a slowloris).",
        kind="duration",
        minimum=0.1,
    )
    body_timeout: float = key(
        30.0,
        "Seconds a request body may go without a byte (while the gateway reads it); longer, "
        "408 and the connection closed.",
        kind="duration",
        minimum=0.1,
    )
    keep_alive_timeout: float = key(
        5.0,
        "Seconds an idle keep-alive connection is kept between requests.",
        kind="duration",
        minimum=0.1,
    )
    trusted_proxies: tuple[str, ...] = key(
        (),
        "Addresses or CIDR ranges (10.0.0.0/8) of the proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto say who the client is. Default: none; the client is the peer.",
    )

    @property
    def reserved_output(self) -> int | None:
        """Under reserve-and-settle, the output tokens reserved for a request that sets no
        max tokens; None under APIM's accounting."""
        if self.token_limit_mode == "reserve-and-settle":
            return self.reserved_output_tokens
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Cache:
    """The in-process cache."""

    memory_max_bytes: int = key(
        DEFAULT_MAX_BYTES,
        "Most bytes the in-process cache holds; the least recently used go first.",
        minimum=0,
    )
    partition_max_entries: int = key(
        DEFAULT_MAX_ENTRIES,
        "Most prompts a semantic-cache partition holds; those closest to expiry go first.",
        minimum=1,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Reload:
    """Reloading the policies directory while serving (POST /-/reload and SIGHUP always work)."""

    watch: bool = key(
        False, "Poll the directory's version and reload when it changes (a ConfigMap update)."
    )
    interval: float = key(
        2.0, "How often the watch hashes the directory.", kind="duration", minimum=0.1
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SendRequest:
    """What send-request may call."""

    allowed_urls: tuple[str, ...] = key(
        (), "URL prefixes that send-request may call when its set-url is an expression."
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class SetBackendService:
    """Where set-backend-service's base-url may send requests."""

    allowed_urls: tuple[str, ...] = key(
        (),
        "URL prefixes a base-url must be under (besides the backends' URLs); empty: any URL, "
        "as in APIM.",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """Where tokens for managed identity come from."""

    tokens: dict[str, ConfigValue] = key(
        dict,
        "Resource -> a bearer token for it, for authentication-managed-identity outside Azure.",
    )
    tenant_id: ConfigValue | None = key(None, "With client-id and client-secret: an Entra app.")
    client_id: ConfigValue | None = key(None)
    client_secret: ConfigValue | None = key(None)
    authority_host: str = key(ENTRA_AUTHORITY, "Entra's host.", kind="url")
    endpoint: str | None = key(
        None, "The managed identity endpoint; default IDENTITY_ENDPOINT or IMDS.", kind="url"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Ledger:
    """The usage ledger: one record per call, written off the request path (docs/ledger.md)."""

    enabled: bool = key(True, "Write a record of every LLM call.")
    url: ConfigValue | None = key(
        None,
        "sqlite:///PATH, a bare path, or postgresql://... (may hold ${env:...}). "
        "Default: the SQLite file DIR.ledger.sqlite beside the policies directory DIR.",
    )
    queue_size: int = key(10_000, "Records waiting for the writer; more are dropped.", minimum=1)
    batch_size: int = key(500, "Most records written in one transaction.", minimum=1)
    buffer_limit: int = key(
        100_000, "Records kept while the database is away; more are dropped.", minimum=1
    )
    flush_interval: float = key(
        1.0, "Seconds a record may wait before its batch is written.", minimum=0.01
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Admin:
    """The admin listener's key, and where subscriptions made at run time are kept."""

    admin_key: ConfigValue | None = key(
        None,
        name="key",
        doc="The admin key (sent as Authorization: Bearer), or sha256:<hex> of one. Set, it guards "
        "every admin route but /-/ready; unset, the admin API and the dashboard are off.",
    )
    subscriptions: ConfigValue | None = key(
        None,
        "Where subscriptions made through the admin API are kept, with the audit log: a Redis "
        "URL, or a JSON file. Default: stores.default when it is Redis, else the file "
        "DIR.subscriptions.json beside the policies directory DIR.",
    )
    refresh: float = key(
        0.25,
        "How often each process looks for changes made through another process or replica.",
        kind="duration",
        minimum=0.05,
        maximum=1,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayConfig:
    """gateway.yaml: the policies directory's configuration."""

    stores: Stores = key(Stores)
    backends: dict[str, Backend] = key(dict, "Backend name -> a backend or a pool.")
    apis: dict[str, Api] = key(dict, "API id -> an API served under a path.", required=True)
    products: dict[str, Product] = key(dict)
    subscriptions: dict[str, Subscription] = key(dict)
    named_values: dict[str, NamedValue] = key(dict, "APIM's {{name}} values.")
    embedders: dict[str, Embedder] = key(dict)
    pricing: tuple[PriceRow, ...] = key((), "Extra or overriding price rows.")
    telemetry: Telemetry = key(Telemetry)
    limits: Limits = key(Limits)
    cache: Cache = key(Cache)
    send_request: SendRequest = key(SendRequest)
    set_backend_service: SetBackendService = key(SetBackendService)
    identity: Identity = key(Identity)
    ledger: Ledger = key(Ledger)
    loggers: dict[str, Logger] = key(
        dict, "Logger name -> a sink: log-to-eventhub and APIs' llm-messages write to it."
    )
    reload: Reload = key(Reload)
    admin: Admin = key(Admin)
