"""The backend call's URL: set-backend-service's base-url, and where gateway.yaml's
`set-backend-service.allowed-urls` lets it send a request."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.proxy.processes import fake_providers, raw_paths_received, serving

FROM_HEADER = """<policies>
    <inbound>
        <set-backend-service base-url='@(context.Request.Headers.GetValueOrDefault("x-backend", ""))' />
    </inbound>
    <backend><forward-request timeout="10" /></backend>
    <outbound />
</policies>"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, int]]:
    """A gateway that sends each request to the base URL its `x-backend` header names, with
    one fake provider's /allowed listed and another provider not."""
    root = Path(tmp_path_factory.mktemp("base-urls"))
    with fake_providers(2) as (listed, other):
        (root / "gateway.yaml").write_text(
            f"""
backends:
  fake: {{url: "http://127.0.0.1:{listed}/v1", provider: openai}}
apis:
  chat: {{path: llm, style: openai, backend: fake, subscription-required: false}}
set-backend-service:
  allowed-urls: ["http://127.0.0.1:{listed}/allowed/"]
"""
        )
        (root / "global.xml").write_text(FROM_HEADER)
        with serving(root) as url:
            yield url, listed, other


def chat_to(gateway: str, base_url: str) -> httpx.Response:
    return httpx.post(
        f"{gateway}/llm/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
        headers={"x-backend": base_url},
        timeout=10,
    )


def test_a_base_url_under_an_allowed_prefix_is_called(gateway: tuple[str, int, int]) -> None:
    url, listed, _ = gateway
    raw_paths_received(listed)
    chat_to(url, f"HTTP://127.0.0.1:{listed}/allowed/./x")  # the fake answers it 404
    assert raw_paths_received(listed) == ["/allowed/x/chat/completions"]


def test_a_base_url_from_a_request_header_naming_an_unlisted_host_is_refused(
    gateway: tuple[str, int, int],
) -> None:
    url, _, other = gateway
    raw_paths_received(other)
    answer = chat_to(url, f"http://127.0.0.1:{other}/v1")
    assert (answer.status_code, raw_paths_received(other)) == (500, [])
    assert "set-backend-service.allowed-urls" in answer.text


@pytest.mark.parametrize(
    "path", ["/allowed/../admin", "/allowed/%2e%2e/admin", "/allowed/..%2fadmin", "/allowedx"]
)
def test_a_base_url_climbing_out_of_an_allowed_prefix_is_refused(
    gateway: tuple[str, int, int], path: str
) -> None:
    url, listed, _ = gateway
    raw_paths_received(listed)
    answer = chat_to(url, f"http://127.0.0.1:{listed}{path}")
    assert (answer.status_code, raw_paths_received(listed)) == (500, [])


def test_an_unreadable_base_url_is_refused_with_what_to_fix(
    gateway: tuple[str, int, int],
) -> None:
    url, listed, _ = gateway
    raw_paths_received(listed)
    answer = chat_to(url, "http://[::1/v1")
    assert (answer.status_code, raw_paths_received(listed)) == (500, [])
    assert "Invalid IPv6 URL" in answer.text and "scheme://host[:port]/path" in answer.text


def test_a_backend_url_from_the_environment_that_cannot_be_read_is_a_500_naming_the_variable(
    tmp_path: Path,
) -> None:
    (tmp_path / "gateway.yaml").write_text(
        """
backends:
  fake: {url: "${env:AIGW_TEST_BACKEND_URL}", provider: openai}
apis:
  chat: {path: llm, style: openai, backend: fake, subscription-required: false}
"""
    )
    # The value may hold a password: the answer names the variable, never the value.
    env = {**os.environ, "AIGW_TEST_BACKEND_URL": "http://user:hunter2@[::1/v1"}
    with serving(tmp_path, env) as url:
        answer = chat_to(url, "")
    assert answer.status_code == 500
    message = answer.json()["message"]
    assert "${env:AIGW_TEST_BACKEND_URL} cannot be read (Invalid IPv6 URL)" in message
    assert "hunter2" not in message
