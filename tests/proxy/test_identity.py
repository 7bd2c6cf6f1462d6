"""Tokens for authentication-managed-identity, from a loopback identity service."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import openai
import pytest

from gateway.config.secrets import ConfigValue
from gateway.config.settings import Identity
from gateway.proxy.identity import IdentityTokens
from gateway.runtime.services import TokenUnavailable
from tests.fakes.identity import IDENTITY_HEADER, make_app
from tests.fakes.loopback import serve_app
from tests.proxy.processes import fake_provider, fake_service, free_port, serving

RESOURCE = "https://cognitiveservices.azure.com"


@asynccontextmanager
async def identity_service(lifetime: int = 3600) -> AsyncIterator[str]:
    async with serve_app(make_app(lifetime)) as url:
        yield url


def managed(url: str) -> dict[str, str]:
    return {"IDENTITY_ENDPOINT": f"{url}/msi/token", "IDENTITY_HEADER": IDENTITY_HEADER}


def test_managed_identity_token_is_cached_until_near_expiry() -> None:
    async def scenario() -> None:
        async with identity_service() as url:
            tokens = IdentityTokens(Identity(), managed(url))
            first = await tokens.token(RESOURCE, None)
            assert first == f"mi-1-{RESOURCE}"
            assert await tokens.token(RESOURCE, None) == first  # cached
            assert await tokens.token("https://storage.azure.com", "app-2") == (
                "mi-2-https://storage.azure.com"
            )
            await tokens.close()

    asyncio.run(scenario())


def test_a_token_about_to_expire_is_renewed() -> None:
    async def scenario() -> None:
        async with identity_service(lifetime=60) as url:  # inside the 5-minute margin
            tokens = IdentityTokens(Identity(), managed(url))
            assert await tokens.token(RESOURCE, None) == f"mi-1-{RESOURCE}"
            assert await tokens.token(RESOURCE, None) == f"mi-2-{RESOURCE}"
            await tokens.close()

    asyncio.run(scenario())


def test_concurrent_requests_share_one_fetch() -> None:
    async def scenario() -> None:
        async with identity_service() as url:
            tokens = IdentityTokens(Identity(), managed(url))
            got = await asyncio.gather(*(tokens.token(RESOURCE, None) for _ in range(10)))
            assert set(got) == {f"mi-1-{RESOURCE}"}
            await tokens.close()

    asyncio.run(scenario())


def test_client_secret_from_gateway_yaml(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")

    async def scenario() -> None:
        async with identity_service() as url:
            identity = Identity(
                tenant_id=ConfigValue("contoso"),
                client_id=ConfigValue("app-1"),
                client_secret=ConfigValue(f"${{file:{secret}}}"),
                authority_host=url,
            )
            tokens = IdentityTokens(identity, {})
            assert await tokens.token(RESOURCE, None) == f"sp-1-{RESOURCE}"
            await tokens.close()

    asyncio.run(scenario())


def test_workload_identity_exchanges_the_federated_token(tmp_path: Path) -> None:
    federated = tmp_path / "token"
    federated.write_text("k8s-service-account-jwt")

    async def scenario() -> None:
        async with identity_service() as url:
            env = {
                "AZURE_FEDERATED_TOKEN_FILE": str(federated),
                "AZURE_TENANT_ID": "contoso",
                "AZURE_CLIENT_ID": "app-1",
                "AZURE_AUTHORITY_HOST": url,
            }
            tokens = IdentityTokens(Identity(), env)
            assert await tokens.token(RESOURCE, None) == f"wi-1-{RESOURCE}"
            await tokens.close()

    asyncio.run(scenario())


def test_a_token_mapped_in_gateway_yaml_needs_no_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AOAI_TOKEN", "static-token")
    identity = Identity(tokens={RESOURCE: ConfigValue("${env:AOAI_TOKEN}")})
    tokens = IdentityTokens(identity, {})
    assert asyncio.run(tokens.token(RESOURCE + "/", None)) == "static-token"


@pytest.mark.parametrize(
    ("identity", "env", "message"),
    [
        (
            Identity(tenant_id=ConfigValue("t"), client_secret=ConfigValue("wrong")),
            {},
            "AADSTS7000215: Invalid secret",
        ),
        (Identity(tokens={RESOURCE: ConfigValue("${env:UNSET_TOKEN_VAR}")}), {}, "UNSET_TOKEN_VAR"),
    ],
)
def test_failures_say_why(identity: Identity, env: dict[str, str], message: str) -> None:
    async def scenario() -> None:
        async with identity_service() as url:
            tokens = IdentityTokens(Identity(**{**_fields(identity), "authority_host": url}), env)
            with pytest.raises(TokenUnavailable) as caught:
                await tokens.token(RESOURCE, None)
            assert message in str(caught.value)
            await tokens.close()

    asyncio.run(scenario())


def test_unreachable_endpoint_tells_how_to_configure_outside_azure() -> None:
    async def scenario() -> None:
        tokens = IdentityTokens(Identity(endpoint="http://127.0.0.1:1/msi/token"), {})
        with pytest.raises(TokenUnavailable) as caught:
            await tokens.token(RESOURCE, None)
        assert "identity.tokens" in str(caught.value)
        await tokens.close()

    asyncio.run(scenario())


def _fields(identity: Identity) -> dict[str, object]:
    return {name: getattr(identity, name) for name in Identity.__dataclass_fields__}


IDENTITY_PORT, PROVIDER_PORT = free_port(), free_port()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway in 'Azure': IDENTITY_ENDPOINT points at the loopback identity service."""
    root = tmp_path_factory.mktemp("identity")
    (root / "gateway.yaml").write_text(
        f"""
backends:
  by-policy: {{url: "http://127.0.0.1:{PROVIDER_PORT}/openai", provider: azure-openai}}
  by-config:
    url: "http://127.0.0.1:{PROVIDER_PORT}/openai"
    provider: azure-openai
    credentials: {{managed-identity: {{resource: "https://ml.azure.com"}}}}
apis:
  aoai: {{path: openai, style: azure-openai, backend: by-policy, subscription-required: false}}
  aoai2: {{path: other/openai, style: azure-openai, backend: by-config, subscription-required: false}}
"""
    )
    (root / "apis").mkdir()
    (root / "apis" / "aoai.xml").write_text(
        """<policies><inbound><base />
            <authentication-managed-identity resource="https://cognitiveservices.azure.com"
                output-token-variable-name="token" />
            <set-header name="Authorization" exists-action="override">
                <value>@("Bearer " + (string)context.Variables["token"])</value>
            </set-header>
        </inbound></policies>"""
    )
    env = {**os.environ, **managed(f"http://127.0.0.1:{IDENTITY_PORT}")}
    with (
        fake_service("tests.fakes.identity", IDENTITY_PORT),
        fake_provider(PROVIDER_PORT),
        serving(root, env) as url,
    ):
        yield url


def seen_by_provider(gateway: str, prefix: str = "") -> dict[str, object]:
    client = openai.AzureOpenAI(
        azure_endpoint=f"{gateway}{prefix}", api_key="unused", api_version="2024-10-21"
    )
    completion = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    return json.loads(completion.choices[0].message.content or "{}")


def test_policy_token_reaches_the_backend_and_is_reused(gateway: str) -> None:
    first = seen_by_provider(gateway)["headers"]
    second = seen_by_provider(gateway)["headers"]
    assert first["authorization"] == "Bearer mi-1-https://cognitiveservices.azure.com"  # type: ignore[index]
    assert second == first  # cached: no second token


def test_backend_credential_by_managed_identity(gateway: str) -> None:
    headers = seen_by_provider(gateway, "/other")["headers"]
    assert headers["authorization"].startswith("Bearer mi-")  # type: ignore[index]
    assert headers["authorization"].endswith("-https://ml.azure.com")  # type: ignore[index]


def test_no_identity_anywhere_is_a_clear_500(tmp_path: Path) -> None:
    (tmp_path / "gateway.yaml").write_text(
        f"""
identity: {{endpoint: "http://127.0.0.1:{free_port()}/msi/token"}}
backends:
  b: {{url: "http://127.0.0.1:{PROVIDER_PORT}/v1"}}
apis:
  llm: {{path: llm, style: openai, backend: b, subscription-required: false}}
"""
    )
    (tmp_path / "global.xml").write_text(
        """<policies><inbound>
            <authentication-managed-identity resource="https://cognitiveservices.azure.com" />
        </inbound><backend><forward-request /></backend></policies>"""
    )
    with serving(tmp_path) as url:
        answer = httpx.post(f"{url}/llm/chat/completions", json={"model": "m"})
    assert answer.status_code == 500
    message = answer.json()["message"]
    assert message.startswith("No token for resource 'https://cognitiveservices.azure.com'")
    assert "identity.tokens" in message
