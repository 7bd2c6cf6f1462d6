"""Traces read back from the SDK's in-memory exporter after real openai SDK calls through the
gateway to fake provider processes: the request's span, an attempt span per backend call
(retries and failover included), side calls, `trace` events, W3C context in and out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tests.proxy.processes import fake_providers, fake_service, free_port, inject_faults
from tests.proxy.retry_policy import RETRY_BACKEND
from tests.proxy.traced_gateway import finished_spans, traced_gateway

KEY = "sub-key-never-in-a-span"
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_PARENT = "00f067aa0ba902b7"
MESSAGES = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(scope="module")
def members() -> Iterator[list[int]]:
    with fake_providers(2) as ports:
        yield ports


@pytest.fixture
def ports(members: list[int]) -> list[int]:
    for port in members:  # every test starts with healthy providers and empty logs
        inject_faults(port, mode="ok")
        httpx.delete(f"http://127.0.0.1:{port}/-/traceparents").raise_for_status()
    return members


def write_directory(
    root: Path, ports: list[int], backends: str = "", apis: str = "", rest: str = ""
) -> Path:
    (root / "apis").mkdir(parents=True)
    (root / "gateway.yaml").write_text(
        f"""
backends:
  m0: {{url: "http://127.0.0.1:{ports[0]}/v1", provider: openai}}
  m1: {{url: "http://127.0.0.1:{ports[1]}/v1", provider: openai}}
  pool: {{pool: {{strategy: fallback, services: [m0, m1]}}}}
  race: {{pool: {{strategy: race, services: [m0, m1]}}}}
{backends}apis:
  chat: {{path: chat, style: openai, backend: m0}}
  pooled: {{path: pooled, style: openai, backend: pool, subscription-required: false}}
  raced: {{path: raced, style: openai, backend: race, subscription-required: false}}
{apis}products:
  gold: {{apis: [chat], subscription-required: true}}
subscriptions:
  team-a: {{scope: product/gold, primary-key: "{KEY}"}}
{rest}"""
    )
    (root / "apis" / "chat.xml").write_text(
        f"""<policies>
    <inbound>
        <base />
        <send-request mode="new" response-variable-name="models" timeout="5">
            <set-url>http://127.0.0.1:{ports[1]}/v1/models</set-url>
            <set-method>GET</set-method>
        </send-request>
        <trace source="inbound" severity="information">
            <message>asked</message>
            <metadata name="team" value="@(context.Subscription.Id)" />
        </trace>
    </inbound>
    {RETRY_BACKEND.format(timeout=5)}
</policies>"""
    )
    return root


@pytest.fixture(scope="module")
def safety() -> Iterator[str]:
    with fake_service("tests.fakes.content_safety", free_port()) as url:
        yield url


# A static token for managed identity (outside Azure), the semantic cache with a backend's
# embeddings, and Content Safety screening the prompt: each a side call of its own.
SIDE_CALLS = """<policies>
    <inbound>
        <base />
        <authentication-managed-identity resource="https://cognitiveservices.azure.com"
            output-token-variable-name="token" />
        <llm-content-safety backend-id="content-safety">
            <categories output-type="FourSeverityLevels"><category name="Hate" threshold="4" /></categories>
        </llm-content-safety>
        <llm-semantic-cache-lookup score-threshold="0.1" embeddings-backend-id="embed"
            embeddings-backend-auth="system-assigned" />
    </inbound>
    <outbound><base /><llm-semantic-cache-store duration="60" /></outbound>
</policies>"""


@pytest.fixture
def side_calls_url(
    tmp_path: Path, ports: list[int], safety: str
) -> Iterator[tuple[InMemorySpanExporter, str]]:
    key = "{header: {Ocp-Apim-Subscription-Key: k}}"
    root = write_directory(
        tmp_path,
        ports,
        backends=f"""  embed: {{url: "http://127.0.0.1:{ports[1]}/v1/embeddings"}}
  content-safety: {{url: "{safety}", credentials: {key}}}
""",
        apis="  screened: {path: screened, style: openai, backend: m0, subscription-required: false}\n",
        rest="""identity:
  tokens: {"https://cognitiveservices.azure.com": "static-token-never-in-a-span"}
""",
    )
    (root / "apis" / "screened.xml").write_text(SIDE_CALLS)
    exporter = InMemorySpanExporter()
    with traced_gateway(root, exporter) as url:
        yield exporter, url


@pytest.fixture
def spans_and_url(tmp_path: Path, ports: list[int]) -> Iterator[tuple[InMemorySpanExporter, str]]:
    exporter = InMemorySpanExporter()
    with traced_gateway(write_directory(tmp_path, ports), exporter) as url:
        yield exporter, url


def client(url: str, api: str, headers: dict[str, str] | None = None) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{url}/{api}", api_key=KEY, max_retries=0, default_headers=headers or {}
    )


def by_kind(spans: list[ReadableSpan]) -> tuple[ReadableSpan, list[ReadableSpan]]:
    """The request's span and the rest (its children), checking they are one trace."""
    servers = [s for s in spans if s.kind == SpanKind.SERVER]
    assert len(servers) == 1, [s.name for s in spans]
    request = servers[0]
    children = [s for s in spans if s is not request]
    for child in children:
        assert child.parent is not None and child.parent.span_id == request.context.span_id
        assert child.context.trace_id == request.context.trace_id
    return request, children


def attempts_of(children: list[ReadableSpan]) -> list[ReadableSpan]:
    found = [s for s in children if "aigw.member" in (s.attributes or {})]
    return sorted(found, key=lambda s: s.start_time or 0)


def traceparents(port: int) -> list[str | None]:
    return httpx.get(f"http://127.0.0.1:{port}/-/traceparents").json()


def test_a_retried_call_is_one_request_span_with_an_attempt_span_each(
    spans_and_url: tuple[InMemorySpanExporter, str], ports: list[int]
) -> None:
    exporter, url = spans_and_url
    inject_faults(ports[0], mode="500", times=1)  # the first call fails, the retry succeeds
    parent = f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-01"
    answer = client(url, "chat", {"traceparent": parent}).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    assert answer.choices[0].message.content

    request, children = by_kind(finished_spans(exporter, 4))
    # The client's trace context is the parent of the gateway's.
    assert format(request.context.trace_id, "032x") == CLIENT_TRACE
    assert request.parent is not None and format(request.parent.span_id, "016x") == CLIENT_PARENT
    attributes = dict(request.attributes or {})
    assert request.name == "POST /chat/chat/completions"
    assert {
        "http.request.method": "POST",
        "http.response.status_code": 200,
        "url.path": "/chat/chat/completions",
        "aigw.api": "chat",
        "aigw.operation": "ChatCompletions_Create",
        "aigw.product": "gold",
        "aigw.subscription": "team-a",
        "aigw.backend": "m0",
        "aigw.member": "m0",
        "aigw.attempts": 2,
        "aigw.cache": "none",
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini",
        "gen_ai.response.id": "chatcmpl-fake",
        "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.output_tokens": 7,
    }.items() <= attributes.items()
    assert tuple(attributes["gen_ai.response.finish_reasons"]) == ("stop",)
    assert attributes["aigw.cost"] > 0  # gpt-4o-mini's shipped price, 5 + 7 tokens
    assert KEY not in repr(attributes)  # the subscription's id, never its key

    first, second = attempts_of(children)
    assert first.name == second.name == "chat gpt-4o-mini"
    assert first.kind == second.kind == SpanKind.CLIENT
    assert first.attributes["aigw.member"] == second.attributes["aigw.member"] == "m0"
    assert first.attributes["http.response.status_code"] == 500
    assert first.status.status_code == StatusCode.ERROR
    assert "aigw.attempt.reason" not in first.attributes
    assert second.attributes["http.response.status_code"] == 200
    assert second.attributes["aigw.attempt.reason"] == "retry"
    assert second.status.status_code == StatusCode.UNSET

    # Each attempt's call carried its own span as the backend's parent, in the client's trace.
    sent = [p for p in traceparents(ports[0]) if p is not None]
    assert sent == [
        f"00-{CLIENT_TRACE}-{format(span.context.span_id, '016x')}-01" for span in (first, second)
    ]

    # send-request's call is a span of its own, and carried its trace context too.
    (side,) = [s for s in children if (s.attributes or {}).get("aigw.side_call")]
    assert side.name == "send-request GET"
    assert side.attributes["http.response.status_code"] == 200
    assert side.attributes["url.full"] == f"http://127.0.0.1:{ports[1]}/v1/models"
    assert traceparents(ports[1]) == [
        f"00-{CLIENT_TRACE}-{format(side.context.span_id, '016x')}-01"
    ]

    # The trace statement is an event of the request's span; so is the failed attempt's note.
    events = [(e.name, dict(e.attributes or {})) for e in request.events]
    assert (
        "trace",
        {
            "aigw.trace.severity": "information",
            "aigw.trace.source": "inbound",
            "aigw.trace.message": "asked team=team-a",
        },
    ) in events
    assert any("m0 answered 500" in str(a.get("aigw.trace.message")) for _, a in events)


def test_failover_to_the_next_member_is_an_attempt_span_saying_so(
    spans_and_url: tuple[InMemorySpanExporter, str], ports: list[int]
) -> None:
    exporter, url = spans_and_url
    inject_faults(ports[0], mode="503")
    stream = client(url, "pooled").chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text

    request, children = by_kind(finished_spans(exporter, 3))
    attributes = dict(request.attributes or {})
    assert attributes["aigw.member"] == "m1"
    assert attributes["aigw.attempts"] == 2
    assert "aigw.subscription" not in attributes  # an open API: no subscription
    assert tuple(attributes["gen_ai.response.finish_reasons"]) == ("stop",)
    assert attributes["gen_ai.usage.output_tokens"] > 0
    first, second = attempts_of(children)
    assert (first.attributes["aigw.member"], first.attributes["http.response.status_code"]) == (
        "m0",
        503,
    )
    assert (second.attributes["aigw.member"], second.attributes["aigw.attempt.reason"]) == (
        "m1",
        "failover",
    )
    assert second.attributes["http.response.status_code"] == 200
    # The request's span ends after the stream's last byte, so it covers the attempts.
    assert request.end_time is not None and second.end_time is not None
    assert request.end_time >= second.end_time


def test_a_race_is_an_attempt_span_per_member_the_slower_one_cancelled(
    spans_and_url: tuple[InMemorySpanExporter, str], ports: list[int]
) -> None:
    exporter, url = spans_and_url
    inject_faults(ports[0], mode="slow")  # m0 answers 0.3 s late: m1 wins, m0 is cancelled
    client(url, "raced").chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    request, children = by_kind(finished_spans(exporter, 3))
    assert request.attributes["aigw.member"] == "m1"
    spans = {span.attributes["aigw.member"]: span for span in attempts_of(children)}
    assert spans["m1"].attributes["aigw.attempt.reason"] == "race"
    assert spans["m1"].attributes["http.response.status_code"] == 200
    assert spans["m0"].attributes["aigw.attempt.outcome"] == "cancelled"
    assert spans["m0"].status.status_code == StatusCode.ERROR


def test_a_client_that_sampled_its_trace_out_gets_no_spans_and_its_context_passes_on(
    spans_and_url: tuple[InMemorySpanExporter, str], ports: list[int]
) -> None:
    exporter, url = spans_and_url
    unsampled = f"00-{CLIENT_TRACE}-{CLIENT_PARENT}-00"
    client(url, "pooled", {"traceparent": unsampled}).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    assert finished_spans(exporter, 1, timeout=0.5) == []
    assert traceparents(ports[0]) == [unsampled]


def test_a_refused_request_is_a_span_too(
    spans_and_url: tuple[InMemorySpanExporter, str],
) -> None:
    exporter, url = spans_and_url
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{url}/chat", api_key="wrong", max_retries=0).models.list()
    (request,) = finished_spans(exporter, 1)
    assert request.kind == SpanKind.SERVER
    assert request.attributes["http.response.status_code"] == 401
    assert request.attributes["url.path"] == "/chat/models"


def test_side_calls_are_spans_of_their_own_and_a_cache_hit_says_so(
    side_calls_url: tuple[InMemorySpanExporter, str],
) -> None:
    exporter, url = side_calls_url
    screened = client(url, "screened")
    screened.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    request, children = by_kind(finished_spans(exporter, 5))
    names = sorted(span.name for span in children)
    assert names == [
        "chat gpt-4o-mini",
        "content-safety",
        "embeddings embed",
        "managed-identity token",
    ]
    side = {
        span.attributes["aigw.side_call"]: span
        for span in children
        if "aigw.side_call" in span.attributes
    }
    assert (
        side["managed-identity"].attributes["aigw.resource"]
        == "https://cognitiveservices.azure.com"
    )
    assert side["content-safety"].attributes["http.response.status_code"] == 200
    assert side["embeddings"].attributes["gen_ai.operation.name"] == "embeddings"
    assert "static-token" not in repr([dict(span.attributes) for span in children])
    assert request.attributes["aigw.cache"] == "miss"

    exporter.clear()
    screened.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    request, children = by_kind(finished_spans(exporter, 4))
    assert request.attributes["aigw.cache"] == "hit"
    assert "aigw.member" not in request.attributes  # no backend call
    assert not attempts_of(children)
