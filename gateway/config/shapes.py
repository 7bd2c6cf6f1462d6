"""The declaration of gateway.yaml: one tree of shapes that drives validation and JSON Schema.

A `Shape` is a mapping with known keys (`Field`s); a field's `kind` says what its value is.
`gateway.config.reader` checks a YAML document against these shapes and
`gateway.config.schema` turns the same shapes into JSON Schema, so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    kind: str  # string | int | number | bool | duration | enum | url | shape | map | list
    doc: str = ""
    required: bool = False
    default: object = None
    choices: tuple[str, ...] = ()
    shape: Shape | None = None  # for kind "shape", and the item of "map"/"list" of shapes
    item_kind: str = "shape"  # for "map"/"list": the kind of each item
    minimum: float | None = None
    maximum: float | None = None
    # For "shape"/"map" items: a bare string may stand for the shape's `shorthand` field.
    secret: bool = False  # may be ${env:...} / ${file:...}


@dataclass(frozen=True, slots=True)
class Shape:
    name: str
    fields: tuple[Field, ...]
    doc: str = ""
    shorthand: str | None = None  # a scalar in place of the mapping sets this field
    extra: tuple[Field, ...] = field(default=())

    def get(self, key: str) -> Field | None:
        return next((f for f in self.fields if f.name == key), None)


PROVIDERS = (
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
)
STYLES = ("azure-openai", "openai", "anthropic", "http")
POOL_STRATEGIES = ("round-robin", "weighted", "priority", "fallback", "race", "cheapest", "fastest")
SUBSCRIPTION_STATES = ("active", "suspended", "submitted", "rejected", "cancelled", "expired")

FAILURE_CONDITION = Shape(
    "failure-condition",
    (
        Field("count", "int", "Failures within the interval that trip the breaker.", minimum=1),
        Field("percentage", "int", "Share of failed calls that trips it.", minimum=1, maximum=100),
        Field("interval", "duration", "The window failures are counted in.", required=True),
        Field(
            "status-code-ranges",
            "list",
            'Status codes that count as failures: "429", "500-599".',
            item_kind="string",
        ),
        Field("error-reasons", "list", "Free-text labels, as APIM has them.", item_kind="string"),
    ),
)
BREAKER_RULE = Shape(
    "circuit-breaker-rule",
    (
        Field("name", "string"),
        Field("failure-condition", "shape", shape=FAILURE_CONDITION, required=True),
        Field("trip-duration", "duration", "How long the breaker stays open.", required=True),
        Field("accept-retry-after", "bool", "Let the backend's Retry-After set the open time."),
    ),
)
CREDENTIALS = Shape(
    "credentials",
    (
        Field("header", "map", "Header name -> value sent to the backend.", item_kind="secret"),
        Field("query", "map", "Query parameter -> value.", item_kind="secret"),
        Field(
            "authorization",
            "shape",
            shape=Shape(
                "authorization",
                (
                    Field("scheme", "string", required=True),
                    Field("parameter", "string", secret=True),
                ),
            ),
        ),
        Field(
            "managed-identity",
            "shape",
            shape=Shape(
                "managed-identity",
                (Field("resource", "string", required=True), Field("client-id", "string")),
            ),
        ),
        Field("value", "string", "With 'header': a single header's value.", secret=True),
    ),
)
POOL_MEMBER = Shape(
    "pool-member",
    (
        Field("backend", "string", "A backend declared under 'backends'.", required=True),
        Field("priority", "int", "Lower is preferred.", minimum=0, maximum=100),
        Field("weight", "int", "Share within a priority group.", minimum=0, maximum=100),
    ),
    shorthand="backend",
)
POOL = Shape(
    "pool",
    (
        Field("strategy", "enum", choices=POOL_STRATEGIES, default="round-robin"),
        Field("services", "list", "The member backends.", shape=POOL_MEMBER, required=True),
        Field("race-count", "int", "race: how many members answer each call.", minimum=2),
        Field(
            "hedge-delay",
            "number",
            "race: seconds before each further member is asked (0: all at once).",
            minimum=0,
        ),
        Field(
            "session-affinity",
            "shape",
            shape=Shape(
                "session-affinity", (Field("cookie", "string", "Cookie name.", required=True),)
            ),
        ),
    ),
)
BACKEND = Shape(
    "backend",
    (
        Field(
            "models",
            "map",
            "The model a client asks for -> the name this backend knows it by.",
            item_kind="string",
        ),
        Field(
            "api-key",
            "string",
            "The provider's key, sent as it expects: Authorization Bearer, or api-key "
            "(azure-openai), or x-api-key (anthropic).",
            secret=True,
        ),
        Field(
            "api-version",
            "string",
            "azure-openai: the api-version sent for calls from OpenAI-style clients.",
            default="2024-10-21",
        ),
        Field("url", "url", "The backend's base URL; the operation path is appended."),
        Field("provider", "enum", choices=PROVIDERS, default="openai-compatible"),
        Field(
            "translation",
            "shape",
            "How a chat call in another API's style (OpenAI <-> Anthropic) is translated for "
            "this backend.",
            shape=Shape(
                "translation",
                (
                    Field(
                        "reasoning",
                        "enum",
                        "map: OpenAI's reasoning_effort <-> Anthropic's thinking budget, and "
                        "the answer's reasoning back (reasoning_content <-> thinking blocks); "
                        "for backends whose models all reason. drop: left out both ways.",
                        choices=("drop", "map"),
                        default="drop",
                    ),
                    Field(
                        "sampling",
                        "enum",
                        "map: temperature and top_p are sent. drop: left out, for models "
                        "that reject them.",
                        choices=("map", "drop"),
                        default="map",
                    ),
                ),
            ),
        ),
        Field("credentials", "shape", shape=CREDENTIALS),
        Field("timeout", "duration", "Seconds to wait for response headers.", default=300),
        Field(
            "circuit-breaker",
            "shape",
            shape=Shape(
                "circuit-breaker", (Field("rules", "list", shape=BREAKER_RULE, required=True),)
            ),
        ),
        Field(
            "tls",
            "shape",
            shape=Shape(
                "tls",
                (
                    Field("validate-certificate-chain", "bool", default=True),
                    Field("validate-certificate-name", "bool", default=True),
                ),
            ),
        ),
        Field("pool", "shape", "A pool of backends instead of a URL.", shape=POOL),
        Field("title", "string"),
        Field("description", "string"),
    ),
    doc="One backend (url) or a pool of backends (pool).",
)
OPERATION = Shape(
    "operation",
    (
        Field("id", "string", required=True),
        Field(
            "method",
            "enum",
            required=True,
            choices=("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"),
        ),
        Field("url-template", "string", "Relative to the API path: /items/{id}.", required=True),
        Field("name", "string"),
        Field(
            "examples",
            "list",
            "Example answers, for mock-response.",
            shape=Shape(
                "example",
                (
                    Field("status", "int", default=200, minimum=100, maximum=599),
                    Field("content-type", "string", default="application/json"),
                    Field("body", "string", "The example's body text.", required=True),
                ),
            ),
        ),
    ),
)
API = Shape(
    "api",
    (
        Field("path", "string", "The URL suffix the API is served under.", required=True),
        Field("style", "enum", choices=STYLES, default="http"),
        Field("backend", "string", "The default backend, like APIM's service URL."),
        Field("subscription-required", "bool", default=True),
        Field(
            "subscription-key-parameter-names",
            "shape",
            shape=Shape(
                "subscription-key-parameter-names",
                (Field("header", "string"), Field("query", "string")),
            ),
        ),
        Field("operations", "list", "For style http: the API's operations.", shape=OPERATION),
        Field(
            "openapi",
            "string",
            "For style http: an OpenAPI/Swagger file (relative to gateway.yaml) to import "
            "operations and their examples from.",
        ),
        Field("name", "string"),
    ),
)
PRODUCT = Shape(
    "product",
    (
        Field("apis", "list", "The APIs in this product.", item_kind="string"),
        Field("subscription-required", "bool", default=True),
        Field("approval-required", "bool", default=False),
        Field("state", "enum", choices=("published", "not-published"), default="published"),
        Field("subscriptions-limit", "int", minimum=0),
        Field("name", "string"),
    ),
)
SUBSCRIPTION = Shape(
    "subscription",
    (
        Field("scope", "string", "all-apis, product/<id> or api/<id>.", required=True),
        Field("primary-key", "string", "A key, or sha256:<hex> of one.", secret=True),
        Field("secondary-key", "string", secret=True),
        Field("state", "enum", choices=SUBSCRIPTION_STATES, default="active"),
        Field("name", "string"),
    ),
)
NAMED_VALUE = Shape(
    "named-value",
    (
        Field("value", "string", required=True, secret=True),
        Field("secret", "bool", "Never shown by lint or explain.", default=False),
    ),
    shorthand="value",
)
STORES = Shape(
    "stores",
    (
        Field(
            "default", "string", "Counters: memory, or a Redis URL.", default="memory", secret=True
        ),
        Field(
            "cache",
            "string",
            "Caches' shared store: memory, or a Redis URL. Default: stores.default if Redis.",
            secret=True,
        ),
    ),
    extra=(Field("*", "string", "A named store: memory or a redis:// URL.", secret=True),),
)
TELEMETRY = Shape(
    "telemetry",
    (
        Field("prometheus", "bool", "Serve /metrics on the admin listener.", default=True),
        Field(
            "routing-headers",
            "bool",
            "Answers say which backend served (x-aigw-backend) and each attempt (x-aigw-attempts).",
            default=True,
        ),
        Field("otlp-endpoint", "url", "Export metrics and traces over OTLP."),
        Field("access-log", "bool", "One JSON line per request.", default=True),
    ),
)
PRICE_ROW = Shape(
    "price",
    (
        Field("provider", "string", required=True),
        Field("model", "string", required=True),
        Field("input", "number", "Dollars per million input tokens.", required=True, minimum=0),
        Field("cached-input", "number", minimum=0),
        Field("cache-write", "number", minimum=0),
        Field("output", "number", "Dollars per million output tokens.", required=True, minimum=0),
        Field("reasoning", "number", minimum=0),
        Field("date", "string", "When the price was read."),
    ),
)
EMBEDDER = Shape(
    "embedder",
    (
        Field(
            "builtin",
            "enum",
            "The embedder shipped with the gateway (offline, no service).",
            choices=("minilm-l6-v2",),
        ),
        Field("backend", "string", "A backend serving OpenAI-shaped embeddings."),
        Field("model", "string", "The model to ask the backend for."),
        Field("dimensions", "int", "Ask for vectors this long (text-embedding-3).", minimum=1),
    ),
)
LIMITS = Shape(
    "limits",
    (
        Field(
            "max-request-body",
            "int",
            "Largest request body in bytes; a larger one gets 413 before any policy runs.",
            default=16 * 1024 * 1024,
            minimum=0,
        ),
        Field(
            "token-limit-mode",
            "enum",
            "apim: count from the answer, concurrent calls may overshoot as in APIM; "
            "reserve-and-settle: reserve prompt + output cap before forwarding, never overshoot.",
            choices=("apim", "reserve-and-settle"),
            default="apim",
        ),
        Field(
            "on-store-failure",
            "enum",
            "When the counter store is unreachable, limits let calls through (open, with a "
            "warning and the aigw.store_failures metric) or answer 503 (closed).",
            choices=("open", "closed"),
            default="open",
        ),
        Field(
            "reserved-output-tokens",
            "int",
            "reserve-and-settle: the output reserved for a request that sets no max tokens.",
            default=1024,
            minimum=0,
        ),
    ),
)
CACHE = Shape(
    "cache",
    (
        Field(
            "memory-max-bytes",
            "int",
            "Most bytes the in-process cache holds; the least recently used go first.",
            default=128 * 1024 * 1024,
            minimum=0,
        ),
        Field(
            "partition-max-entries",
            "int",
            "Most prompts a semantic-cache partition holds; those closest to expiry go first.",
            default=10_000,
            minimum=1,
        ),
    ),
)
SEND_REQUEST = Shape(
    "send-request",
    (
        Field(
            "allowed-urls",
            "list",
            "URL prefixes that send-request may call when its set-url is an expression.",
            item_kind="string",
        ),
    ),
)
IDENTITY = Shape(
    "identity",
    (
        Field(
            "tokens",
            "map",
            "Resource -> a bearer token for it, for authentication-managed-identity outside Azure.",
            item_kind="secret",
        ),
        Field(
            "tenant-id", "string", "With client-id and client-secret: an Entra app.", secret=True
        ),
        Field("client-id", "string", secret=True),
        Field("client-secret", "string", secret=True),
        Field(
            "authority-host", "url", "Entra's host.", default="https://login.microsoftonline.com"
        ),
        Field(
            "endpoint", "url", "The managed identity endpoint; default IDENTITY_ENDPOINT or IMDS."
        ),
    ),
)
GATEWAY = Shape(
    "gateway",
    (
        Field("stores", "shape", "Where counters and caches live.", shape=STORES),
        Field("backends", "map", "Backend name -> a backend or a pool.", shape=BACKEND),
        Field("apis", "map", "API id -> an API served under a path.", shape=API, required=True),
        Field("products", "map", shape=PRODUCT),
        Field("subscriptions", "map", shape=SUBSCRIPTION),
        Field("named-values", "map", "APIM's {{name}} values.", shape=NAMED_VALUE),
        Field("embedders", "map", shape=EMBEDDER),
        Field("pricing", "list", "Extra or overriding price rows.", shape=PRICE_ROW),
        Field("telemetry", "shape", shape=TELEMETRY),
        Field("limits", "shape", "Limits the proxy enforces on every request.", shape=LIMITS),
        Field("cache", "shape", "The in-process cache.", shape=CACHE),
        Field("send-request", "shape", shape=SEND_REQUEST),
        Field("identity", "shape", "Where tokens for managed identity come from.", shape=IDENTITY),
    ),
    doc="gateway.yaml: the policies directory's configuration.",
)
