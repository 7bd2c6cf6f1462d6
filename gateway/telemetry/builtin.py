"""The gateway's own metrics: every request, its timings, its backend attempts and tokens.

Recorded without any policy, into the process's `Metrics` (plain dictionaries, one `bisect`
per histogram observation; gateway.telemetry.series). Names follow OpenTelemetry's semantic
conventions where they define one (HTTP: `http.server.request.duration`; GenAI:
`gen_ai.client.token.usage`, `gen_ai.server.request.duration`,
`gen_ai.server.time_to_first_token`, `gen_ai.server.time_per_output_token`); the rest are
`aigw.*`. Every label comes from a bounded set: ids from gateway.yaml, status classes, and
model names only when the price table or gateway.yaml knows them (`other` otherwise): a
client can name any model, and an unbounded label would grow the series without end. No
request ids, keys or paths.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from gateway.config.settings import GatewayConfig
from gateway.runtime.context import Action, RequestContext
from gateway.runtime.llm_call import request_json, request_model, response_usage
from gateway.telemetry.metrics import Metrics
from gateway.telemetry.series import Instrument
from gateway.telemetry.timings import timings_of

# Bucket bounds (seconds, tokens): the semantic conventions' advice where they give one.
HTTP_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
GENAI_SECONDS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96)
FIRST_TOKEN_SECONDS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5)
PER_TOKEN_SECONDS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2.5)
TOKENS = tuple(4**power for power in range(14))  # 1, 4, 16 ... 67108864
# The gateway's own time is small: finer bounds, from 100 µs.
GATEWAY_SECONDS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1)

_GENAI = ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model")
_ROUTE = ("api", "operation")

REQUESTS = Instrument(
    "aigw.requests",
    "{request}",
    "Requests, by where they went, their status class and the response cache's result.",
    ("api", "operation", "product", "subscription", "backend", "status_class", "cache"),
)
HTTP_DURATION = Instrument(
    "http.server.request.duration",
    "s",
    "The whole request: from its first byte in to its response's last byte out.",
    ("http.request.method", "http.response.status_code", *_ROUTE),
)
GATEWAY_DURATION = Instrument(
    "aigw.gateway.duration",
    "s",
    "The gateway's own time: until the response's first byte, less the upstream's time.",
    _ROUTE,
)
UPSTREAM_DURATION = Instrument(
    "aigw.upstream.duration",
    "s",
    "One backend attempt, until its response (whole, or its headers when it streams).",
    ("backend", "member"),
)
ATTEMPTS = Instrument(
    "aigw.upstream.attempts",
    "{attempt}",
    "Backend attempts by outcome: the status, or why there was none (a PolicyError reason).",
    ("backend", "member", "outcome"),
)
BREAKER_STATE = Instrument(
    "aigw.breaker.state",
    "1",
    "1 while the backend's circuit breaker is open, 0 while closed (highest over workers).",
    ("backend",),
)
REFUSALS = Instrument(
    "aigw.limit.refusals",
    "{request}",
    "Requests a statement refused (a limit, a quota, ip-filter, content safety, a token check).",
    ("api", "statement"),
)
TOKEN_USAGE = Instrument(
    "gen_ai.client.token.usage",
    "{token}",
    "Tokens a call used, as its provider reported them, by type (input, output).",
    (*_GENAI, "gen_ai.response.model", "gen_ai.token.type"),
)
GENAI_DURATION = Instrument(
    "gen_ai.server.request.duration",
    "s",
    "An LLM call through the gateway, from request to last byte.",
    (*_GENAI, "gen_ai.response.model"),
)
FIRST_TOKEN = Instrument(
    "gen_ai.server.time_to_first_token",
    "s",
    "A streamed LLM call: from the request to the stream's first chunk to the client.",
    _GENAI,
)
PER_OUTPUT_TOKEN = Instrument(
    "gen_ai.server.time_per_output_token",
    "s",
    "A streamed LLM call: time per output token after the first (1 / tokens per second).",
    _GENAI,
)
CONNECTIONS_REFUSED = Instrument(
    "aigw.connections.refused",
    "{connection}",
    "Connections the listener closed on a request's head or body: too large, too slow.",
    ("reason",),
)
SCRAPE_WORKERS = Instrument(
    "aigw.scrape.workers",
    "{worker}",
    "Workers whose series this scrape added up (answered) or lacks (missing).",
    ("state",),
)

# OpenTelemetry's gen_ai.provider.name where it names the provider otherwise.
_PROVIDER_NAMES = {
    "azure-openai": "azure.ai.openai",
    "gemini": "gcp.gemini",
    "mistral": "mistral_ai",
    "xai": "x_ai",
}
# gen_ai.operation.name by operation id: the conventions' well-known values.
_OPERATION_NAMES = {
    "ChatCompletions_Create": "chat",
    "Messages_Create": "chat",
    "Responses_Create": "chat",
    "Completions_Create": "text_completion",
    "Embeddings_Create": "embeddings",
}
_STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


def status_class(status: int) -> str:
    index = status // 100 - 1
    return _STATUS_CLASSES[index] if 0 <= index < 5 else "other"


class Models:
    """A model name as a label: one of the names gateway.yaml or the price table knows (the
    longest a name starts with, as prices are found: `gpt-4o-2024-08-06` is `gpt-4o`), else
    `other`. Labels come only from that set, whatever clients send."""

    MAX = 1000  # names remembered; more are looked up each time (never unbounded memory)

    def __init__(self, known: Iterable[str]) -> None:
        self.known = tuple(sorted({name.lower() for name in known if name}, key=len, reverse=True))
        self.labels: dict[str, str] = {"": ""}

    def label(self, model: str) -> str:
        found = self.labels.get(model)
        if found is None:
            wanted = model.lower().rsplit("/", 1)[-1]
            found = next((name for name in self.known if wanted.startswith(name)), "other")
            if len(self.labels) < self.MAX:
                self.labels[model] = found
        return found


class BuiltinMetrics:
    """Records each request once it is done, and each backend attempt."""

    def __init__(self, metrics: Metrics, config: GatewayConfig, models: Iterable[str]) -> None:
        self.requests = metrics.counter(REQUESTS)
        self.durations = metrics.histogram(HTTP_DURATION, HTTP_SECONDS)
        self.gateway = metrics.histogram(GATEWAY_DURATION, GATEWAY_SECONDS)
        self.upstream = metrics.histogram(UPSTREAM_DURATION, HTTP_SECONDS)
        self.attempts = metrics.counter(ATTEMPTS)
        self.refusals = metrics.counter(REFUSALS)
        self.tokens = metrics.histogram(TOKEN_USAGE, TOKENS)
        self.llm_durations = metrics.histogram(GENAI_DURATION, GENAI_SECONDS)
        self.first_token = metrics.histogram(FIRST_TOKEN, FIRST_TOKEN_SECONDS)
        self.per_token = metrics.histogram(PER_OUTPUT_TOKEN, PER_TOKEN_SECONDS)
        self.llm_apis = frozenset(api.id for api in config.apis.values() if api.style != "http")
        self.providers = {
            b.id: _PROVIDER_NAMES.get(b.provider, b.provider) for b in config.backends.values()
        }
        self.models = Models(models)

    def action(self, status: int) -> Action:
        """An on-complete action that records the request with this status."""

        def record(context: RequestContext) -> None:
            self.done(context, status)

        return record

    def done(self, context: RequestContext, status: int) -> None:
        model = context.model
        api, operation = model.Api.Id, model.Operation.Id
        timings = timings_of(context)
        self.requests.add(
            (
                api,
                operation,
                model.Product.Id if model.Product is not None else "",
                model.Subscription.Id if model.Subscription is not None else "",
                context.backend or "",
                status_class(status),
                context.cache_result or "none",
            )
        )
        self.durations.observe((model.Request.Method, str(status), api, operation), timings.total)
        self.gateway.observe((api, operation), timings.gateway)
        error = model.LastError
        if error is not None and 400 <= status < 500:
            self.refusals.add((api, error.Source))
        if api in self.llm_apis and context.attempts:
            self._llm(context, operation, timings.total, timings.first_byte)

    def _llm(
        self, context: RequestContext, operation: str, total: float, first_byte: float | None
    ) -> None:
        usage = response_usage(context)
        asked = self.models.label(request_model(context, request_json(context)))
        genai = (
            _OPERATION_NAMES.get(operation, operation),
            self.providers.get(context.backend_member or "", ""),
            asked,
        )
        answered = self.models.label(usage.model) if usage is not None and usage.model else asked
        self.llm_durations.observe((*genai, answered), total)
        if usage is not None:
            self.tokens.observe((*genai, answered, "input"), usage.prompt)
            self.tokens.observe((*genai, answered, "output"), usage.completion)
        if context.response_stream is not None and first_byte is not None:
            self.first_token.observe(genai, first_byte)
            if usage is not None and usage.completion > 1:
                self.per_token.observe(genai, (total - first_byte) / (usage.completion - 1))

    def refused(self, method: str, api: str | None, status: int, started: float) -> None:
        """A request refused before any policy ran (no route, no key, too large)."""
        total = time.time() - started
        self.requests.add((api or "", "", "", "", "", status_class(status), "none"))
        self.durations.observe((method, str(status), api or "", ""), total)
        self.gateway.observe((api or "", ""), total)

    def attempt(self, backend: str, member: str, outcome: str, seconds: float) -> None:
        self.attempts.add((backend, member, outcome))
        self.upstream.observe((backend, member), seconds)
