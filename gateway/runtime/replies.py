"""Responses the gateway writes itself: its error bodies and their status phrases.

APIM's envelope, `{ "statusCode": 429, "message": "..." }`, is what every error body holds. On
an API whose clients are OpenAI's or Anthropic's SDKs, it also carries the fields those SDKs
read (`RequestContext.error_style`): OpenAI's `error` object (`message`, `type`, `param`,
`code`), or Anthropic's `type: "error"` and `error` (`type`, `message`), so that
`openai.RateLimitError.code` or `anthropic.RateLimitError.type` says what happened. APIM's
fields keep their values, so a client reading those reads what APIM would send.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from http import HTTPStatus

from gateway.runtime.step import LocalReply

JSON = ("Content-Type", "application/json")

# The `type` each provider's own errors give a status (Anthropic documents its set; OpenAI's
# SDK only reads the field, and its service's types are not a documented set).
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    429: "rate_limit_error",
}
# OpenAI's `code` for these statuses, as its own service writes it.
_OPENAI_CODES = {401: "invalid_api_key", 429: "rate_limit_exceeded"}


def apim_error_body(status: int, message: str) -> bytes:
    """`{ "statusCode": 401, "message": "..." }`, spaced exactly as APIM writes it."""
    return f'{{ "statusCode": {status}, "message": {json.dumps(message)} }}'.encode()


def error_body(status: int, message: str, style: str | None = None, reason: str = "") -> bytes:
    """An error body: APIM's envelope, with the `style` SDK's fields when one is given
    (`openai` or `anthropic`). `reason` (a policy error's, such as `QuotaExceeded`) is
    OpenAI's `code` where its service has none of its own for the status."""
    if style == "openai":
        code = _OPENAI_CODES.get(status) or _snake(reason) or None
        kind = _OPENAI_TYPES.get(status, "api_error")
        error = {"message": message, "type": kind, "param": None, "code": code}
        return json.dumps({"statusCode": status, "message": message, "error": error}).encode()
    if style == "anthropic":
        error = {"type": _ANTHROPIC_TYPES.get(status, "api_error"), "message": message}
        body = {"statusCode": status, "message": message, "type": "error", "error": error}
        return json.dumps(body).encode()
    return apim_error_body(status, message)


def _snake(reason: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", reason).lower()


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def error_reply(
    status: int,
    message: str,
    headers: Sequence[tuple[str, str]] = (),
    reason: str | None = None,
    *,
    style: str | None = None,
    code: str = "",
) -> LocalReply:
    """An error response of the gateway's own: `reason` is the status phrase (default: the
    standard one), `style` and `code` as for `error_body`."""
    phrase = reason_phrase(status) if reason is None else reason
    body = error_body(status, message, style, code)
    return LocalReply(status, phrase, [JSON, *headers], body)
