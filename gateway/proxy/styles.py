"""The errors the gateway answers before any policy runs, in the API's error shape.

No route (404), a method the operation does not take (405), a body over the limit (413): APIM's
envelope, with the fields the API's SDK reads where the API's clients are OpenAI's or
Anthropic's SDKs (`Api.error_style`, gateway.runtime.replies).
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.config.apis import Api
from gateway.runtime.replies import error_reply
from gateway.runtime.step import LocalReply

# The header each style's SDK reads a request id from (`_request_id` in both SDKs).
REQUEST_ID_HEADERS = {
    "openai": "x-request-id",
    "azure-openai": "x-request-id",
    "anthropic": "request-id",
}


def style_error(
    api: Api | None, status: int, message: str, headers: Sequence[tuple[str, str]] = ()
) -> LocalReply:
    return error_reply(status, message, headers, style=api.error_style if api else None)
