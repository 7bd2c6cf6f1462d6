"""A logger's queue and writer: a full queue drops and counts, a sink that is down is said
once (and once when it is back), shutdown writes what is queued, and no secret of a sink
ever reaches a log line."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from gateway.config.loggers import Logger
from gateway.config.secrets import ConfigValue
from gateway.telemetry.kafka_sink import KafkaSink
from gateway.telemetry.loggers import LoggerQueue, Loggers
from gateway.telemetry.metrics import Metrics
from gateway.telemetry.sinks import Entry, FileSink
from tests.kafka_brokers import require_kafka_libraries
from tests.proxy.prometheus import sample


def entry(text: str) -> Entry:
    return Entry(text, "llm-message", 1.7e9)


def test_a_full_queue_drops_and_counts_and_a_down_sink_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "not-yet"  # the file cannot be written until this folder exists
    metrics = Metrics()
    queue = LoggerQueue("lines", FileSink(ConfigValue(str(folder / "llm.jsonl"))), 2, metrics)

    async def run() -> None:
        for number in range(10):
            queue.put(entry(f'{{"n":{number}}}'))
        assert queue.dropped == 8  # the request path never waited: 2 queued, 8 dropped
        await asyncio.sleep(1.2)  # the writer tries, fails, retries (0.5 s, then 1 s)
        folder.mkdir()
        await asyncio.sleep(1.5)
        await queue.close(asyncio.get_running_loop().time() + 1)

    with caplog.at_level(logging.WARNING, logger="aigw.loggers"):
        asyncio.run(run())
    lines = [r.getMessage() for r in caplog.records]
    down = [line for line in lines if "logger lines: sink down:" in line]
    back = [line for line in lines if "logger lines: sink back:" in line]
    assert len(down) == 1 and "No such file or directory" in down[0], lines
    assert len(back) == 1 and "8 messages dropped" in back[0], lines
    assert (folder / "llm.jsonl").read_text() == '{"n":0}\n{"n":1}\n'
    text = metrics.prometheus_text().decode()
    assert sample(text, "aigw_llm_messages_dropped_total", logger="lines") == 8


def test_shutdown_writes_what_is_queued(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    logger = Logger(id="events", kind="file", path=ConfigValue(str(path)))
    loggers = Loggers({"events": logger})

    async def run() -> None:
        for number in range(1000):
            loggers.send("events", f"event {number}\nsecond line", None, "k" if number else None)
        await loggers.close()

    asyncio.run(run())
    lines = path.read_text().splitlines()
    assert len(lines) == 1000  # one JSON line each, though the text has two lines
    assert '"event":"event 0\\nsecond line"' in lines[0] and "partition_key" not in lines[0]
    assert lines[1].endswith('"partition_key":"k"}')


def test_an_event_hub_that_cannot_be_reached_never_shows_its_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    require_kafka_libraries()
    secret = "c2VjcmV0LWtleS1mb3ItdGVzdHM="
    connection = (
        f"Endpoint=sb://127.0.0.1/;SharedAccessKeyName=send;SharedAccessKey={secret};EntityPath=hub"
    )
    logger = Logger(id="hub", kind="eventhub", connection_string=ConfigValue(connection))
    queue = LoggerQueue("hub", KafkaSink(logger), 10, None)

    async def run() -> None:
        queue.put(entry("{}"))
        await asyncio.sleep(1.0)
        await queue.close(asyncio.get_running_loop().time() + 1)

    with caplog.at_level(logging.DEBUG):
        asyncio.run(run())
    lines = [r.getMessage() for r in caplog.records]
    assert any("logger hub: sink down: Event Hubs" in line for line in lines), lines
    assert not [line for line in lines if secret in line or "SharedAccessKey" in line]


def test_a_file_path_from_an_unset_variable_is_a_sink_down_that_names_it(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIGW_TEST_LOG_PATH", raising=False)
    queue = LoggerQueue("lines", FileSink(ConfigValue("${env:AIGW_TEST_LOG_PATH}")), 5, None)

    async def run() -> None:
        queue.put(entry("{}"))
        await asyncio.sleep(0.1)
        await queue.close(asyncio.get_running_loop().time() + 1)

    with caplog.at_level(logging.WARNING, logger="aigw.loggers"):
        asyncio.run(run())
    assert any(
        "logger lines: sink down: the environment variable AIGW_TEST_LOG_PATH is not set" in line
        for line in (r.getMessage() for r in caplog.records)
    )
