"""The rule for a call whose API and backend speak different provider APIs: one table.

An API's style says which API its clients speak (OpenAI's for `openai` and `azure-openai`,
Anthropic's for `anthropic`); a backend's `provider` says which one it serves (Anthropic's for
`anthropic`, OpenAI's for every other provider: OpenAI, Azure OpenAI and the OpenAI-compatible
ones). `http` on either side speaks no known API: its calls pass as they are.

For each operation (by its ID, gateway.config.styles) a call is

* passed: the backend speaks the client's API (an Azure client's URLs and a model renamed
  by the backend's `models` aside), or either side is `http`, or the operation is one of
  APIM's wildcard operations (`wildcard-<method>`): an API declares those to reach the
  backend's own paths as they are, whatever API it speaks;
* translated: a faithful translation exists (`CROSSINGS`), both ways, streams and errors too;
* answered: the gateway answers itself and the backend is never called (Anthropic's
  `count_tokens`, counted offline, for a backend that cannot count Anthropic's way);
* refused: everything else, by default, so that an operation added to a style is refused on
  a backend of the other provider until a translation is written for it here. The gateway
  answers 400 (`invalid_request_error`, code `operation_not_supported`) in the client's error
  shape rather than send the call where it can only fail (a 404 at best, a completion billed
  for a count at worst).
"""

from __future__ import annotations

import functools
from typing import Literal

Crossing = Literal["passed", "translated", "answered", "refused"]

# The provider API each API style speaks (None: `http`, no known API).
STYLE_APIS = {"openai": "openai", "azure-openai": "openai", "anthropic": "anthropic"}

# (operation ID, the client's API, the backend's API) -> how the call crosses. Anything not
# here is refused when the two APIs differ.
CROSSINGS: dict[tuple[str, str, str], Crossing] = {
    ("ChatCompletions_Create", "openai", "anthropic"): "translated",
    ("Models_List", "openai", "anthropic"): "translated",
    ("Responses_Create", "openai", "anthropic"): "translated",
    ("Messages_Create", "anthropic", "openai"): "translated",
    ("Messages_CountTokens", "anthropic", "openai"): "answered",
}

WILDCARD = "wildcard-"  # gateway.config.styles.wildcard_operations' IDs

OPERATION_NOT_SUPPORTED = "OperationNotSupported"  # the error's reason; OpenAI's code in snake


def style_api(style: str) -> str | None:
    """The provider API an API's style speaks, None for `http`."""
    return STYLE_APIS.get(style)


def provider_api(provider: str) -> str | None:
    """The provider API a backend serves, None for `http`."""
    if provider == "anthropic":
        return "anthropic"
    return None if provider == "http" else "openai"


@functools.lru_cache(maxsize=4096)  # asked on every attempt; the answers never change
def crossing(operation: str, style: str, provider: str) -> Crossing:
    """How a call of `operation`, on an API of `style`, goes to a backend of `provider`."""
    spoken, served = style_api(style), provider_api(provider)
    if spoken is None or served is None or spoken == served or operation.startswith(WILDCARD):
        return "passed"
    return CROSSINGS.get((operation, spoken, served), "refused")


def refusal(operation: str, backend: str, provider: str) -> str:
    """The refusal's message: the operation, the backend and why."""
    return (
        f"The operation {operation} is not supported on the backend '{backend}': its provider "
        f"({provider}) does not serve this API, and the gateway has no translation for it."
    )
