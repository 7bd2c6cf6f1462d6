"""gateway.yaml's named loggers at run time: a bounded queue and a writer task per logger.

A request only enqueues (`put_nowait`): it never waits for a sink, and a sink's failure never
reaches it. A full queue drops the message and counts it in
`aigw_llm_messages_dropped_total{logger}`. The writer takes what is queued in batches; when
its sink fails it says so in ONE warning line, keeps the batch and retries with a growing
pause (the queue fills meanwhile, then drops), and says so once more when the sink is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping

from gateway.config.loggers import Logger
from gateway.config.secrets import SecretUnavailable
from gateway.runtime.services import Metrics
from gateway.telemetry.kafka_sink import KafkaSink, SinkMisconfigured
from gateway.telemetry.sinks import Entry, FileSink, OtlpSink, Sink

log = logging.getLogger("aigw.loggers")

BATCH = 500  # messages written at once at most
RETRY_FIRST, RETRY_MAX = 0.5, 10.0  # seconds between tries while a sink is down


def sink_for(logger: Logger) -> Sink:
    if logger.kind == "file":
        assert logger.path is not None  # the config checks require it
        return FileSink(logger.path)
    if logger.kind == "otlp":
        assert logger.endpoint is not None
        return OtlpSink(logger.endpoint, logger.id)
    return KafkaSink(logger)


class LoggerQueue:
    """One logger: its queue, its sink and the task that writes one to the other."""

    def __init__(self, name: str, sink: Sink, size: int, metrics: Metrics | None) -> None:
        self.name = name
        self.sink = sink
        self.size = size
        self.metrics = metrics
        self.queue: asyncio.Queue[Entry] = asyncio.Queue(size)
        self.writer: asyncio.Task[None] | None = None
        self.dropped = 0
        self.down = False
        self.pending: list[Entry] = []  # the batch being written (kept while the sink is down)
        if metrics is not None:  # shown at 0 from the start, so an alert can watch it
            metrics.add("aigw", "llm_messages_dropped", 0, {"logger": name})

    def put(self, entry: Entry) -> None:
        try:
            self.queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.count_drop()
            return
        if self.writer is None:  # started by the first message, on the serving loop
            self.writer = asyncio.get_running_loop().create_task(self.write_forever())

    async def write_forever(self) -> None:
        pause = RETRY_FIRST
        while True:
            if not self.pending:
                self.pending = [await self.queue.get()]
                while len(self.pending) < BATCH and not self.queue.empty():
                    self.pending.append(self.queue.get_nowait())
                # Pending while rendered too: a shutdown meanwhile still finds the batch.
                self.pending = await self.rendered(self.pending)
                if not self.pending:
                    continue
            try:
                await self.sink.write(self.pending)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if not self.down:
                    self.down = True
                    log.warning(
                        "logger %s: sink down: %s; queueing up to %d messages, dropping "
                        "the rest (aigw_llm_messages_dropped_total) until it is back",
                        self.name,
                        self.reason(error),
                        self.size,
                    )
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_MAX)
                continue
            self.pending = []
            pause = RETRY_FIRST
            if self.down:
                self.down = False
                log.warning(
                    "logger %s: sink back: %s; %d messages dropped so far",
                    self.name,
                    self.sink.describe(),
                    self.dropped,
                )

    async def rendered(self, batch: list[Entry]) -> list[Entry]:
        """The batch with each record's text built; a record that cannot be built (a bug,
        not the sink's fault) is left out, logged, and counted as dropped. The loop is
        yielded to between records: a long stream's assembly takes milliseconds, and
        requests must not wait for a whole batch of them."""
        kept = []
        for entry in batch:
            if entry.text is None:
                await asyncio.sleep(0)
            try:
                entry.rendered()
            except Exception:
                log.exception("logger %s: a record could not be built; it is dropped", self.name)
                self.count_drop()
                continue
            kept.append(entry)
        return kept

    def count_drop(self) -> None:
        self.dropped += 1
        if self.metrics is not None:
            self.metrics.add("aigw", "llm_messages_dropped", 1, {"logger": self.name})

    def reason(self, error: Exception) -> str:
        if isinstance(error, SecretUnavailable | SinkMisconfigured):
            return str(error)  # these name a variable or a key, never a secret's value
        text = " ".join(str(error).split())[:300] or type(error).__name__
        # A library's message could echo a setting: the sink blanks its secrets out of it.
        return f"{self.sink.describe()}: {self.sink.scrub(text)}"

    async def close(self, deadline: float) -> None:
        """Write what is queued until `deadline` (time.monotonic()), then stop; a sink that
        is down gets one last try within the deadline."""
        if self.writer is not None:
            while (self.pending or not self.queue.empty()) and not self.down:
                if time.monotonic() >= deadline:
                    break
                await asyncio.sleep(0.02)
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.writer
        left, self.pending = self.pending, []
        while not self.queue.empty():
            left.append(self.queue.get_nowait())
        left = await self.rendered(left)
        if left:
            try:
                await asyncio.wait_for(self.sink.write(left), max(deadline - time.monotonic(), 0.1))
                left = []
            except Exception as error:
                log.warning(
                    "logger %s: %d messages not written at shutdown: %s",
                    self.name,
                    len(left),
                    self.reason(error),
                )
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.sink.close(), max(deadline - time.monotonic(), 0.1))


class Loggers:
    """Every logger gateway.yaml names (the runtime's `Loggers` service)."""

    CLOSE_WITHIN = 3.0  # seconds shutdown waits for queued messages to be written

    def __init__(self, loggers: Mapping[str, Logger], metrics: Metrics | None = None) -> None:
        self.queues = {
            name: LoggerQueue(name, sink_for(logger), logger.queue_size, metrics)
            for name, logger in loggers.items()
        }

    def send(
        self, logger: str, text: str, partition_id: int | None, partition_key: str | None
    ) -> None:
        self.queues[logger].put(Entry(text, "event", time.time(), partition_id, partition_key))

    def queue(self, logger: str) -> LoggerQueue:
        return self.queues[logger]

    async def close(self) -> None:
        deadline = time.monotonic() + self.CLOSE_WITHIN
        await asyncio.gather(*(queue.close(deadline) for queue in self.queues.values()))
