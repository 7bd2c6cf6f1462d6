"""Replies the gateway writes itself, in APIM's exact envelope."""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus

from gateway.runtime.step import LocalReply

JSON = ("Content-Type", "application/json")


def apim_error_body(status: int, message: str) -> bytes:
    """`{ "statusCode": 401, "message": "..." }`, spaced exactly as APIM writes it."""
    return f'{{ "statusCode": {status}, "message": {json.dumps(message)} }}'.encode()


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def error_reply(
    status: int, message: str, headers: Sequence[tuple[str, str]] = (), reason: str | None = None
) -> LocalReply:
    phrase = reason_phrase(status) if reason is None else reason
    return LocalReply(status, phrase, [JSON, *headers], apim_error_body(status, message))
