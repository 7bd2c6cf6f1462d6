"""cors through a running gateway: preflights answered before admission, headers on answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.proxy.processes import fake_provider, free_port, serving

PROVIDER_PORT = free_port()

CORS = """<policies><inbound>
    <cors allow-credentials="true">
        <allowed-origins><origin>https://app.example.com</origin></allowed-origins>
        <allowed-methods preflight-result-max-age="600"><method>POST</method></allowed-methods>
        <allowed-headers><header>content-type</header><header>authorization</header></allowed-headers>
        <expose-headers><header>x-request-cost</header></expose-headers>
    </cors>
    <base />
</inbound></policies>"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("cors")
    (root / "gateway.yaml").write_text(
        f"""
backends:
  fake: {{url: "http://127.0.0.1:{PROVIDER_PORT}/v1"}}
apis:
  chat: {{path: llm, style: openai, backend: fake}}
  plain: {{path: plain, style: openai, backend: fake}}
subscriptions:
  web: {{scope: all-apis, primary-key: web-key}}
"""
    )
    (root / "apis").mkdir()
    (root / "apis" / "chat.xml").write_text(CORS)
    with fake_provider(PROVIDER_PORT), serving(root) as url:
        yield url


def preflight(
    url: str, origin: str, method: str = "POST", headers: str = "content-type"
) -> httpx.Response:
    return httpx.options(
        url,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_preflight_is_answered_without_a_subscription_key(gateway: str) -> None:
    answer = preflight(f"{gateway}/llm/chat/completions", "https://app.example.com")
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://app.example.com"
    assert answer.headers["access-control-allow-credentials"] == "true"
    assert answer.headers["access-control-allow-methods"] == "POST"
    assert answer.headers["access-control-allow-headers"] == "content-type"
    assert answer.headers["access-control-max-age"] == "600"


@pytest.mark.parametrize(
    ("origin", "path", "headers"),
    [
        ("https://evil.example.com", "chat/completions", "content-type"),
        ("https://app.example.com", "chat/completions", "x-secret"),
        ("https://app.example.com", "models", "content-type"),  # GET: not an allowed method
    ],
)
def test_unmatched_preflight_gets_no_allowance(
    gateway: str, origin: str, path: str, headers: str
) -> None:
    method = "GET" if path == "models" else "POST"
    answer = preflight(f"{gateway}/llm/{path}", origin, method, headers)
    assert answer.status_code == 200  # APIM: no cors matched, an empty 200
    assert "access-control-allow-origin" not in answer.headers


def test_cross_origin_answer_carries_the_cors_headers(gateway: str) -> None:
    answer = httpx.post(
        f"{gateway}/llm/chat/completions",
        json={"model": "m", "messages": []},
        headers={"Origin": "https://app.example.com", "Authorization": "Bearer web-key"},
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "https://app.example.com"
    assert answer.headers["access-control-expose-headers"] == "x-request-cost"
    same_origin = httpx.post(
        f"{gateway}/llm/chat/completions",
        json={"model": "m", "messages": []},
        headers={"Authorization": "Bearer web-key"},
    )
    assert "access-control-allow-origin" not in same_origin.headers


def test_an_api_without_cors_refuses_options(gateway: str) -> None:
    answer = preflight(f"{gateway}/plain/chat/completions", "https://app.example.com")
    assert answer.status_code == 405
