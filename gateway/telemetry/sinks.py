"""What a logger writes to: a message (`Entry`), the sink contract, and the sinks that need
no extra library beyond the `otlp` extra: a JSON-lines file and OTLP logs over HTTP.

A sink's `write` takes a batch and raises when the sink cannot take it; the logger's queue
(gateway.telemetry.loggers) decides what then happens. Sinks run off the request path only.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import aiohttp

from gateway.common.fastjson import dumps
from gateway.config.secrets import ConfigValue

EntryKind = Literal["llm-message", "event"]


@dataclass(slots=True)
class Entry:
    """One message for a logger: an LLM message record (JSON text) or log-to-eventhub's text.

    A record's text may be left to `render`, which the logger's writer calls before the sink
    sees the entry (`rendered`), so that building it never happens on the request path."""

    text: str | None
    kind: EntryKind
    time: float
    partition_id: int | None = None
    partition_key: str | None = None
    render: Callable[[], str] | None = None

    def rendered(self) -> str:
        if self.text is None:
            self.text = self.render() if self.render is not None else ""
            self.render = None
        return self.text

    def json_line(self) -> str:
        """The message as one JSON line: a record as it is; an event's text in an envelope,
        since its text may be anything (several lines, not JSON)."""
        if self.kind == "llm-message":
            return self.rendered()
        event = {"time": round(self.time, 3), "event": self.rendered()}
        if self.partition_key is not None:
            event["partition_key"] = self.partition_key
        if self.partition_id is not None:
            event["partition_id"] = self.partition_id
        return dumps(event)


class Sink(Protocol):
    def describe(self) -> str:
        """Where it writes, for log lines (never a secret)."""
        ...

    def scrub(self, text: str) -> str:
        """`text` (an error's message) without any secret the sink holds."""
        ...

    async def write(self, entries: list[Entry]) -> None:
        """Write the batch, or raise saying why it cannot be written now."""
        ...

    async def close(self) -> None: ...


class FileSink:
    """JSON lines appended to a file (`kind: file`): `path` relative to gateway.yaml's folder
    (the value's base), resolved on the first write so that an unset `${env:...}` is a sink
    that is down, said in its warning, not a gateway that cannot start."""

    def __init__(self, path: ConfigValue) -> None:
        self.value = path
        self.path: Path | None = None

    def describe(self) -> str:
        return f"file {self.path or self.value.raw}"

    def scrub(self, text: str) -> str:
        return text

    async def write(self, entries: list[Entry]) -> None:
        if self.path is None:
            self.path = self.value.base / self.value.resolve()  # an absolute path stays
        text = "".join(entry.json_line() + "\n" for entry in entries)
        await asyncio.to_thread(
            self._append, self.path, text
        )  # a slow disk must not stall the loop

    def _append(self, path: Path, text: str) -> None:
        # One O_APPEND write per batch: the workers of `aigw run --workers N` may share the
        # file, and each batch lands whole after the others, never inside one.
        data = text.encode()
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            while data:
                data = data[os.write(descriptor, data) :]
        finally:
            os.close(descriptor)

    async def close(self) -> None:
        return None


class OtlpSink:
    """OTLP logs over HTTP (`kind: otlp`): one export request per batch, protobuf encoded, a
    log record per message whose body is the message's text."""

    TIMEOUT = 10.0

    def __init__(self, endpoint: str, logger: str) -> None:
        try:
            from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
        except ImportError as error:  # the `otlp` extra is not installed
            raise RuntimeError(
                f"logger '{logger}' (kind otlp) needs the otlp extra: pip install 'aigw[otlp]'"
            ) from error
        self.request_type = logs_service_pb2.ExportLogsServiceRequest
        self.endpoint = endpoint
        self.logger = logger
        self.session: aiohttp.ClientSession | None = None

    def describe(self) -> str:
        return f"OTLP {self.endpoint}"

    def scrub(self, text: str) -> str:
        return text

    def encode(self, entries: list[Entry]) -> bytes:
        request = self.request_type()
        resource_logs = request.resource_logs.add()
        service = resource_logs.resource.attributes.add()
        service.key, service.value.string_value = "service.name", "aigw"
        scope_logs = resource_logs.scope_logs.add()
        scope_logs.scope.name = "aigw.loggers"
        observed = time.time_ns()
        for entry in entries:
            record = scope_logs.log_records.add()
            record.time_unix_nano = int(entry.time * 1e9)
            record.observed_time_unix_nano = observed
            record.severity_number = 9  # INFO
            record.severity_text = "INFO"
            record.body.string_value = entry.rendered()
            attributes = [("aigw.logger", self.logger), ("aigw.kind", entry.kind)]
            if entry.partition_key is not None:
                attributes.append(("aigw.partition_key", entry.partition_key))
            for name, value in attributes:
                attribute = record.attributes.add()
                attribute.key, attribute.value.string_value = name, value
        return request.SerializeToString()

    async def write(self, entries: list[Entry]) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(self.TIMEOUT))
        body = self.encode(entries)
        headers = {"Content-Type": "application/x-protobuf"}
        async with self.session.post(self.endpoint, data=body, headers=headers) as response:
            if response.status >= 300:
                raise ConnectionError(f"the collector answered {response.status}")

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
