"""Error bodies in each API style's own shape, for errors the gateway raises before policies run.

APIM-style APIs (azure-openai, http) get APIM's envelope; OpenAI- and Anthropic-style APIs
get the error shape their SDKs parse, so `openai.NotFoundError` and friends carry a message.
Subscription-key failures stay in APIM's shape everywhere, as APIM sends them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from gateway.runtime.replies import JSON, error_reply, reason_phrase
from gateway.runtime.step import LocalReply

# The `type` both providers give these statuses.
_ERROR_TYPES = {
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
}


def style_error(
    style: str | None, status: int, message: str, headers: Sequence[tuple[str, str]] = ()
) -> LocalReply:
    kind = _ERROR_TYPES.get(status, "api_error")
    body: dict[str, object]
    if style == "openai":
        body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    elif style == "anthropic":
        body = {"type": "error", "error": {"type": kind, "message": message}}
    else:
        return error_reply(status, message, headers)
    return LocalReply(status, reason_phrase(status), [JSON, *headers], json.dumps(body).encode())
