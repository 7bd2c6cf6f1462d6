"""Content encodings between client, gateway and provider.

A model API's answers are read by the gateway (usage, cost, caches, translation, content
safety), and the backend sessions pass answers through undecoded, so the provider is asked
for a plain answer whatever the client accepts. Other APIs get exactly the encodings their
client asked for: none of the HTTP client's own.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.proxy.processes import fake_provider, free_port, serving

CHAT_POLICY = """<policies>
    <inbound><base /></inbound>
    <backend><base /></backend>
    <outbound>
        <base />
        <set-header name="x-prompt-tokens" exists-action="override">
            <value>@(context.Variables.GetValueOrDefault("llm-prompt-tokens", "none").ToString())</value>
        </set-header>
    </outbound>
</policies>"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    root = tmp_path_factory.mktemp("encoding")
    (root / "gateway.yaml").write_text(
        f"""
backends:
  fake: {{url: "http://127.0.0.1:{port}/v1", provider: openai}}
apis:
  chat: {{path: chat, style: openai, backend: fake, subscription-required: false}}
  raw:
    path: raw
    style: http
    backend: fake
    subscription-required: false
    operations: [{{id: chat, method: POST, url-template: /chat/completions}}]
"""
    )
    (root / "apis").mkdir()
    (root / "apis" / "chat.xml").write_text(CHAT_POLICY)
    with fake_provider(port), serving(root) as url:
        yield url


def test_the_provider_that_compresses_is_asked_for_a_plain_answer_the_gateway_can_read(
    gateway: str,
) -> None:
    # The openai SDK (httpx) accepts gzip, and the fake provider, like api.openai.com,
    # compresses when allowed: the gateway asks for identity so it can count the usage.
    client = openai.OpenAI(base_url=f"{gateway}/chat", api_key="-", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    answer = raw.parse()
    seen = json.loads(answer.choices[0].message.content or "{}")
    assert seen["headers"]["accept-encoding"] == "identity"
    assert raw.headers["x-prompt-tokens"] == "5"  # the usage was read
    assert answer.usage is not None and answer.usage.prompt_tokens == 5


def test_other_apis_pass_the_clients_encodings_and_add_none(gateway: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client() as client:
        asked = client.post(
            f"{gateway}/raw/chat/completions", json=body, headers={"Accept-Encoding": "gzip"}
        )
        assert asked.headers["content-encoding"] == "gzip"  # passed through as the backend sent it
        seen = json.loads(asked.json()["choices"][0]["message"]["content"])
        assert seen["headers"]["accept-encoding"] == "gzip"
        # No Accept-Encoding from the client: none reaches the backend, and the answer is plain.
        request = client.build_request("POST", f"{gateway}/raw/chat/completions", json=body)
        del request.headers["Accept-Encoding"]
        plain = client.send(request)
    assert "content-encoding" not in plain.headers
    seen = json.loads(plain.json()["choices"][0]["message"]["content"])
    assert seen["headers"]["accept-encoding"] is None


def test_a_compressed_answer_reaches_the_client_intact(gateway: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client() as client:
        request = client.build_request(
            "POST",
            f"{gateway}/raw/chat/completions",
            json=body,
            headers={"Accept-Encoding": "gzip"},
        )
        answer = client.send(request, stream=True)
        compressed = b"".join(answer.iter_raw())
    assert json.loads(gzip.decompress(compressed))["object"] == "chat.completion"
