"""The OTLP sink against the OTLP/HTTP receiver the tests own (tests/fakes/otlp_collector.py):
a log record per message, and a receiver that answers 503 is a sink down, then back."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from gateway.telemetry.loggers import LoggerQueue
from gateway.telemetry.sinks import Entry, OtlpSink
from tests.proxy.processes import fake_service, free_port


def test_messages_reach_the_collector_once_it_is_back(caplog: pytest.LogCaptureFixture) -> None:
    with fake_service("tests.fakes.otlp_collector", free_port()) as collector:
        httpx.post(f"{collector}/-/down").raise_for_status()
        queue = LoggerQueue("otlp", OtlpSink(f"{collector}/v1/logs", "otlp"), 10, None)

        async def run() -> None:
            queue.put(Entry('{"api":"chat"}', "llm-message", 1.7e9))
            queue.put(Entry("audit", "event", 1.7e9 + 1, 3, "team"))
            await asyncio.sleep(0.3)
            await asyncio.to_thread(httpx.post, f"{collector}/-/up")
            for _ in range(100):  # the next try (0.5 s after the first, then 1 s) writes
                if not queue.down:
                    break
                await asyncio.sleep(0.05)
            await queue.close(asyncio.get_running_loop().time() + 1)

        with caplog.at_level(logging.WARNING, logger="aigw.loggers"):
            asyncio.run(run())
        exports = httpx.get(f"{collector}/-/received/logs").json()
    lines = [r.getMessage() for r in caplog.records]
    assert [line.split(";")[0] for line in lines] == [
        f"logger otlp: sink down: OTLP {collector}/v1/logs: the collector answered 503",
        f"logger otlp: sink back: OTLP {collector}/v1/logs",
    ]
    (export,) = exports
    (resource,) = export["resourceLogs"]
    assert resource["resource"]["attributes"] == [
        {"key": "service.name", "value": {"stringValue": "aigw"}}
    ]
    record, event = resource["scopeLogs"][0]["logRecords"]
    assert json.loads(record["body"]["stringValue"]) == {"api": "chat"}
    assert record["timeUnixNano"] == str(int(1.7e9 * 1e9))
    assert event["body"]["stringValue"] == "audit"
    attributes = {a["key"]: a["value"]["stringValue"] for a in event["attributes"]}
    assert attributes == {
        "aigw.logger": "otlp",
        "aigw.kind": "event",
        "aigw.partition_key": "team",
    }
