"""LLM message logging and log-to-eventhub through a real gateway: the openai SDK calls it
(plain and streamed chat and Responses API; the anthropic SDK, Anthropic's messages) in front of the fake provider, and the records
are read back from each sink: a JSON-lines file, a Kafka-protocol broker (librdkafka's mock
cluster in its own process, tests/fakes/kafka_broker.py) and an OTLP/HTTP receiver
(tests/fakes/otlp_collector.py). A sink that is down never slows or fails a call; no sink
ever holds the subscription key or the provider key the calls used."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import anthropic
import httpx
import openai

from tests.kafka_brokers import consume, kafka_broker
from tests.proxy.processes import (
    fake_provider,
    fake_service,
    free_port,
    output_of,
    start_gateway,
    stop,
)
from tests.proxy.prometheus import sample

SUBSCRIPTION_KEY = "sub-key-5f1e9c0d7a"
PROVIDER_KEY = "sk-provider-91b2c4e6f8"
ANSWER = "The capital of France is Paris."
PROMPT = [{"role": "user", "content": "What is the capital of France?"}]


@dataclass
class Running:
    base: str
    admin: str
    root: Path
    bootstrap: str
    collector: str
    process: object


def gateway_yaml(provider: int, bootstrap: str, collector: str) -> str:
    return f"""
backends:
  fake: {{url: "http://127.0.0.1:{provider}/v1", api-key: "${{env:AIGW_TEST_PROVIDER_KEY}}"}}
  claude: {{url: "http://127.0.0.1:{provider}", provider: anthropic,
            api-key: "${{env:AIGW_TEST_PROVIDER_KEY}}"}}
subscriptions:
  team: {{scope: all-apis, primary-key: {SUBSCRIPTION_KEY}}}
loggers:
  lines: {{kind: file, path: llm.jsonl}}
  kafka: {{kind: kafka, bootstrap-servers: ["{bootstrap}"], topic: llm}}
  otlp: {{kind: otlp, endpoint: "{collector}/v1/logs"}}
apis:
  chat:
    path: chat
    style: openai
    backend: fake
    llm-messages: {{logger: lines}}
  capped:
    path: capped
    style: openai
    backend: fake
    llm-messages: {{logger: lines, max-bytes: 12}}
  half:
    path: half
    style: openai
    backend: fake
    llm-messages: {{logger: otlp, sampling: 0.5}}
  never:
    path: never
    style: openai
    backend: fake
    llm-messages: {{logger: otlp, sampling: 0}}
  events:
    path: events
    style: openai
    backend: fake
    llm-messages: {{logger: kafka}}
  messages:
    path: messages
    style: anthropic
    backend: claude
    llm-messages: {{logger: lines}}
  plain:
    path: plain
    style: openai
    backend: fake
"""


EVENTS_POLICY = """<policies><inbound><base />
    <log-to-eventhub logger-id="kafka" partition-id="2">@("call to " + context.Api.Id + " by " + context.Subscription.Id)</log-to-eventhub>
    <log-to-eventhub logger-id="kafka" partition-key="@(context.Subscription.Id)">keyed</log-to-eventhub>
    <log-to-eventhub logger-id="otlp">@(context.Request.Headers.GetValueOrDefault("x-note", ""))</log-to-eventhub>
</inbound></policies>"""


@contextmanager
def running(tmp_path: Path) -> Iterator[Running]:
    provider, collector_port = free_port(), free_port()
    port, admin = free_port(), free_port()
    with ExitStack() as stack:
        bootstrap = stack.enter_context(kafka_broker("llm:4"))
        collector = stack.enter_context(fake_service("tests.fakes.otlp_collector", collector_port))
        stack.enter_context(fake_provider(provider))
        (tmp_path / "gateway.yaml").write_text(gateway_yaml(provider, bootstrap, collector))
        (tmp_path / "apis").mkdir()
        (tmp_path / "apis" / "events.xml").write_text(EVENTS_POLICY)
        env = {**os.environ, "AIGW_TEST_PROVIDER_KEY": PROVIDER_KEY}
        server = start_gateway(tmp_path, port, env, admin)
        try:
            yield Running(
                f"http://127.0.0.1:{port}",
                f"http://127.0.0.1:{admin}",
                tmp_path,
                bootstrap,
                collector,
                server,
            )
        finally:
            stop(server)


def client(base: str, api: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{base}/{api}",
        api_key=SUBSCRIPTION_KEY,
        max_retries=0,
        default_headers={"x-fake-answer": ANSWER, "x-note": "a note"},
    )


def file_records(path: Path, count: int, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) >= count:
            return [json.loads(line) for line in lines]
        time.sleep(0.05)
    raise AssertionError(f"{path} has {len(lines)} records, not {count}")


def otlp_bodies(collector: str, count: int, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    bodies: list[str] = []
    while time.monotonic() < deadline:
        exports = httpx.get(f"{collector}/-/received/logs").json()
        bodies = [
            record["body"]["stringValue"]
            for export in exports
            for resource in export["resourceLogs"]
            for scope in resource["scopeLogs"]
            for record in scope["logRecords"]
        ]
        if len(bodies) >= count:
            return bodies
        time.sleep(0.05)
    return bodies


def test_llm_messages_reach_every_sink_and_no_key_does(tmp_path: Path) -> None:
    with running(tmp_path) as gateway:
        chat = client(gateway.base, "chat")
        chat.chat.completions.create(model="gpt-4o-mini", messages=PROMPT)
        streamed = chat.chat.completions.create(
            model="gpt-4o-mini",
            messages=PROMPT,
            stream=True,
            stream_options={"include_usage": True},
        )
        assert "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == ANSWER
        chat.responses.create(model="gpt-4o-mini", input="Capital of France?")
        events = chat.responses.create(model="gpt-4o-mini", input="And of Italy?", stream=True)
        assert [e.type for e in events][-1] == "response.completed"
        client(gateway.base, "capped").chat.completions.create(model="m", messages=PROMPT)
        claude = anthropic.Anthropic(
            base_url=f"{gateway.base}/messages",
            api_key=SUBSCRIPTION_KEY,
            max_retries=0,
            default_headers={"x-fake-answer": ANSWER},
        )
        asked = {"model": "claude-x", "max_tokens": 50, "system": "Be brief.", "messages": PROMPT}
        assert claude.messages.create(**asked).content[0].text == ANSWER
        with claude.messages.stream(**asked) as stream_of_events:
            assert stream_of_events.get_final_text() == ANSWER
        client(gateway.base, "plain").chat.completions.create(model="m", messages=PROMPT)
        client(gateway.base, "events").chat.completions.create(model="m", messages=PROMPT)
        for _ in range(3):
            client(gateway.base, "never").chat.completions.create(model="m", messages=PROMPT)

        plain, stream, response, response_stream, capped, message, message_stream = file_records(
            gateway.root / "llm.jsonl", 7
        )
        # One record per call, in the order the calls ended; none for the API without logging.
        assert plain["api"] == "chat" and plain["operation"] == "ChatCompletions_Create"
        assert plain["subscription"] == "team" and plain["backend"] == "fake"
        assert plain["model"] == "gpt-4o-mini" and plain["status"] == 200
        assert plain["prompt"] == {"messages": PROMPT}
        assert plain["completion"] == ANSWER and plain["streamed"] is False
        assert plain["usage"] == {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
        assert plain["prompt_truncated"] is plain["completion_truncated"] is False
        assert len(plain["request_id"]) == 36 and plain["time"] > 1.7e9
        # The stream, assembled into its final text, with the usage its last chunk reported.
        assert stream["streamed"] is True and stream["completion"] == ANSWER
        assert stream["usage"]["completion_tokens"] > 0
        assert response["operation"] == "Responses_Create"
        assert response["prompt"] == {"input": "Capital of France?"}
        assert response["completion"] == ANSWER
        assert response_stream["streamed"] is True and response_stream["completion"] == ANSWER
        assert response_stream["prompt"] == {"input": "And of Italy?"}
        # max-bytes 12: each of prompt and completion cut to 12 bytes, and flagged.
        assert capped["api"] == "capped" and capped["completion"] == ANSWER[:12]
        assert capped["prompt"] == json.dumps({"messages": PROMPT})[:12]
        assert capped["prompt_truncated"] is capped["completion_truncated"] is True

        # Anthropic's messages, plain and streamed: the system text is part of the prompt.
        for record in (message, message_stream):
            assert record["api"] == "messages" and record["operation"] == "Messages_Create"
            assert record["prompt"] == {"system": "Be brief.", "messages": PROMPT}
            assert record["completion"] == ANSWER and record["model"] == "claude-x"
            assert record["usage"]["completion_tokens"] > 0
        assert message_stream["streamed"] is True and message["streamed"] is False

        # Kafka: log-to-eventhub's two messages, then the call's record.
        records = consume(gateway.bootstrap, "llm", 3)
        by_value = {r.value.decode(): r for r in records}
        assert by_value["call to events by team"].partition == 2
        assert by_value["keyed"].key == b"team"
        (record,) = [json.loads(v) for v in by_value if v.startswith("{")]
        assert record["api"] == "events" and record["completion"] == ANSWER

        # OTLP: log-to-eventhub's text; sampling 0 sent nothing.
        bodies = otlp_bodies(gateway.collector, 1)
        assert bodies == ["a note"]

        written = [
            (gateway.root / "llm.jsonl").read_bytes(),
            b"".join(r.value + (r.key or b"") for r in records),
            httpx.get(f"{gateway.collector}/-/raw/logs").content,
            output_of(gateway.process).encode(),  # the gateway's own log lines too
        ]
        metrics = httpx.get(f"{gateway.admin}/metrics").text
        for logger in ("lines", "kafka", "otlp"):
            assert sample(metrics, "aigw_llm_messages_dropped_total", logger=logger) == 0
        for data in written:
            assert data, "every sink was written to"
            assert SUBSCRIPTION_KEY.encode() not in data
            assert PROVIDER_KEY.encode() not in data


def test_sampling_logs_about_that_share_of_calls(tmp_path: Path) -> None:
    with running(tmp_path) as gateway:
        half = client(gateway.base, "half")
        for _ in range(100):
            half.chat.completions.create(model="m", messages=PROMPT)
        time.sleep(0.5)  # what was queued is written
        bodies = otlp_bodies(gateway.collector, 100, timeout=1.0)
        # Binomial(100, 0.5): outside 25..75 once in ~10^6 runs.
        assert 25 <= len(bodies) <= 75, len(bodies)
        assert all(json.loads(body)["api"] == "half" for body in bodies)


def test_a_sink_that_is_down_neither_fails_nor_slows_calls(tmp_path: Path) -> None:
    provider, port, admin, closed = free_port(), free_port(), free_port(), free_port()
    (tmp_path / "gateway.yaml").write_text(
        f"""
backends:
  fake: {{url: "http://127.0.0.1:{provider}/v1"}}
loggers:
  gone: {{kind: kafka, bootstrap-servers: ["127.0.0.1:{closed}"], topic: llm, queue-size: 5}}
apis:
  chat: {{path: chat, style: openai, backend: fake, subscription-required: false,
          llm-messages: {{logger: gone}}}}
"""
    )
    with fake_provider(provider):
        server = start_gateway(tmp_path, port, None, admin)
        try:
            chat = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/chat", api_key="-")
            chat.chat.completions.create(model="m", messages=PROMPT)  # warm up
            started = time.monotonic()
            for _ in range(30):
                chat.chat.completions.create(model="m", messages=PROMPT)
            elapsed = time.monotonic() - started
            assert elapsed < 6.0, f"30 calls took {elapsed:.1f} s with the sink down"
            time.sleep(0.3)
            metrics = httpx.get(f"http://127.0.0.1:{admin}/metrics").text
            dropped = sample(metrics, "aigw_llm_messages_dropped_total", logger="gone")
            # 31 records: at most 5 queued and one batch held for the retry; the rest dropped.
            assert dropped >= 31 - 5 - 1 - 1, metrics
        finally:
            stop(server)
        log = output_of(server)
        assert log.count("logger gone: sink down:") == 1, log
        assert "aiokafka" not in log and "Unable connect" not in log  # not once per retry
        assert f"Kafka 127.0.0.1:{closed} topic llm" in log
