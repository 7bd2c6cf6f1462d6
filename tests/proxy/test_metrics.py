"""/metrics on the admin listener shows token and custom metrics, with their dimensions."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import openai

from tests.proxy.processes import fake_provider, free_port, start_gateway, stop
from tests.proxy.prometheus import sample


def test_token_and_custom_metrics_after_real_calls(tmp_path: Path) -> None:
    provider_port, port, admin = free_port(), free_port(), free_port()
    (tmp_path / "gateway.yaml").write_text(
        f"""
backends:
  fake: {{url: "http://127.0.0.1:{provider_port}/v1"}}
apis:
  llm: {{path: llm, style: openai, backend: fake, subscription-required: false}}
pricing:
  - {{provider: openai-compatible, model: m, input: 1.5, output: 2, date: "2026-12-01"}}
"""
    )
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "llm.xml").write_text(
        """<policies><inbound><base />
            <llm-emit-token-metric namespace="llm">
                <dimension name="API ID" />
                <dimension name="Operation ID" />
                <dimension name="Team" value="@(context.Request.Headers.GetValueOrDefault(&quot;x-team&quot;, &quot;none&quot;))" />
            </llm-emit-token-metric>
            <emit-metric name="Requests" value="1" namespace="llm">
                <dimension name="API ID" />
            </emit-metric>
        </inbound>
        <outbound><base />
            <set-header name="x-cost" exists-action="override">
                <value>@(context.Variables.GetValueOrDefault("llm-cost", -1.0).ToString())</value>
            </set-header>
        </outbound></policies>"""
    )
    with fake_provider(provider_port):
        server = start_gateway(tmp_path, port, None, admin)
        try:
            client = openai.OpenAI(
                base_url=f"http://127.0.0.1:{port}/llm",
                api_key="-",
                default_headers={"x-team": "blue"},
            )
            raw = client.chat.completions.with_raw_response.create(
                model="m", messages=[{"role": "user", "content": "x"}]
            )
            # 5 prompt tokens at $1.50 and 7 completion tokens at $2 a million: $0.0000215
            assert raw.headers["x-cost"] == "2.15E-05"
            stream = client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": "x"}],
                stream=True,
                stream_options={"include_usage": True},
            )
            list(stream)
            time.sleep(0.3)  # a stream's tokens are counted right after its last chunk
            text = httpx.get(f"http://127.0.0.1:{admin}/metrics").text
        finally:
            stop(server)
    labels = {"API_ID": "llm", "Operation_ID": "ChatCompletions_Create", "Team": "blue"}
    assert sample(text, "llm_prompt_tokens_total", **labels) == 5 + 5
    assert sample(text, "llm_completion_tokens_total", **labels) == 7 + 3
    assert sample(text, "llm_total_tokens_total", **labels) == 12 + 8
    assert sample(text, "llm_requests_total", API_ID="llm") == 2
    # Both calls priced (the stream's after its last chunk): (5+5) x 1.5 + (7+3) x 2 per million
    cost = sample(text, "aigw_cost_total", Model="m", API_ID="llm", Backend_ID="fake")
    assert abs(cost - 0.000035) < 1e-12


def test_the_access_log_has_one_line_per_request_with_usage_and_cost(tmp_path: Path) -> None:
    import json

    from tests.proxy.processes import output_of

    provider_port, port = free_port(), free_port()
    (tmp_path / "gateway.yaml").write_text(
        f"""
backends:
  fake: {{url: "http://127.0.0.1:{provider_port}/v1"}}
apis:
  llm: {{path: llm, style: openai, backend: fake}}
subscriptions:
  team: {{scope: all-apis, primary-key: secret-key-1}}
pricing:
  - {{provider: openai-compatible, model: m, input: 1, output: 1, date: "2026-12-01"}}
"""
    )
    with fake_provider(provider_port):
        server = start_gateway(tmp_path, port)
        try:
            client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/llm", api_key="secret-key-1")
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
            httpx.get(f"http://127.0.0.1:{port}/llm/models?subscription-key=secret-key-1")
            # Answered before any policy: a wrong key, an unknown path, a wrong method.
            httpx.get(f"http://127.0.0.1:{port}/llm/models?subscription-key=secret-key-2")
            httpx.get(f"http://127.0.0.1:{port}/nowhere")
            httpx.put(f"http://127.0.0.1:{port}/llm/chat/completions")
        finally:
            stop(server)
        output = output_of(server)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    chat, models, wrong_key, nowhere, wrong_method = lines
    assert (chat["status"], chat["api"], chat["operation"]) == (
        200,
        "llm",
        "ChatCompletions_Create",
    )
    assert (chat["subscription"], chat["prompt_tokens"], chat["completion_tokens"]) == (
        "team",
        5,
        7,
    )
    assert chat["cost"] == 12 / 1_000_000 and chat["model"] == "m"
    assert models["path"] == "/llm/models" and models["operation"] == "Models_List"
    assert (wrong_key["status"], wrong_key["api"], wrong_key["path"]) == (401, "llm", "/llm/models")
    assert (nowhere["status"], nowhere["api"]) == (404, None)
    assert (wrong_method["status"], wrong_method["method"]) == (405, "PUT")
    assert all(line["request_id"] and line["client_ip"] == "127.0.0.1" for line in lines)
    # Neither key is written, from the header or from the query.
    assert "secret-key-1" not in output and "secret-key-2" not in output
