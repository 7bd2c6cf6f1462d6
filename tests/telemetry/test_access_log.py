"""The access log's lines: the text each request's line has, and when a batch of them is
written (lines are kept as orjson's bytes and decoded once a batch, so these pin the text
against the standard library's JSON of the same entry, and the batching's timing)."""

from __future__ import annotations

import asyncio
import io
import json
import math
import random
import time
from decimal import Decimal

from gateway.common.fastjson import dumps
from gateway.expressions.model import (
    ApiModel,
    ContextModel,
    OperationModel,
    RequestModel,
    UrlModel,
)
from gateway.runtime.context import RequestContext
from gateway.telemetry import access_log
from gateway.telemetry.access_log import FLUSH_LINES, AccessLog, thousandths


def context(path: str) -> RequestContext:
    model = ContextModel(
        Api=ApiModel(Id="chat"),
        Operation=OperationModel(Id="ChatCompletions_Create"),
        Request=RequestModel(Method="POST", Url=UrlModel(Path=path), IpAddress="127.0.0.1"),
    )
    model.Variables["llm-model"] = "gpt-4o-mini"
    model.Variables["llm-cost"] = 7.2e-06
    return RequestContext(model, backend="pool", backend_member="east", attempts=["east:200"])


def test_each_line_is_the_compact_json_of_its_entry_with_utf8_kept() -> None:
    stream = io.StringIO()
    log = AccessLog(stream)

    async def write() -> None:
        log.write(context("/chat/é/✓"), 200)  # non-ASCII text: written as is, not escaped
        log.write_refused("GET", "/nowhere", "127.0.0.1", 404, 1.5, None, "id", "no-route")
        log._queue({"odd": Decimal("1.10"), "text": "naïve"})  # no JSON form: its text
        log.flush()

    asyncio.run(write())
    text = stream.getvalue()
    assert text.endswith("\n") and "\\u" not in text
    lines = text.split("\n")[:-1]
    assert len(lines) == 3
    for line in lines:
        assert line == dumps(json.loads(line))  # a line as it was written before, alone
    assert json.loads(lines[0])["path"] == "/chat/é/✓"
    assert lines[2] == '{"odd":"1.10","text":"naïve"}'


def test_a_batch_is_written_after_flush_after_seconds_or_at_flush_lines(monkeypatch) -> None:
    monkeypatch.setattr(access_log, "FLUSH_AFTER", 0.05)
    stream = io.StringIO()
    log = AccessLog(stream)
    seen: list[str] = []

    async def write() -> None:
        log.write(context("/a"), 200)
        log.write(context("/b"), 200)
        seen.append(stream.getvalue())  # nothing yet: the batch waits
        await asyncio.sleep(0.2)
        seen.append(stream.getvalue())  # written by the timer, both lines at once
        for _ in range(FLUSH_LINES):
            log.write(context("/c"), 200)
        seen.append(stream.getvalue())  # a full batch is written at once, no timer

    asyncio.run(write())
    assert seen[0] == ""
    assert [json.loads(line)["path"] for line in seen[1].splitlines()] == ["/a", "/b"]
    assert len(seen[2].splitlines()) == 2 + FLUSH_LINES
    assert log.pending == []


def test_thousandths_is_the_float_round_to_three_places_makes() -> None:
    # Every float the access log rounds (seconds since the epoch, milliseconds) and the cases
    # `thousandths` leaves to `round`: halves, zeros of either sign, the huge, NaN, infinity.
    generator = random.Random(16)
    now = time.time()
    values = [
        0.0, -0.0, 0.0005, 0.0015, 0.0025, -0.0005, 1.0005, 2.675, 1e-9, -1e-9, 0.0004,
        -0.0004, 5e-324, 1e300, -1e300, math.inf, -math.inf, 2.0**42 / 1000, 2.0**41 / 1000,
    ]  # fmt: skip
    for _ in range(20_000):
        values += [
            generator.uniform(0, 10),
            generator.uniform(0, 0.01),
            generator.uniform(-5, 5),
            now + generator.uniform(-1e8, 1e8),
            generator.randint(0, 10**7) / 1000 + 0.0005,  # a half, as near as a float gets
            generator.randint(0, 10**12) / 1000 + 0.0005,
            generator.randint(0, 10**6) / 1000,
        ]
    assert [v for v in values if thousandths(v).hex() != round(v, 3).hex()] == []
    assert math.isnan(thousandths(math.nan))
