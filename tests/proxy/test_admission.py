"""Admission by subscription key, case by case as APIM defines it (reference §7.3)."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path
from typing import cast

import pytest

from gateway.config.apis import Subscription
from gateway.config.loader import load_gateway_config
from gateway.config.settings import GatewayConfig
from gateway.proxy.admission import Admission, Admitted, Denied
from gateway.proxy.errors import INVALID_KEY, MISSING_KEY, apim_error_body
from gateway.tenants.index import Tenants

HASHED = "sha256:" + hashlib.sha256(b"hashed-key").hexdigest()

GATEWAY = f"""
apis:
  aoai: {{path: openai, style: azure-openai}}
  chat: {{path: llm, style: openai}}
  claude: {{path: claude, style: anthropic}}
  public: {{path: public, subscription-required: false}}
  demo: {{path: demo}}
  other: {{path: other}}
products:
  gold: {{apis: [aoai, chat, claude]}}
  open: {{apis: [demo], subscription-required: false}}
subscriptions:
  gold-team: {{scope: product/gold, primary-key: gold-1, secondary-key: gold-2}}
  aoai-only: {{scope: api/aoai, primary-key: aoai-key}}
  everything: {{scope: all-apis, primary-key: "{HASHED}"}}
  paused: {{scope: all-apis, primary-key: paused-key, state: suspended}}
  from-env: {{scope: all-apis, primary-key: "${{env:AIGW_TEST_UNSET_KEY}}"}}
"""


@pytest.fixture
def config(tmp_path: Path) -> GatewayConfig:
    path = tmp_path / "gateway.yaml"
    path.write_text(textwrap.dedent(GATEWAY))
    loaded, diagnostics = load_gateway_config(path)
    assert loaded is not None and not [d for d in diagnostics if d.is_error]
    return loaded


@pytest.fixture
def admission(config: GatewayConfig, monkeypatch: pytest.MonkeyPatch) -> Admission:
    monkeypatch.delenv("AIGW_TEST_UNSET_KEY", raising=False)
    return Admission(config)


def test_product_key_admits_in_product_context(admission: Admission) -> None:
    for key in ("gold-1", "gold-2"):
        result = admission.admit("aoai", key)
        assert isinstance(result, Admitted)
        assert result.subscription is not None and result.subscription.id == "gold-team"
        assert result.product == "gold"


def test_api_and_all_apis_keys_have_no_product_context(admission: Admission) -> None:
    for api, key, subscription in (
        ("aoai", "aoai-key", "aoai-only"),
        ("other", "hashed-key", "everything"),
    ):
        result = admission.admit(api, key)
        assert isinstance(result, Admitted) and result.product is None
        assert result.subscription is not None and result.subscription.id == subscription


def test_out_of_scope_suspended_and_unknown_keys_are_invalid(admission: Admission) -> None:
    for api, key in (
        ("chat", "aoai-key"),
        ("other", "gold-1"),
        ("aoai", "paused-key"),
        ("aoai", "nope"),
    ):
        assert admission.admit(api, key) == Denied("SubscriptionKeyInvalid", INVALID_KEY)


def test_missing_key(admission: Admission) -> None:
    assert admission.admit("aoai", None) == Denied("SubscriptionKeyNotFound", MISSING_KEY)


def test_open_product_and_keyless_apis(admission: Admission) -> None:
    assert admission.admit("demo", None) == Admitted(None, "open")
    assert admission.admit("demo", "nope") == Admitted(None, "open")
    assert admission.admit("public", None) == Admitted(None, None)
    assert admission.admit("public", "gold-1") == Admitted(None, None)  # the key is ignored


def test_key_sources_by_style(admission: Admission, config: GatewayConfig) -> None:
    apis = config.apis
    assert admission.key_from(apis["aoai"], {"api-key": "k"}, {}) == "k"
    assert admission.key_from(apis["chat"], {"authorization": "Bearer k"}, {}) == "k"
    assert admission.key_from(apis["chat"], {"authorization": "Basic k"}, {}) is None
    assert admission.key_from(apis["claude"], {"x-api-key": "k"}, {}) == "k"
    assert admission.key_from(apis["claude"], {"authorization": "Bearer k"}, {}) == "k"
    assert (
        admission.key_from(
            apis["other"], {"ocp-apim-subscription-key": "k"}, {"subscription-key": "q"}
        )
        == "k"
    )
    assert admission.key_from(apis["other"], {}, {"subscription-key": "q"}) == "q"
    assert admission.key_from(apis["other"], {"api-key": "k"}, {}) is None


def test_unreadable_keys_are_reported_not_fatal(
    config: GatewayConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIGW_TEST_UNSET_KEY", raising=False)
    heard: list[tuple[str, str]] = []
    Admission(config, lambda subscription, why: heard.append((subscription.id, why)))
    assert heard == [("from-env", "the environment variable AIGW_TEST_UNSET_KEY is not set")]


def test_error_body_has_apims_exact_bytes() -> None:
    body = apim_error_body(401, MISSING_KEY)
    assert body.startswith(b'{ "statusCode": 401, "message": "Access denied due to missing')
    assert len(body) == 152  # the Content-Length APIM sends for this answer
    assert len(apim_error_body(401, INVALID_KEY)) == 143


def test_a_configured_keys_answers_are_decided_once(admission: Admission) -> None:
    """Each API's answer to a gateway.yaml key is made at its first call there and shared by
    the requests after it, an out-of-scope answer too; APIs never called make nothing."""
    first = admission.admit("aoai", "gold-1")
    assert first is admission.admit("aoai", "gold-1")
    assert first == admission.admit("aoai", "gold-2")  # the other key of that subscription
    digest = hashlib.sha256(b"aoai-key").digest()
    assert admission._by_digest[digest].admits == {}
    assert isinstance(admission.admit("aoai", "aoai-key"), Admitted)
    assert admission.admit("chat", "aoai-key") is admission.admit("chat", "aoai-key")
    assert admission._by_digest[digest].admits.keys() == {"aoai", "chat"}
    assert admission._by_digest[digest].admits["chat"] is None  # out of its scope: refused


class _RunTime:
    """The run-time subscriptions' index, as admission reads it: one subscription, whose
    scope the admin API may change between two requests."""

    def __init__(self, subscription: Subscription) -> None:
        self.subscription = subscription
        self.digest = hashlib.sha256(b"tenant-key").digest()

    def find(self, digest: bytes) -> Subscription | None:
        return self.subscription if digest == self.digest else None


def test_a_run_time_subscriptions_scope_is_read_on_each_request(config: GatewayConfig) -> None:
    tenants = _RunTime(Subscription(id="t", scope="api/chat"))
    admission = Admission(config, tenants=cast(Tenants, tenants))
    assert admission.admit("chat", "tenant-key") == Admitted(tenants.subscription, None)
    assert admission.admit("aoai", "tenant-key") == Denied("SubscriptionKeyInvalid", INVALID_KEY)
    tenants.subscription = Subscription(id="t", scope="product/gold")  # changed at run time
    assert admission.admit("aoai", "tenant-key") == Admitted(tenants.subscription, "gold")
