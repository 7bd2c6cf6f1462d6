"""Kafka-protocol sinks: a Kafka topic (`kind: kafka`) and an Azure Event Hub (`kind: eventhub`),
through aiokafka (the `kafka` extra).

Event Hubs speaks Kafka's protocol at `<namespace>.servicebus.windows.net:9093`, over TLS with
SASL PLAIN, the user `$ConnectionString` and the connection string as password; the event
hub is the topic. So an `eventhub` logger is a Kafka sink whose settings are derived from its
connection string. Secrets are resolved when the sink connects, and never put in a message.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.config.loggers import Logger
from gateway.config.secrets import ConfigValue
from gateway.telemetry.sinks import Entry

if TYPE_CHECKING:
    from aiokafka import AIOKafkaProducer

EVENT_HUBS_PORT = 9093
EVENT_HUBS_USER = "$ConnectionString"
REQUEST_TIMEOUT_MS = 10_000  # a broker that does not answer is "down" after this, not 40 s
MAX_REQUEST_BYTES = 1024 * 1024  # Event Hubs' limit; log-to-eventhub's text is 200 KB at most


class SinkMisconfigured(Exception):
    """The logger's settings cannot make a connection (said without any secret)."""


@dataclass(frozen=True, slots=True)
class KafkaSettings:
    bootstrap_servers: tuple[str, ...]
    topic: str
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None


def kafka_settings(logger: Logger) -> KafkaSettings:
    """The connection settings of a `kafka` or `eventhub` logger, secrets resolved (raises
    `SecretUnavailable` or `SinkMisconfigured`)."""
    if logger.kind == "eventhub":
        assert logger.connection_string is not None  # the config checks require it
        return event_hubs_settings(logger.connection_string, logger.topic, logger.tls_ca_file)
    username = logger.sasl_username.resolve() if logger.sasl_username is not None else None
    password = logger.sasl_password.resolve() if logger.sasl_password is not None else None
    return KafkaSettings(
        bootstrap_servers=logger.bootstrap_servers,
        topic=logger.topic or "",
        security_protocol=logger.security_protocol,
        sasl_mechanism=logger.sasl_mechanism,
        username=username,
        password=password,
        ca_file=logger.tls_ca_file,
    )


def event_hubs_settings(
    connection_string: ConfigValue, topic: str | None, ca_file: str | None = None
) -> KafkaSettings:
    """Event Hubs' Kafka endpoint from a connection string: `Endpoint=sb://<ns>.servicebus.
    windows.net/;SharedAccessKeyName=...;SharedAccessKey=...[;EntityPath=<hub>]`."""
    text = connection_string.resolve().strip()
    parts = dict(
        (name.strip().lower(), value.strip())
        for name, _, value in (part.partition("=") for part in text.split(";") if part.strip())
    )
    endpoint = parts.get("endpoint", "")
    host = endpoint.removeprefix("sb://").split("/", 1)[0].split(":", 1)[0]
    if not endpoint.startswith("sb://") or not host:
        raise SinkMisconfigured(
            "the connection string has no Endpoint=sb://<namespace>.servicebus.windows.net/"
        )
    hub = topic or parts.get("entitypath")
    if not hub:
        raise SinkMisconfigured("name the event hub: 'topic', or EntityPath in the string")
    return KafkaSettings(
        bootstrap_servers=(f"{host}:{EVENT_HUBS_PORT}",),
        topic=hub,
        security_protocol="SASL_SSL",
        sasl_mechanism="PLAIN",
        username=EVENT_HUBS_USER,
        password=text,
        ca_file=ca_file,
    )


class KafkaSink:
    """Messages produced to a topic: the text as the value, partition-key as the key,
    partition-id as the partition. The producer connects on the first batch and again after
    a failure."""

    def __init__(self, logger: Logger) -> None:
        try:
            import aiokafka  # noqa: F401  (checked now: a missing extra is a start-up error)
        except ImportError as error:
            raise RuntimeError(
                f"logger '{logger.id}' (kind {logger.kind}) needs the kafka extra: "
                "pip install 'aigw[kafka]'"
            ) from error
        # The logger's queue says once that the sink is down and once that it is back;
        # aiokafka would log an error on every retry besides. Unless its level was set.
        library_log = logging.getLogger("aiokafka")
        if library_log.level == logging.NOTSET:
            library_log.setLevel(logging.CRITICAL)
        self.logger = logger
        self.producer: AIOKafkaProducer | None = None
        self.topic = ""
        self.secrets: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.logger.kind == "eventhub":
            return "Event Hubs"  # its host is in the connection string: a secret
        return f"Kafka {','.join(self.logger.bootstrap_servers)} topic {self.logger.topic}"

    def scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    async def _connected(self) -> AIOKafkaProducer:
        from aiokafka import AIOKafkaProducer

        if self.producer is not None:
            return self.producer
        settings = kafka_settings(self.logger)
        self.secrets = tuple(s for s in (settings.password,) if s)
        context = None
        if settings.security_protocol in ("SSL", "SASL_SSL"):
            context = ssl.create_default_context(cafile=settings.ca_file)
        producer = AIOKafkaProducer(
            bootstrap_servers=list(settings.bootstrap_servers),
            client_id="aigw",
            security_protocol=settings.security_protocol,
            sasl_mechanism=settings.sasl_mechanism,
            sasl_plain_username=settings.username,
            sasl_plain_password=settings.password,
            ssl_context=context,
            request_timeout_ms=REQUEST_TIMEOUT_MS,
            max_request_size=MAX_REQUEST_BYTES,
            linger_ms=5,
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self.producer, self.topic = producer, settings.topic
        return producer

    async def write(self, entries: list[Entry]) -> None:
        producer = await self._connected()
        try:
            sent = [
                await producer.send(
                    self.topic,
                    entry.rendered().encode(),
                    key=entry.partition_key.encode() if entry.partition_key is not None else None,
                    partition=entry.partition_id,
                )
                for entry in entries
            ]
            await asyncio.gather(*sent)
        except Exception:
            # A fresh producer next time: aiokafka's may be stuck on a dead connection.
            self.producer = None
            await producer.stop()
            raise

    async def close(self) -> None:
        if self.producer is not None:
            producer, self.producer = self.producer, None
            await producer.stop()
