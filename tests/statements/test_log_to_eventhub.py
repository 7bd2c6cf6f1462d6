"""log-to-eventhub: its text goes to the named logger with its partition id and key; over
200 KB it is cut, as APIM cuts it; a logger gateway.yaml does not name is a load error."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.config.loggers import Logger
from gateway.config.secrets import ConfigValue
from gateway.load import inspect_directory
from gateway.runtime.step import PolicyError
from gateway.telemetry.loggers import Loggers
from tests.policies import compile_policy, new_context

POLICY = """
<policies><inbound>
    <log-to-eventhub logger-id="audit" partition-id="@(context.Request.Headers.GetValueOrDefault(&quot;x-partition&quot;, &quot;1&quot;))" partition-key="@(context.Request.Method)">@("method " + context.Request.Method + " " + context.Request.Headers.GetValueOrDefault("x-text", ""))</log-to-eventhub>
</inbound></policies>
"""


def logged(tmp_path: Path, headers: dict[str, str]) -> list[dict]:
    path = tmp_path / "audit.jsonl"
    loggers = Loggers({"audit": Logger(id="audit", kind="file", path=ConfigValue(str(path)))})
    policy = compile_policy(POLICY)
    context = new_context(headers)
    context.services = replace(context.services, loggers=loggers)

    async def run() -> None:
        try:
            assert await policy.inbound.run(context) is None
        finally:
            await loggers.close()

    asyncio.run(run())
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_text_goes_to_the_logger_with_its_partition(tmp_path: Path) -> None:
    (event,) = logged(tmp_path, {"x-text": "hello", "x-partition": "3"})
    assert event["event"] == "method POST hello"
    assert event["partition_id"] == 3 and event["partition_key"] == "POST"


def test_a_text_over_200_kb_is_cut_to_200_kb(tmp_path: Path) -> None:
    (event,) = logged(tmp_path, {"x-text": "é" * 150_000})
    assert len(event["event"].encode()) == 200 * 1024  # "method POST " and whole é's
    assert event["event"].endswith("é")


def test_a_partition_id_that_is_no_number_fails_the_request(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="partition-id must be a partition number, not 'x'"):
        logged(tmp_path, {"x-partition": "x"})


def test_an_unknown_logger_is_a_load_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "gateway.yaml").write_text(
        "apis:\n  chat: {path: chat, style: openai}\n"
        "loggers:\n  audit: {kind: file, path: a.jsonl}\n"
    )
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "chat.xml").write_text(
        '<policies><inbound>\n  <log-to-eventhub logger-id="audti">x</log-to-eventhub>\n'
        "</inbound></policies>"
    )
    errors = [
        f"{d.location.line}:{d.location.column} {d.message}"
        for d in inspect_directory(tmp_path).report.sorted()
    ]
    assert errors == ["2:31 no logger named 'audti'; did you mean 'audit'?"]
