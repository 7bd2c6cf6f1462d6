"""Answers the gateway gives itself: mock-response examples and the request size limit (413)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.proxy.processes import fake_provider, free_port, serving

PROVIDER_PORT = free_port()
GATEWAY_YAML = f"""
limits: {{max-request-body: 1024}}
backends:
  nowhere: {{url: "http://127.0.0.1:{free_port()}/v1"}}
  provider: {{url: "http://127.0.0.1:{PROVIDER_PORT}/v1"}}
apis:
  llm: {{path: llm, style: openai, backend: nowhere, subscription-required: false}}
  shop:
    path: shop
    backend: nowhere
    subscription-required: false
    operations:
      - id: get-item
        method: GET
        url-template: /items/{{id}}
        examples:
          - {{status: 200, body: '{{"id": 1, "name": "lamp"}}'}}
          - {{status: 200, content-type: text/plain, body: lamp}}
      - {{id: upload, method: POST, url-template: /upload}}
      - {{id: guarded, method: GET, url-template: /guarded}}
      - {{id: note, method: GET, url-template: /note}}
  relay:
    path: relay
    backend: provider
    subscription-required: false
    operations: [{{id: chat, method: POST, url-template: /chat/completions}}]
  chat: {{path: chat, style: openai, backend: provider, subscription-required: false}}
"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("local")
    (root / "gateway.yaml").write_text(GATEWAY_YAML)
    (root / "apis").mkdir()
    (root / "apis" / "llm.xml").write_text(
        "<policies><inbound><base /><mock-response /></inbound></policies>"
    )
    (root / "apis" / "shop").mkdir()
    (root / "apis" / "shop" / "get-item.xml").write_text(
        """<policies><inbound><base />
            <choose>
                <when condition='@(context.Request.Headers.GetValueOrDefault("Accept", "") == "text/plain")'>
                    <mock-response status-code="200" content-type="text/plain" />
                </when>
                <when condition='@(context.Request.Headers.ContainsKey("x-missing"))'>
                    <mock-response status-code="404" />
                </when>
                <otherwise><mock-response /></otherwise>
            </choose>
        </inbound></policies>"""
    )
    (root / "apis" / "shop" / "upload.xml").write_text(
        """<policies><inbound><base />
            <set-variable name="size" value="@(context.Request.Body.As&lt;string&gt;().Length)" />
            <mock-response status-code="202" />
        </inbound></policies>"""
    )
    (root / "apis" / "shop" / "note.xml").write_text(
        """<policies><inbound><base />
            <return-response>
                <set-status code="200" reason="OK" />
                <set-header name="x-note" exists-action="override"><value>naïve ☕ …</value></set-header>
            </return-response>
        </inbound></policies>""",
        encoding="utf-8",
    )
    (root / "apis" / "shop" / "guarded.xml").write_text(
        """<policies>
            <inbound><base />
                <check-header name="x-pass" failed-check-httpcode="400"
                    failed-check-error-message="x-pass is missing" ignore-case="true" />
            </inbound>
            <on-error><base />
                <set-header name="x-error-scope" exists-action="override">
                    <value>@(context.LastError.Scope)</value>
                </set-header>
            </on-error>
        </policies>"""
    )
    with fake_provider(PROVIDER_PORT), serving(root) as url:
        yield url


def test_mock_response_gives_an_sdk_a_valid_completion_offline(gateway: str) -> None:
    client = openai.OpenAI(base_url=f"{gateway}/llm", api_key="unused", max_retries=0)
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == "This is a mock response from aigw."
    assert completion.usage is not None and completion.usage.total_tokens == 17
    assert client.embeddings.create(model="m", input="x").data[0].embedding == [0.0, 0.6, 0.8]


def test_mock_response_picks_the_example_by_status_and_content_type(gateway: str) -> None:
    default = httpx.get(f"{gateway}/shop/items/1")
    assert (default.status_code, default.json()) == (200, {"id": 1, "name": "lamp"})
    assert default.headers["content-type"] == "application/json"
    text = httpx.get(f"{gateway}/shop/items/1", headers={"Accept": "text/plain"})
    assert (text.text, text.headers["content-type"]) == ("lamp", "text/plain")
    # No example for that status: the status alone, with an empty body.
    missing = httpx.get(f"{gateway}/shop/items/1", headers={"x-missing": "1"})
    assert (missing.status_code, missing.content) == (404, b"")


def test_a_body_over_the_limit_gets_413_before_any_policy(gateway: str) -> None:
    small = httpx.post(f"{gateway}/shop/upload", content=b"x" * 1024)
    assert small.status_code == 202
    large = httpx.post(f"{gateway}/shop/upload", content=b"x" * 1025)
    assert large.status_code == 413
    assert large.json() == {
        "statusCode": 413,
        "message": "The request body is larger than the gateway's limit of 1024 bytes.",
    }
    openai_style = httpx.post(f"{gateway}/llm/chat/completions", content=b"x" * 5000)
    assert openai_style.status_code == 413
    assert openai_style.json()["error"]["type"] == "request_too_large"


def chunks() -> Iterator[bytes]:
    """A 5,000-byte body sent without a length (chunked)."""
    for _ in range(10):
        yield b"y" * 500


def test_a_chunked_body_over_the_limit_gets_413_too(gateway: str) -> None:
    read_by_a_policy = httpx.post(f"{gateway}/shop/upload", content=chunks())
    assert "content-length" not in read_by_a_policy.request.headers
    assert read_by_a_policy.status_code == 413
    streamed_to_the_backend = httpx.post(f"{gateway}/relay/chat/completions", content=chunks())
    assert streamed_to_the_backend.status_code == 413
    fits = httpx.post(f"{gateway}/relay/chat/completions", content=iter([b'{"model": "m"}']))
    assert fits.status_code == 200


def test_a_chunked_body_over_the_limit_gets_413_in_the_apis_own_shape(gateway: str) -> None:
    """A body without a length is found too large while it is read: the 413 then has the
    API's error shape too, as a declared length's has (an OpenAI-style API: OpenAI's)."""
    refused = httpx.post(f"{gateway}/chat/chat/completions", content=chunks())
    assert "content-length" not in refused.request.headers
    assert refused.status_code == 413
    assert refused.json()["error"]["type"] == "request_too_large"
    shop = httpx.post(f"{gateway}/shop/upload", content=chunks())
    assert shop.json()["statusCode"] == 413


def test_on_error_learns_the_scope_of_the_failing_statement(gateway: str) -> None:
    refused = httpx.get(f"{gateway}/shop/guarded")  # the operation policy's check-header
    assert (refused.status_code, refused.headers["x-error-scope"]) == (400, "operation")
    # Past it, APIM's default global policy forwards, to a backend where nothing listens.
    unreached = httpx.get(f"{gateway}/shop/guarded", headers={"x-pass": "1"})
    assert (unreached.status_code, unreached.headers["x-error-scope"]) == (500, "global")


def test_a_header_beyond_latin_1_is_sent_not_a_failed_response(gateway: str) -> None:
    """A policy's header can hold any text; what HTTP's Latin-1 cannot carry goes as UTF-8."""
    noted = httpx.get(f"{gateway}/shop/note")
    assert noted.status_code == 200
    raw = dict(noted.headers.raw)
    assert raw[b"x-note"].decode("utf-8") == "naïve ☕ …"
