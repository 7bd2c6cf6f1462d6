"""Subscription keys and admission, as APIM has them (reference §7).

Built once at load from gateway.yaml: every active subscription's keys are indexed by their
SHA-256 digest (a key stored as `sha256:<hex>` is indexed as given), so a request hashes the
key it presents and does one dict lookup (a second, in the run-time subscriptions' index of
gateway.tenants, when the first misses); the final comparison is constant-time. The key is
never kept in plain text past this module, and never logged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.config.apis import Api, Subscription
from gateway.config.secrets import ConfigValue, SecretUnavailable
from gateway.config.settings import GatewayConfig
from gateway.proxy.errors import INVALID_KEY, MISSING_KEY
from gateway.tenants.index import Tenants

# Headers that carry a subscription key besides the API's own header, by API style.
STYLE_KEY_HEADERS = {
    # The v1 API's clients (`OpenAI(base_url=".../openai/v1/")`) send `Authorization: Bearer`.
    "azure-openai": ("api-key", "authorization"),
    "openai": ("authorization",),
    # Anthropic's SDKs send `x-api-key`, newer ones `Authorization: Bearer`; accept both.
    "anthropic": ("x-api-key", "authorization"),
    "http": (),
}


@dataclass(frozen=True, slots=True)
class Admitted:
    subscription: Subscription | None
    product: str | None  # the product context, when the request has one


# An API open to all, outside any product: made once (an answer every such request gets).
ANYONE = Admitted(None, None)


@dataclass(frozen=True, slots=True)
class Denied:
    reason: str  # SubscriptionKeyNotFound | SubscriptionKeyInvalid (LastError.Reason)
    message: str
    status: int = 401


# The two refusals, made once (frozen: every refused request may share them).
_INVALID = Denied("SubscriptionKeyInvalid", INVALID_KEY)
_MISSING = Denied("SubscriptionKeyNotFound", MISSING_KEY)
_UNDECIDED: Any = object()  # an API a key has not been called with yet


@dataclass(frozen=True, slots=True)
class _Entry:
    digest: bytes
    subscription: Subscription
    # What the key admits to each API called with it (None: out of its scope), decided at
    # its first call there: a gateway.yaml subscription's scope never changes while it
    # serves. (Filled as called, not at load: thousands of keys times the APIs would be
    # made, most never used.)
    admits: dict[str, Admitted | None]


class Admission:
    def __init__(
        self,
        config: GatewayConfig,
        on_unavailable: Callable[[Subscription, str], None] = lambda subscription, why: None,
        tenants: Tenants | None = None,
    ) -> None:
        """`on_unavailable` hears of keys whose `${env:...}`/`${file:...}` cannot be read;
        `tenants` knows the subscriptions made at run time (gateway.yaml's come first)."""
        self.apis = config.apis
        self.tenants = tenants
        # Where each API's key may come, decided at load: its header (lower case, as ASGI
        # servers give names), its style's headers, its query parameter.
        self._key_names = {
            api.id: (api.key_header.lower(), STYLE_KEY_HEADERS.get(api.style, ()), api.key_query)
            for api in config.apis.values()
        }
        self._products_of: dict[str, frozenset[str]] = {
            api: frozenset(p.id for p in config.products.values() if api in p.apis)
            for api in config.apis
        }
        self._by_digest: dict[bytes, _Entry] = {}
        for subscription in config.subscriptions.values():
            if subscription.state != "active":
                continue  # only active subscriptions grant access: their keys are "invalid"
            for key in (subscription.primary_key, subscription.secondary_key):
                digest = _stored_digest(key, subscription, on_unavailable)
                if digest is not None:
                    self._by_digest[digest] = _Entry(digest, subscription, {})
        # An API in an open product admits anyone in that product's context (the first).
        self._open_product: dict[str, Admitted] = {}
        for product in config.products.values():
            if not product.subscription_required:
                for api in product.apis:
                    self._open_product.setdefault(api, Admitted(None, product.id))

    def key_from(
        self, api: Api, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> str | None:
        """The key a request presents: the API's header, the style's header, then the query.

        `headers` must have lower-case names (as ASGI servers give them).
        """
        header, style_headers, query_name = self._key_names[api.id]
        value = headers.get(header)
        if value:
            return value
        for name in style_headers:
            value = headers.get(name)
            if value:
                if name == "authorization":
                    scheme, _, token = value.partition(" ")
                    token = token.strip()
                    return token if token and scheme.lower() == "bearer" else None
                return value
        return query.get(query_name) or None

    def admit(self, api_id: str, key: str | None) -> Admitted | Denied:
        api = self.apis[api_id]
        open_product = self._open_product.get(api_id)
        if key is not None and api.subscription_required:
            digest = hashlib.sha256(key.encode()).digest()
            entry = self._by_digest.get(digest)
            if entry is not None and hmac.compare_digest(entry.digest, digest):
                admits = entry.admits
                admitted = admits.get(api_id, _UNDECIDED)
                if admitted is _UNDECIDED:
                    admitted = admits[api_id] = self._admits(entry.subscription, api_id)
            else:  # a run-time subscription's scope may change: decided on each request
                found = self.tenants.find(digest) if self.tenants is not None else None
                admitted = self._admits(found, api_id) if found is not None else None
            if admitted is not None:
                return admitted
            return open_product if open_product is not None else _INVALID
        if open_product is not None:
            return open_product
        if not api.subscription_required:
            return ANYONE
        return _MISSING

    def _admits(self, subscription: Subscription, api_id: str) -> Admitted | None:
        """What `subscription` admits to API `api_id` (in its product's context, if its
        scope is a product of that API), or None when the API is out of its scope."""
        kind, _, target = subscription.scope.partition("/")
        if subscription.scope == "all-apis":
            return Admitted(subscription, None)
        if kind == "api":
            return Admitted(subscription, None) if target == api_id else None
        if kind == "product" and target in self._products_of.get(api_id, frozenset()):
            return Admitted(subscription, target)
        return None


def _stored_digest(
    key: ConfigValue | None,
    subscription: Subscription,
    on_unavailable: Callable[[Subscription, str], None],
) -> bytes | None:
    if key is None:
        return None
    if key.raw.startswith("sha256:"):
        return bytes.fromhex(key.raw.removeprefix("sha256:"))
    try:
        return hashlib.sha256(key.resolve().encode()).digest()
    except SecretUnavailable as error:
        on_unavailable(subscription, str(error))
        return None
