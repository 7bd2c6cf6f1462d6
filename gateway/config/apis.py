"""gateway.yaml's `apis`, `products` and `subscriptions`: what is served, bundled and who may
call it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gateway.config.keys import entry_id, key
from gateway.config.loggers import LlmMessages
from gateway.config.secrets import ConfigValue

Style = Literal["azure-openai", "openai", "anthropic", "http"]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
SubscriptionState = Literal["active", "suspended", "submitted", "rejected", "cancelled", "expired"]

# Where a subscription key is looked for when the API names no other place: APIM's names, or
# Azure OpenAI's own header for the style whose clients send that.
_KEY_NAMES = {"azure-openai": ("api-key", "api-key")}
_APIM_KEY_NAMES = ("Ocp-Apim-Subscription-Key", "subscription-key")


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """An example response of an operation (mock-response picks one)."""

    status: int = key(200, minimum=100, maximum=599)
    content_type: str = key("application/json")
    body: str = key(doc="The example's body text.", required=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation:
    """An operation of a style: http API."""

    id: str = key(required=True)
    method: Method = key(required=True)
    url_template: str = key(doc="Relative to the API path: /items/{id}.", required=True)
    name: str = key("", fallback="id")
    examples: tuple[Example, ...] = key((), "Example responses, for mock-response.")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyNames:
    """Where clients send the subscription key, instead of the style's usual header and query
    parameter."""

    header: str | None = key(None)
    query: str | None = key(None)


@dataclass(frozen=True, slots=True, kw_only=True)
class Api:
    """An API served under a path."""

    id: str = entry_id()
    path: str = key("", "The URL suffix the API is served under.", kind="path", required=True)
    style: Style = key("http")
    backend: str | None = key(None, "The default backend, like APIM's service URL.")
    subscription_required: bool = key(True)
    subscription_key_parameter_names: KeyNames = key(KeyNames)
    operations: tuple[Operation, ...] = key((), "For style http: the API's operations.")
    wildcard_operations: tuple[Method, ...] = key(
        (),
        "APIM's wildcard operations: for each method listed, an operation `/*` (id "
        "wildcard-<method>) that takes any path the API's other operations do not, through "
        "the policies to the backend, as APIM's pass-through language model API has them.",
    )
    openapi: str | None = key(
        None,
        "For style http: an OpenAPI/Swagger file (relative to gateway.yaml) to import "
        "operations and their examples from.",
    )
    name: str = key("", fallback="id")
    error_body: Literal["apim", "sdk"] | None = key(
        None,
        "The gateway's own errors (401, 404, 429, ...): apim, APIM's {statusCode, message} "
        "exactly; sdk, those fields plus the ones the style's SDK reads (error.type, "
        "error.code; Anthropic's type). Default: sdk for openai and anthropic styles, apim "
        "for azure-openai and http.",
    )
    llm_messages: LlmMessages | None = key(
        None,
        "Log each call's prompt and completion (streams assembled) with its usage to a "
        "logger; absent: never logged.",
    )

    @property
    def error_style(self) -> str | None:
        """Whose SDK's error fields the gateway's own errors carry (None: APIM's body only)."""
        sdk = self.error_body == "sdk" or (
            self.error_body is None and self.style in ("openai", "anthropic")
        )
        if not sdk or self.style == "http":
            return None
        return "anthropic" if self.style == "anthropic" else "openai"

    @property
    def key_header(self) -> str:
        """The header a subscription key is read from."""
        return self._key_names()[0]

    @property
    def key_query(self) -> str:
        """The query parameter a subscription key is read from."""
        return self._key_names()[1]

    def _key_names(self) -> tuple[str, str]:
        header, query = _KEY_NAMES.get(self.style, _APIM_KEY_NAMES)
        names = self.subscription_key_parameter_names
        return (
            header if names.header is None else names.header,
            query if names.query is None else names.query,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Product:
    """APIs offered together, with one subscription policy."""

    id: str = entry_id()
    apis: tuple[str, ...] = key((), "The APIs in this product.")
    subscription_required: bool = key(True)
    approval_required: bool = key(False)
    state: Literal["published", "not-published"] = key("published")
    subscriptions_limit: int | None = key(None, minimum=0)
    name: str = key("", fallback="id")


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """A subscription: its keys and what they open."""

    id: str = entry_id()
    scope: str = key("", "all-apis, product/<id> or api/<id>.", required=True)
    primary_key: ConfigValue | None = key(None, "A key, or sha256:<hex> of one.")
    secondary_key: ConfigValue | None = key(None)
    state: SubscriptionState = key("active")
    name: str = key("", fallback="id")
