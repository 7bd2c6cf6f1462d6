"""The gateway's own errors and request ids, as the official SDKs read them.

On OpenAI- and Anthropic-style APIs an error the gateway makes (401, 403, 404, 413, 429, 503)
keeps APIM's status and `{statusCode, message}` and carries the fields the SDK reads
(`error.type`, `error.code`; Anthropic's `type`); `error-body: apim` keeps APIM's body exactly.
Every response carries a request id where the client's SDK looks for it: `x-request-id`
(OpenAI, Azure OpenAI) or `request-id` (Anthropic), cached and translated ones included.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import openai
import pytest

from tests.conftest import clear_of_window_edge
from tests.proxy.processes import fake_provider, free_port, serving

CHAT = [{"role": "user", "content": "hi"}]
LIMITED = """<policies><inbound><base />
    <llm-token-limit counter-key="@(context.Api.Id)" tokens-per-minute="10"
        estimate-prompt-tokens="false" />
</inbound></policies>"""
BLOCKED = """<policies><inbound><base />
    <ip-filter action="forbid"><address>127.0.0.1</address></ip-filter>
</inbound></policies>"""
# The SDK's bearer token is the client's own on this API (no subscriptions): APIM caches a
# request with an Authorization header only when told to.
CACHED = """<policies>
<inbound><base /><cache-lookup vary-by-developer="false" vary-by-developer-groups="false"
    allow-private-response-caching="true" /></inbound>
<outbound><base /><cache-store duration="60" /></outbound>
</policies>"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    root: Path = tmp_path_factory.mktemp("sdk-errors")
    port, dead = free_port(), free_port()
    (root / "gateway.yaml").write_text(
        f"""
backends:
  gpt: {{url: "http://127.0.0.1:{port}/v1", provider: openai}}
  claude: {{url: "http://127.0.0.1:{port}", provider: anthropic}}
  gone:
    url: "http://127.0.0.1:{dead}/v1"
    circuit-breaker:
      rules: [{{failure-condition: {{count: 1, interval: PT60S, error-reasons: [BackendConnectionFailure]}},
               trip-duration: PT60S}}]
apis:
  chat: {{path: chat, style: openai, backend: gpt}}
  limited: {{path: limited, style: openai, backend: gpt, subscription-required: false}}
  blocked: {{path: blocked, style: openai, backend: gpt, subscription-required: false}}
  plain: {{path: plain, style: openai, backend: gpt, subscription-required: false,
          error-body: apim}}
  broken: {{path: broken, style: openai, backend: gone, subscription-required: false}}
  messages: {{path: messages, style: anthropic, backend: claude, subscription-required: false}}
  limited-messages: {{path: limited-messages, style: anthropic, backend: claude,
                     subscription-required: false}}
  azure: {{path: openai, style: azure-openai, backend: gpt}}
  azure-sdk: {{path: sdk/openai, style: azure-openai, backend: gpt, error-body: sdk}}
  crossed: {{path: crossed, style: openai, backend: claude, subscription-required: false}}
  files: {{path: files, style: openai, backend: gpt, subscription-required: false}}
subscriptions:
  team: {{scope: all-apis, primary-key: team-key}}
"""
    )
    (root / "apis").mkdir()
    for api in ("limited", "limited-messages"):
        (root / "apis" / f"{api}.xml").write_text(LIMITED)
    (root / "apis" / "blocked.xml").write_text(BLOCKED)
    (root / "apis" / "files.xml").write_text(CACHED)
    with fake_provider(port), serving(root, os.environ) as url:
        yield url, port


def openai_client(url: str, api: str, key: str = "team-key") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/{api}", api_key=key, max_retries=0)


def test_a_rate_limit_reads_as_the_openai_sdks_rate_limit(gateway: tuple[str, int]) -> None:
    url, _ = gateway
    clear_of_window_edge()
    client = openai_client(url, "limited")
    client.chat.completions.create(model="gpt-4o", messages=CHAT)  # uses the minute's tokens
    with pytest.raises(openai.RateLimitError) as refused:
        client.chat.completions.create(model="gpt-4o", messages=CHAT)
    error = refused.value
    assert (error.status_code, error.code, error.type) == (
        429,
        "rate_limit_exceeded",
        "rate_limit_error",
    )
    body = error.response.json()
    assert body["statusCode"] == 429  # APIM's envelope, its message as APIM writes it
    assert body["message"].startswith("Token limit is exceeded. Try again in")
    assert body["error"]["message"] == body["message"]
    assert error.request_id  # x-request-id


def test_a_rate_limit_reads_as_the_anthropic_sdks_rate_limit(gateway: tuple[str, int]) -> None:
    url, _ = gateway
    clear_of_window_edge()
    client = anthropic.Anthropic(base_url=f"{url}/limited-messages", api_key="-", max_retries=0)
    client.messages.create(model="claude-sonnet-4", max_tokens=20, messages=CHAT)
    with pytest.raises(anthropic.RateLimitError) as refused:
        client.messages.create(model="claude-sonnet-4", max_tokens=20, messages=CHAT)
    body = refused.value.response.json()
    assert (body["type"], body["error"]["type"], body["statusCode"]) == (
        "error",
        "rate_limit_error",
        429,
    )
    assert body["error"]["message"] == body["message"]
    assert refused.value.request_id  # request-id


def test_forbidden_missing_key_and_too_large_carry_the_sdks_fields(
    gateway: tuple[str, int],
) -> None:
    url, _ = gateway
    with pytest.raises(openai.PermissionDeniedError) as forbidden:
        openai_client(url, "blocked").chat.completions.create(model="gpt-4o", messages=CHAT)
    assert (forbidden.value.type, forbidden.value.code) == ("permission_error", "caller_ip_blocked")
    assert forbidden.value.response.json()["statusCode"] == 403
    missing = httpx.post(f"{url}/chat/chat/completions", json={"model": "gpt-4o"})
    assert missing.status_code == 401
    assert missing.json()["message"].startswith("Access denied due to missing")
    assert missing.json()["error"]["code"] == "invalid_api_key"
    large = httpx.post(f"{url}/limited/chat/completions", content=b"x" * (17 * 1024 * 1024))
    assert (large.status_code, large.json()["error"]["type"]) == (413, "request_too_large")
    assert large.json()["statusCode"] == 413 and large.headers["x-request-id"]


def test_an_open_breaker_reads_as_a_server_error_with_the_sdks_fields(
    gateway: tuple[str, int],
) -> None:
    url, _ = gateway
    client = openai_client(url, "broken")
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o", messages=CHAT)  # trips the breaker
    with pytest.raises(openai.InternalServerError) as unavailable:
        client.chat.completions.create(model="gpt-4o", messages=CHAT)
    body = unavailable.value.response.json()
    assert (body["statusCode"], body["message"]) == (503, "Backend gone is temporarily unavailable")
    assert body["error"]["type"] == "api_error"


def test_error_body_apim_keeps_apims_body_exactly(gateway: tuple[str, int]) -> None:
    url, _ = gateway
    missing = httpx.post(f"{url}/plain/unknown", json={})
    assert missing.json() == {"statusCode": 404, "message": "Resource not found"}
    azure = httpx.post(f"{url}/openai/deployments/d/chat/completions?api-version=2024-10-21")
    assert azure.json() == {"statusCode": 401, "message": azure.json()["message"]}
    azure_sdk = openai.AzureOpenAI(
        azure_endpoint=f"{url}/sdk", api_key="wrong", api_version="2024-10-21", max_retries=0
    )
    with pytest.raises(openai.AuthenticationError) as denied:
        azure_sdk.chat.completions.create(model="d", messages=CHAT)
    assert denied.value.code == "invalid_api_key"  # error-body: sdk on an Azure OpenAI API


def test_every_response_carries_a_request_id_where_the_sdk_reads_it(
    gateway: tuple[str, int],
) -> None:
    url, _ = gateway
    completion = openai_client(url, "chat").chat.completions.with_raw_response.create(
        model="gpt-4o", messages=CHAT
    )
    assert completion.request_id
    translated = openai_client(url, "crossed").chat.completions.with_raw_response.create(
        model="claude-sonnet-4", messages=CHAT
    )
    assert translated.request_id  # an Anthropic backend's response, for an OpenAI client
    claude = anthropic.Anthropic(base_url=f"{url}/messages", api_key="-", max_retries=0)
    message = claude.messages.with_raw_response.create(
        model="claude-sonnet-4", max_tokens=20, messages=CHAT
    )
    assert message.request_id
    listing = openai_client(url, "files").models.with_raw_response.list()
    assert listing.request_id.startswith("req_fake_")  # the provider's own id, passed on
    cached = openai_client(url, "files").models.with_raw_response.list()
    assert cached.headers["x-aigw-cache"] == "hit"
    assert cached.parse().data[0].created == listing.parse().data[0].created
    # A cached response has an id of its own, not the id of the request it was stored from.
    assert cached.request_id and not cached.request_id.startswith("req_fake_")
