"""The error bodies the gateway itself sends, in APIM's exact shape."""

from __future__ import annotations

import json

MISSING_KEY = (
    "Access denied due to missing subscription key. Make sure to include subscription key "
    "when making requests to an API."
)
INVALID_KEY = (
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an "
    "active subscription."
)


def apim_error_body(status: int, message: str) -> bytes:
    """`{ "statusCode": 401, "message": "..." }`, spaced exactly as APIM writes it."""
    return f'{{ "statusCode": {status}, "message": {json.dumps(message)} }}'.encode()
