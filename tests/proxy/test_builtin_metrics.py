"""The gateway's own metrics, with no policy asking: read back exactly after real calls.

Real gateway processes in front of fake providers, called with the openai SDK: a failover
through a `fallback` pool, a retry, a stream, a rate-limit refusal, a tripped breaker and a
path with no API; then `/metrics` must count each of them, exactly. With `--workers 3`, one
scrape answers for the whole group, whichever worker takes it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.proxy.observed import Gateway
from tests.proxy.processes import (
    fake_provider,
    fake_providers,
    fake_service,
    free_port,
    inject_faults,
    start_gateway,
    stop,
)
from tests.proxy.prometheus import samples, total
from tests.proxy.retry_policy import RETRY_BACKEND

BREAKER = """    circuit-breaker:
      rules:
        - failure-condition: {count: 1, interval: 60, status-code-ranges: ["429"]}
          trip-duration: 60"""


def write_directory(root: Path, ports: list[int]) -> None:
    (root / "gateway.yaml").write_text(
        f"""
backends:
  m0: {{url: "http://127.0.0.1:{ports[0]}/v1"}}
  m1: {{url: "http://127.0.0.1:{ports[1]}/v1"}}
  m2:
    url: "http://127.0.0.1:{ports[2]}/v1"
{BREAKER}
  pool:
    pool: {{strategy: fallback, services: [m0, m1]}}
apis:
  failover: {{path: failover, style: openai, backend: pool, subscription-required: false}}
  retried: {{path: retried, style: openai, backend: m0, subscription-required: false}}
  limited: {{path: limited, style: openai, backend: m1, subscription-required: false}}
  tripped: {{path: tripped, style: openai, backend: m2, subscription-required: false}}
pricing:
  - {{provider: openai-compatible, model: m, input: 1, output: 2, date: "2026-12-01"}}
"""
    )
    apis = root / "apis"
    apis.mkdir()
    (apis / "retried.xml").write_text(
        f"<policies><inbound><base /></inbound>{RETRY_BACKEND.format(timeout=10)}</policies>"
    )
    (apis / "limited.xml").write_text(
        '<policies><inbound><base /><rate-limit-by-key calls="1" renewal-period="60" counter-key="all" />'
        "</inbound></policies>"
    )


@pytest.fixture
def providers() -> Iterator[list[int]]:
    with fake_providers(3) as ports:
        yield ports


def client(gateway: Gateway, api: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gateway.base}/{api}", api_key="-", max_retries=0)


def chat(gateway: Gateway, api: str, model: str = "m") -> None:
    client(gateway, api).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "hi"}]
    )


def scrape(gateway: Gateway) -> str:
    return httpx.get(f"{gateway.admin}/metrics", timeout=20).text


def test_every_call_is_counted_with_its_attempts_timings_tokens_and_refusals(
    tmp_path: Path, providers: list[int]
) -> None:
    write_directory(tmp_path, providers)
    port, admin = free_port(), free_port()
    process = start_gateway(tmp_path, port, None, admin)
    gateway = Gateway(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", process)
    try:
        inject_faults(providers[0], mode="503", times=1)
        chat(gateway, "failover")  # m0 answers 503, the pool falls back to m1
        inject_faults(providers[0], mode="503", times=1)
        chat(gateway, "retried")  # m0 answers 503, the retry gets m0's 200
        stream = client(gateway, "retried").chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        assert len(list(stream)) > 1
        chat(gateway, "failover", model="a-model-nobody-configured")
        chat(gateway, "limited")
        with pytest.raises(openai.RateLimitError):
            chat(gateway, "limited")  # refused by rate-limit: never reaches m1
        inject_faults(providers[2], mode="429", times=1)
        with pytest.raises(openai.RateLimitError):
            chat(gateway, "tripped")  # m2's own 429, which trips its breaker
        assert httpx.post(f"{gateway.base}/nowhere/chat/completions").status_code == 404
        time.sleep(0.3)  # the stream is counted right after its last chunk
        text = scrape(gateway)
        lines = gateway.log(at_least=8)
    finally:
        stop(process)

    def requests(api: str, backend: str, status_class: str) -> float:
        return total(
            text,
            "aigw_requests_total",
            api=api,
            backend=backend,
            status_class=status_class,
            cache="none",
        )

    assert requests("failover", "pool", "2xx") == 2
    assert requests("retried", "m0", "2xx") == 2
    assert requests("limited", "m1", "2xx") == 1
    assert requests("limited", "m1", "4xx") == 1
    assert requests("tripped", "m2", "4xx") == 1
    assert requests("", "", "4xx") == 1
    assert total(text, "aigw_requests_total") == 8

    def attempts(backend: str, member: str, outcome: str) -> float:
        found = total(
            text, "aigw_upstream_attempts_total", backend=backend, member=member, outcome=outcome
        )
        return found

    assert attempts("pool", "m0", "503") == 1
    assert attempts("pool", "m0", "200") == 1  # the unknown model's call: m0 first, fine
    assert attempts("pool", "m1", "200") == 1
    assert attempts("m0", "m0", "503") == 1
    assert attempts("m0", "m0", "200") == 2
    assert attempts("m1", "m1", "200") == 1
    assert attempts("m2", "m2", "429") == 1
    assert total(text, "aigw_upstream_attempts_total") == 8
    # Every attempt timed; every request timed, whole and the gateway's own part.
    assert total(text, "aigw_upstream_duration_seconds_count", member="m0") == 5
    assert total(text, "http_server_request_duration_seconds_count") == 8
    assert total(text, "aigw_gateway_duration_seconds_count") == 8
    status_429 = {"http_response_status_code": "429"}
    assert total(text, "http_server_request_duration_seconds_count", **status_429) == 2
    assert (
        total(text, "aigw_limit_refusals_total", api="limited", statement="rate-limit-by-key") == 1
    )
    assert total(text, "aigw_limit_refusals_total") == 1  # m2's own 429 is no refusal
    assert total(text, "aigw_breaker_state", backend="m2") == 1

    # Tokens as the provider reported them: four whole answers (5 in, 7 out), a stream (5, 3).
    usage = "gen_ai_client_token_usage_sum"
    assert total(text, usage, gen_ai_token_type="input") == 5 * 5
    assert total(text, usage, gen_ai_token_type="output") == 4 * 7 + 3
    assert total(text, "gen_ai_client_token_usage_count", gen_ai_token_type="input") == 5
    known = {"gen_ai_request_model": "m", "gen_ai_response_model": "m"}
    assert total(text, usage, gen_ai_token_type="input", **known) == 4 * 5
    unknown = {"gen_ai_request_model": "other", "gen_ai_response_model": "other"}
    assert total(text, usage, gen_ai_token_type="input", **unknown) == 5  # never its name
    gen_ai = [line for line in text.splitlines() if line.startswith("gen_ai_")]
    assert not [line for line in gen_ai if "a-model-nobody-configured" in line]
    genai = {"gen_ai_operation_name": "chat", "gen_ai_provider_name": "openai-compatible"}
    assert total(text, "gen_ai_server_time_to_first_token_seconds_count", **genai) == 1
    assert total(text, "gen_ai_server_time_per_output_token_seconds_count", **genai) == 1
    assert total(text, "gen_ai_server_request_duration_seconds_count") == 6
    # The stream's three chunks come 0.3 s apart: its first token came well before its end.
    first = total(text, "gen_ai_server_time_to_first_token_seconds_sum")
    (whole,) = [
        value
        for labels, value in samples(text, "http_server_request_duration_seconds_sum")
        if labels["api"] == "retried"
    ]
    assert 0 < first < 0.5 < whole

    # The access log says the same, call by call.
    refusals = [line.get("refusal") for line in lines]
    assert refusals.count("rate-limit-by-key") == 1 and refusals.count("no-route") == 1
    for line in lines:
        if line["status"] == 200:
            assert line["upstream_ms"] > 0 and line["ttfb_ms"] >= line["gateway_ms"] >= 0
            assert line["duration_ms"] >= line["ttfb_ms"]


def test_one_scrape_adds_up_every_worker_of_the_group(tmp_path: Path, providers: list[int]) -> None:
    write_directory(tmp_path, providers)
    port, admin = free_port(), free_port()
    process = start_gateway(tmp_path, port, None, admin, "--workers", "3")
    gateway = Gateway(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", process)
    calls = 30
    try:
        workers = httpx.get(f"{gateway.admin}/-/workers", timeout=10).json()["workers"]
        assert len(workers) == 3
        for _ in range(calls):  # a new connection each: the kernel spreads them over workers
            with httpx.Client() as fresh:
                answer = fresh.post(
                    f"{gateway.base}/failover/chat/completions",
                    json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                )
                assert answer.status_code == 200
        time.sleep(0.2)
        scrapes = [scrape(gateway) for _ in range(6)]  # any worker may take each one
        workers = httpx.get(f"{gateway.admin}/-/workers", timeout=10).json()["workers"]
        served = {line["member"] for line in gateway.log(at_least=calls)}
    finally:
        stop(process)
    assert served == {"m0"}
    taken = [worker["status"]["requests"] for worker in workers]
    assert sum(taken) == calls and sorted(taken)[-2] > 0  # several workers took calls
    for text in scrapes:
        assert total(text, "aigw_requests_total", api="failover", status_class="2xx") == calls
        assert total(text, "aigw_upstream_attempts_total", member="m0", outcome="200") == calls
        assert total(text, "gen_ai_client_token_usage_sum", gen_ai_token_type="input") == 5 * calls
        assert total(text, "gen_ai_client_token_usage_sum", gen_ai_token_type="output") == 7 * calls
        assert total(text, "http_server_request_duration_seconds_count") == calls
        assert total(text, "aigw_scrape_workers", state="answered") == 3
        assert total(text, "aigw_scrape_workers", state="missing") == 0


def test_the_same_metrics_go_over_otlp_when_an_endpoint_is_set(
    tmp_path: Path, providers: list[int]
) -> None:
    collector_port = free_port()
    write_directory(tmp_path, providers)
    settings = tmp_path / "gateway.yaml"
    settings.write_text(
        settings.read_text()
        + f'telemetry: {{otlp-endpoint: "http://127.0.0.1:{collector_port}"}}\n'
    )
    port, admin = free_port(), free_port()
    env = {**os.environ, "OTEL_METRIC_EXPORT_INTERVAL": "300"}  # ms: the test need not wait
    with fake_service("tests.fakes.otlp_collector", collector_port) as collector:
        process = start_gateway(tmp_path, port, env, admin)
        gateway = Gateway(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", process)
        try:
            chat(gateway, "retried")
            chat(gateway, "retried")
            deadline = time.monotonic() + 10
            while True:
                exported = latest_points(httpx.get(f"{collector}/-/received/metrics").json())
                if exported.get("aigw.requests") == 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        finally:
            stop(process)
    assert exported["aigw.requests"] == 2
    assert exported["aigw.upstream.attempts"] == 2
    assert exported["gen_ai.client.token.usage"] == 2 * (5 + 7)  # the histograms' sums
    assert exported["service.instance.id"].endswith(f":{process.pid}")


def latest_points(requests: list[dict[str, Any]]) -> dict[str, Any]:
    """The last export's value of each metric: a counter's points added up, a histogram's
    sums added up; and the exporting process's service.instance.id."""
    found: dict[str, Any] = {}
    for request in requests:
        for resource in request.get("resourceMetrics", []):
            for attribute in resource["resource"]["attributes"]:
                if attribute["key"] == "service.instance.id":
                    found["service.instance.id"] = attribute["value"]["stringValue"]
            for scope in resource.get("scopeMetrics", []):
                for metric in scope["metrics"]:
                    if "sum" in metric:
                        points = metric["sum"]["dataPoints"]
                        found[metric["name"]] = sum(
                            float(p.get("asDouble", p.get("asInt", 0))) for p in points
                        )
                    elif "histogram" in metric:
                        points = metric["histogram"]["dataPoints"]
                        found[metric["name"]] = sum(float(p.get("sum", 0)) for p in points)
    return found


def test_requests_say_whether_the_response_cache_answered(tmp_path: Path) -> None:
    provider_port, port, admin = free_port(), free_port(), free_port()
    (tmp_path / "gateway.yaml").write_text(
        f"""
backends:
  provider: {{url: "http://127.0.0.1:{provider_port}/v1"}}
apis:
  shop:
    path: shop
    backend: provider
    subscription-required: false
    operations: [{{id: list, method: GET, url-template: /items}}]
"""
    )
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "shop.xml").write_text(
        """<policies>
        <inbound><base /><cache-lookup vary-by-developer="false"
            vary-by-developer-groups="false" /></inbound>
        <outbound><base /><cache-store duration="60" /></outbound></policies>"""
    )
    with fake_provider(provider_port):
        process = start_gateway(tmp_path, port, None, admin)
        gateway = Gateway(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", process)
        try:
            cached = [httpx.get(f"{gateway.base}/shop/items").headers["x-aigw-cache"]]
            cached += [httpx.get(f"{gateway.base}/shop/items").headers["x-aigw-cache"]]
            text = scrape(gateway)
        finally:
            stop(process)
    assert cached == ["miss", "hit"]
    for result in ("miss", "hit"):
        assert total(text, "aigw_requests_total", api="shop", cache=result) == 1
    assert total(text, "aigw_upstream_attempts_total", member="provider") == 1  # the miss only
