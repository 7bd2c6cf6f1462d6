"""A call to a model with no price never passes a cost limit silently.

A real gateway in front of a fake provider (which answers with whatever model the request
names), an `llm-cost-limit` on the API, driven by the openai SDK: under
`limits.unpriced-models: refuse` the SDK gets a 403 in its own error shape and nothing reaches
the provider; under `dearest` the call is counted at the dearest rates of its provider's
prices (gateway.yaml's `pricing` rows included); under `allow` it goes through uncounted and
`aigw_unpriced_calls_total` counts it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai
import pytest

from tests.proxy.processes import chat_calls, fake_provider, free_port, start_gateway, stop
from tests.proxy.prometheus import sample

PROMPT = [{"role": "user", "content": "hi"}]
LIMIT = 5.0  # dollars a minute: far above what these calls cost
# A gateway.yaml row dearer than any shipped OpenAI row: the dearest rates `dearest` uses.
DEAREST = (1000.0, 3000.0)

POLICY = f"""<policies>
    <inbound>
        <llm-cost-limit counter-key="@(context.Request.Headers.GetValueOrDefault(&quot;x-tenant&quot;, &quot;&quot;))"
            dollars-per-minute="{LIMIT}" remaining-dollars-header-name="x-dollars-left" />
    </inbound>
    <backend><forward-request /></backend>
    <outbound />
    <on-error />
</policies>"""


@pytest.fixture(scope="module")
def provider() -> Iterator[int]:
    port = free_port()
    with fake_provider(port):
        yield port


@contextmanager
def gateway(root: Path, provider: int, mode: str) -> Iterator[tuple[openai.OpenAI, str]]:
    """A gateway under `limits.unpriced-models: mode`; an SDK client of its own tenant and
    the admin listener's URL."""
    (root / "gateway.yaml").write_text(
        "\n".join(
            [
                f"limits: {{unpriced-models: {mode}}}",
                "backends:",
                f'  up: {{url: "http://127.0.0.1:{provider}/v1", provider: openai}}',
                "apis:",
                "  chat: {path: chat, style: openai, backend: up, subscription-required: false}",
                "pricing:",
                f"  - {{provider: openai, model: gold, input: {DEAREST[0]}, output: {DEAREST[1]}}}",
                "",
            ]
        )
    )
    (root / "global.xml").write_text(POLICY)
    port, admin = free_port(), free_port()
    process = start_gateway(root, port, None, admin)
    client = openai.OpenAI(
        base_url=f"http://127.0.0.1:{port}/chat",
        api_key="-",
        max_retries=0,
        default_headers={"x-tenant": uuid.uuid4().hex},
    )
    try:
        yield client, f"http://127.0.0.1:{admin}"
    finally:
        stop(process)


def metric(admin: str, name: str, model: str) -> float | None:
    """A series of /metrics for `model` (None: there is none), once the call is accounted."""
    deadline = time.monotonic() + 3
    while True:
        try:
            return sample(httpx.get(f"{admin}/metrics").text, name, Model=model)
        except AssertionError:
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)


def test_refuse_stops_an_unpriced_model_before_it_goes_upstream(
    provider: int, tmp_path: Path
) -> None:
    with gateway(tmp_path, provider, "refuse") as (client, _):
        before = chat_calls(provider)
        with pytest.raises(openai.PermissionDeniedError) as refused:
            client.chat.completions.create(model="mystery-model", messages=PROMPT)
        assert chat_calls(provider) == before  # nothing reached the provider

        error = refused.value
        assert error.status_code == 403
        assert "Model 'mystery-model' has no price" in error.message
        assert error.code == "unpriced_model"
        assert isinstance(error.body, dict) and error.body["type"] == "permission_error"
        # A priced model goes through the same limit.
        answer = client.chat.completions.create(model="gpt-4o", messages=PROMPT)
        assert answer.choices[0].message.content
        assert chat_calls(provider) == before + 1


def test_dearest_counts_an_unpriced_model_at_the_dearest_rates(
    provider: int, tmp_path: Path
) -> None:
    with gateway(tmp_path, provider, "dearest") as (client, admin):
        raw = client.chat.completions.with_raw_response.create(model="unknown-1", messages=PROMPT)
        usage = raw.parse().usage
        assert usage is not None and usage.prompt_tokens and usage.completion_tokens

        cost = (usage.prompt_tokens * DEAREST[0] + usage.completion_tokens * DEAREST[1]) / 1e6
        assert metric(admin, "aigw_cost_total", "unknown-1") == pytest.approx(cost, rel=1e-9)
        assert float(raw.headers["x-dollars-left"]) == pytest.approx(LIMIT - cost, abs=1e-6)
        assert metric(admin, "aigw_unpriced_calls_total", "unknown-1") == 1


def test_allow_lets_an_unpriced_model_through_and_counts_it_in_a_metric(
    provider: int, tmp_path: Path
) -> None:
    with gateway(tmp_path, provider, "allow") as (client, admin):
        before = chat_calls(provider)
        for _ in range(2):
            client.chat.completions.create(model="unknown-2", messages=PROMPT)
        assert chat_calls(provider) == before + 2

        assert metric(admin, "aigw_unpriced_calls_total", "unknown-2") == 2
        assert metric(admin, "aigw_cost_total", "unknown-2") is None  # no price, no cost
