"""What a request's context keeps of the client's headers: the subscription key's header never
reaches the policies or the provider, while a client's own `Authorization` token does (an
Entra ID token beside an `api-key`, or any token on an API that takes no key), as in APIM.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from gateway.config.apis import Subscription
from gateway.config.loader import load_gateway_config
from gateway.expressions.model import MessageBody, RequestModel, ResponseModel, UrlModel
from gateway.load import operations_of
from gateway.proxy.admission import Admission, Admitted
from gateway.proxy.contexts import ContextFactory
from gateway.proxy.incoming import Incoming
from gateway.proxy.router import ApiRoutes, RouteMatch, Router, operation_route
from gateway.runtime.context import NO_SERVICES
from tests.proxy.processes import fake_provider, free_port, serving

POLICY = """<policies>
    <inbound><base /></inbound>
    <backend><forward-request timeout="30" /></backend>
    <outbound>
        <set-header name="x-policy-saw" exists-action="override">
            <value>@(context.Request.Headers.GetValueOrDefault("Authorization", "none"))</value>
        </set-header>
    </outbound>
</policies>"""
PROMPT = [{"role": "user", "content": "hi"}]
AZURE_VERSION = "2024-10-21"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("contexts")
    port = free_port()
    (root / "gateway.yaml").write_text(
        f"""
backends:
  azure: {{url: "http://127.0.0.1:{port}/openai", provider: azure-openai}}
  oai: {{url: "http://127.0.0.1:{port}/v1", provider: openai}}
apis:
  azure: {{path: openai, style: azure-openai, backend: azure}}
  open: {{path: open, style: openai, backend: oai, subscription-required: false}}
subscriptions:
  team: {{scope: all-apis, primary-key: team-key}}
"""
    )
    (root / "global.xml").write_text(POLICY)
    with fake_provider(port), serving(root, os.environ) as url:
        yield url


def upstream_saw(raw: object) -> dict[str, str]:
    completion = raw.parse()  # type: ignore[attr-defined]
    return json.loads(completion.choices[0].message.content)["headers"]


def test_an_entra_token_beside_the_api_key_reaches_policies_and_provider(gateway: str) -> None:
    client = openai.AzureOpenAI(
        azure_endpoint=gateway,
        api_key="team-key",
        api_version=AZURE_VERSION,
        max_retries=0,
        default_headers={"Authorization": "Bearer entra-token"},
    )
    raw = client.chat.completions.with_raw_response.create(model="gpt", messages=PROMPT)
    assert raw.headers["x-policy-saw"] == "Bearer entra-token"
    seen = upstream_saw(raw)
    assert seen.get("authorization") == "Bearer entra-token"
    assert "team-key" not in json.dumps(seen)


def test_a_subscription_key_sent_as_bearer_is_left_out(gateway: str) -> None:
    client = openai.OpenAI(base_url=f"{gateway}/openai/v1/", api_key="team-key", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="gpt", messages=PROMPT)
    assert raw.headers["x-policy-saw"] == "none"
    assert "team-key" not in json.dumps(upstream_saw(raw))


def test_a_token_on_an_api_without_subscriptions_is_the_clients_own(gateway: str) -> None:
    client = openai.OpenAI(base_url=f"{gateway}/open", api_key="client-own", max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model="gpt", messages=PROMPT)
    assert raw.headers["x-policy-saw"] == "Bearer client-own"
    assert upstream_saw(raw).get("authorization") == "Bearer client-own"


def test_a_requests_models_hold_what_their_fields_name(tmp_path: Path) -> None:
    """ContextFactory builds the models positionally: each value in its field."""
    (tmp_path / "gateway.yaml").write_text(
        "apis:\n"
        "  shop:\n"
        "    path: shop\n"
        "    backend-url: http://127.0.0.1:9/v1\n"
        '    operations: [{id: get-item, method: GET, url-template: "/items/{id}"}]\n'
        "subscriptions:\n"
        "  team: {scope: all-apis, primary-key: team-key}\n"
    )
    config, _ = load_gateway_config(tmp_path / "gateway.yaml")
    assert config is not None
    api = config.apis["shop"]
    factory = ContextFactory(config, operations_of(config), NO_SERVICES, None)  # type: ignore[arg-type]
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": "/shop/items/42",
        "raw_path": b"/shop/items/42",
        "query_string": b"a=1",
        "headers": [(b"host", b"gw:8080"), (b"ocp-apim-subscription-key", b"team-key")],
        "client": ("10.0.0.7", 5000),
    }
    request = Incoming(scope, None)  # type: ignore[arg-type]
    found = Router(
        [ApiRoutes("shop", "shop", (operation_route("get-item", "GET", "/items/{id}"),))]
    ).match("GET", request.raw_path)
    assert isinstance(found, RouteMatch)
    admitted = Admission(config).admit("shop", "team-key")
    assert isinstance(admitted, Admitted)
    body = MessageBody(b"{}")
    context = factory.new(request, api, found, admitted, "team-key", body)
    model = context.model
    url = model.Request.Url
    assert url == UrlModel(
        Scheme="http", Host="gw", Port=8080, Path="/shop/items/42", Query=url.Query
    )
    assert url.Query.lines() == [("a", "1")] and model.Request.OriginalUrl is url
    assert model.Request == RequestModel(
        Method="GET",
        Url=url,
        OriginalUrl=url,
        Headers=model.Request.Headers,
        IpAddress="10.0.0.7",
        MatchedParameters={"id": "42"},
        Body=body,
    )
    assert model.Request.Headers.lines() == [("host", "gw:8080")]  # the key's header left out
    assert model.Response == ResponseModel(Headers=model.Response.Headers)
    assert model.Response.Headers.lines() == []
    assert model.started == request.started and model.Subscription is not None
    assert (model.Api.Id, model.Operation.Id, model.Subscription.Key) == (
        "shop",
        "get-item",
        "team-key",
    )
    assert (context.style, context.error_style, context.backend, context.backend_path) == (
        "http",
        api.error_style,
        api.backend,
        found.remainder,
    )
    assert context.forward is None and context.services is NO_SERVICES


def test_a_key_known_only_by_its_digest_is_not_kept_in_plain_text(tmp_path: Path) -> None:
    """The model of `context.Subscription` (which holds the key, as APIM's does) is kept for
    a gateway.yaml key written as it is, never for one given as a digest or made at run time:
    those the process knows only by their digest."""
    digest = "sha256:" + hashlib.sha256(b"hidden-key").hexdigest()
    (tmp_path / "gateway.yaml").write_text(
        "apis:\n"
        "  shop: {path: shop, backend-url: 'http://127.0.0.1:9/v1'}\n"
        "subscriptions:\n"
        "  plain: {scope: all-apis, primary-key: plain-key}\n"
        f"  hidden: {{scope: all-apis, primary-key: '{digest}'}}\n"
    )
    config, _ = load_gateway_config(tmp_path / "gateway.yaml")
    assert config is not None
    factory = ContextFactory(config, operations_of(config), NO_SERVICES, None)  # type: ignore[arg-type]
    plain, hidden = config.subscriptions["plain"], config.subscriptions["hidden"]
    runtime = Subscription(id="made-later", scope="all-apis", name="made-later")
    assert factory.subscription_model(plain, "plain-key") is factory.subscription_model(
        plain, "plain-key"
    )
    for subscription, key in ((hidden, "hidden-key"), (runtime, "runtime-key")):
        model = factory.subscription_model(subscription, key)
        assert model is not None and model.Key == key and model.Id == subscription.id
        assert factory.subscription_model(subscription, key) is not model
    kept = [key for _, key in factory.subscription_models]
    assert kept == ["plain-key"]
