"""Traces as `aigw run` exports them: OTLP/HTTP to a collector process the test owns, after a
real openai SDK call; and with tracing off, nothing exported and the client's trace context
passed to the backend untouched. The access log names the trace either way."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import REPO
from tests.proxy.processes import (
    fake_provider,
    fake_service,
    free_port,
    output_of,
    start_gateway,
    stop,
)

CLIENT_TRACE = "0af7651916cd43dd8448eb211c80319c"
CLIENT_PARENT = "b7ad6b7169203331"
TRACEPARENT = f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"
FILE_BLOCK = re.compile(r"```yaml title=(\S+)\n(.*?)```", re.DOTALL)


@pytest.fixture(scope="module")
def provider() -> Iterator[int]:
    port = free_port()
    with fake_provider(port):
        yield port


@pytest.fixture(scope="module")
def collector() -> Iterator[str]:
    with fake_service("tests.fakes.otlp_collector", free_port()) as url:
        yield url


def write_directory(root: Path, provider: int, collector: str) -> Path:
    """Tracing off (no telemetry.traces), metrics still going to the collector."""
    (root / "gateway.yaml").write_text(
        f"""
backends:
  fake: {{url: "http://127.0.0.1:{provider}/v1", provider: openai}}
apis:
  chat: {{path: chat, style: openai, backend: fake, subscription-required: false}}
telemetry:
  otlp-endpoint: "{collector}"
"""
    )
    return root


def call(url: str) -> None:
    answer = openai.OpenAI(
        base_url=f"{url}/chat",
        api_key="unused",
        max_retries=0,
        default_headers={"traceparent": TRACEPARENT},
    ).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    assert answer.choices[0].message.content


def exported_spans(collector: str, count: int, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        spans = [
            span | {"service": resource["resource"]}
            for export in httpx.get(f"{collector}/-/received/traces").json()
            for resource in export["resourceSpans"]
            for scope in resource["scopeSpans"]
            for span in scope["spans"]
        ]
        if len(spans) >= count or time.monotonic() > deadline:
            return spans
        time.sleep(0.1)


def hex_id(encoded: str) -> str:
    return base64.b64decode(encoded).hex()


def attributes(span: dict) -> dict[str, object]:
    return {a["key"]: next(iter(a["value"].values())) for a in span.get("attributes", [])}


def access_log(process: object) -> list[dict]:
    return [json.loads(line) for line in output_of(process).splitlines() if line.startswith("{")]


@pytest.fixture
def clean(tmp_path: Path, provider: int, collector: str) -> Iterator[object]:
    httpx.delete(f"{collector}/-/received").raise_for_status()
    httpx.delete(f"http://127.0.0.1:{provider}/-/traceparents").raise_for_status()
    yield None


def run(root: Path) -> tuple[object, str]:
    port = free_port()
    # Spans leave in batches; a short delay keeps the test quick.
    env = {**os.environ, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    return start_gateway(root, port, env), f"http://127.0.0.1:{port}"


def documented_directory(root: Path, provider: int, collector: str) -> Path:
    """docs/observability.md's example gateway.yaml, its backend and collector ours."""
    (name, text), *_ = FILE_BLOCK.findall(
        (REPO / "docs" / "observability.md").read_text(encoding="utf-8")
    )
    assert name == "gateway.yaml"
    assert "http://127.0.0.1:8081/v1" in text and "http://127.0.0.1:4318" in text
    text = text.replace("http://127.0.0.1:8081", f"http://127.0.0.1:{provider}")
    (root / name).write_text(text.replace("http://127.0.0.1:4318", collector))
    return root


def test_aigw_run_exports_the_request_and_its_attempt_over_otlp(
    clean: None, tmp_path: Path, provider: int, collector: str
) -> None:
    root = documented_directory(tmp_path, provider, collector)
    process, url = run(root)
    try:
        call(url)
        httpx.get(f"{url}/nowhere", headers={"traceparent": TRACEPARENT})  # refused: no route
        spans = exported_spans(collector, 3)
    finally:
        stop(process)
    assert len(spans) == 3, spans
    servers = [s for s in spans if s["kind"] == "SPAN_KIND_SERVER"]
    server = next(s for s in servers if s["name"] != "GET")
    attempt = next(s for s in spans if s["kind"] == "SPAN_KIND_CLIENT")
    assert hex_id(server["traceId"]) == hex_id(attempt["traceId"]) == CLIENT_TRACE
    assert hex_id(server["parentSpanId"]) == CLIENT_PARENT
    assert attempt["parentSpanId"] == server["spanId"]
    assert server["name"] == "POST /chat/chat/completions"
    assert {"key": "service.name", "value": {"stringValue": "aigw"}} in server["service"][
        "attributes"
    ]
    found = attributes(server)
    assert found["gen_ai.request.model"] == "gpt-4o-mini"
    assert found["gen_ai.usage.input_tokens"] == "5"  # int64 is a string in OTLP's JSON
    assert found["aigw.api"] == "chat"
    assert attempt["name"] == "chat gpt-4o-mini"
    assert attributes(attempt)["aigw.member"] == "openai"
    assert found["gen_ai.provider.name"] == "openai"
    # The backend saw the attempt's span as its parent; the log names the trace.
    refused = next(s for s in spans if attributes(s).get("http.response.status_code") == "404")
    assert hex_id(refused["traceId"]) == CLIENT_TRACE and refused["name"] == "GET"
    sent = httpx.get(f"http://127.0.0.1:{provider}/-/traceparents").json()
    assert sent == [f"00-{CLIENT_TRACE}-{hex_id(attempt['spanId'])}-01"]
    (line,) = [
        entry for entry in access_log(process) if entry.get("path") == "/chat/chat/completions"
    ]
    assert line["trace_id"] == CLIENT_TRACE
    (refused_line,) = [entry for entry in access_log(process) if entry.get("path") == "/nowhere"]
    assert refused_line["trace_id"] == CLIENT_TRACE  # the refused request's span's trace


def test_with_tracing_off_nothing_is_exported_and_the_context_passes_as_sent(
    clean: None, tmp_path: Path, provider: int, collector: str
) -> None:
    root = write_directory(tmp_path, provider, collector)
    process, url = run(root)
    try:
        call(url)
        httpx.get(f"{url}/nowhere", headers={"traceparent": TRACEPARENT})  # refused: no route
        time.sleep(0.5)  # what a batch would take to leave, were there one
    finally:
        stop(process)
    assert exported_spans(collector, 1, timeout=0) == []
    assert httpx.get(f"http://127.0.0.1:{provider}/-/traceparents").json() == [TRACEPARENT]
    (line,) = [
        entry for entry in access_log(process) if entry.get("path") == "/chat/chat/completions"
    ]
    assert line["trace_id"] == CLIENT_TRACE  # the client's trace, named though not traced
    (refused,) = [entry for entry in access_log(process) if entry.get("path") == "/nowhere"]
    assert refused["status"] == 404 and refused["trace_id"] == CLIENT_TRACE
