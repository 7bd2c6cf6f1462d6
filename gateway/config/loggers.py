"""gateway.yaml's `loggers` (APIM's logger entities) and an API's `llm-messages`.

A logger is a name and one sink: a JSON-lines file, OTLP logs over HTTP, a Kafka-protocol
topic, or an Azure Event Hub (Kafka's protocol at its namespace, derived from a connection
string). `log-to-eventhub` writes to a logger by name; an API's `llm-messages` sends each
call's prompt and completion to one. Secrets (SASL passwords, connection strings) stay
`ConfigValue`s, resolved only when the sink connects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.config.keys import entry_id, key
from gateway.config.secrets import ConfigValue

SinkKind = Literal["file", "otlp", "kafka", "eventhub"]
DEFAULT_QUEUE_SIZE = 10_000
DEFAULT_MAX_BYTES = 32 * 1024  # APIM cuts logged LLM messages into 32 KB records

# The keys each kind reads (besides kind and queue-size): the checks refuse the others.
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "file": ("path",),
    "otlp": ("endpoint",),
    "kafka": (
        "bootstrap-servers",
        "topic",
        "security-protocol",
        "sasl-mechanism",
        "sasl-username",
        "sasl-password",
        "tls-ca-file",
    ),
    "eventhub": ("connection-string", "topic", "tls-ca-file"),
}
SINK_KEYS = tuple(dict.fromkeys(k for keys in KIND_KEYS.values() for k in keys))
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "file": ("path",),
    "otlp": ("endpoint",),
    "kafka": ("bootstrap-servers", "topic"),
    "eventhub": ("connection-string",),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Logger:
    """A named sink that log-to-eventhub and LLM message logging write to."""

    id: str = entry_id()
    kind: SinkKind = key("file", "file, otlp, kafka or eventhub.", required=True)
    queue_size: int = key(
        DEFAULT_QUEUE_SIZE,
        "Messages waiting for the sink at most; past that they are dropped and counted "
        "(aigw_llm_messages_dropped_total).",
        minimum=1,
    )
    path: ConfigValue | None = key(
        None, "kind file: the JSON-lines file (relative to gateway.yaml's folder)."
    )
    endpoint: str | None = key(
        None, "kind otlp: the OTLP/HTTP logs URL (http://host:4318/v1/logs).", kind="url"
    )
    bootstrap_servers: tuple[str, ...] = key((), "kind kafka: host:port of the brokers.")
    topic: str | None = key(
        None, "kind kafka: the topic; kind eventhub: the event hub (default: EntityPath)."
    )
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = key(
        "PLAINTEXT", "kind kafka: how to reach the brokers."
    )
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = key(
        "PLAIN", "kind kafka: the SASL mechanism."
    )
    sasl_username: ConfigValue | None = key(None, "kind kafka: the SASL user.")
    sasl_password: ConfigValue | None = key(None, "kind kafka: the SASL password (a secret).")
    tls_ca_file: str | None = key(None, "kafka, eventhub: CA certificates to trust (PEM).")
    connection_string: ConfigValue | None = key(
        None,
        "kind eventhub: the Event Hubs connection string (Endpoint=sb://...; a secret, "
        "write ${env:NAME}).",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class LlmMessages:
    """An API's LLM message logging: prompts and completions, with usage, to a logger."""

    logger: str = key("", "The logger (gateway.yaml's `loggers`) records go to.", required=True)
    sampling: float = key(1.0, "The share of calls logged, 0 to 1.", minimum=0.0, maximum=1.0)
    max_bytes: int = key(
        DEFAULT_MAX_BYTES,
        "Most bytes of a prompt and of a completion a record keeps; more is cut and flagged.",
        minimum=1,
    )
