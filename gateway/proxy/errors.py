"""The error bodies the gateway itself sends, in APIM's exact shape."""

from __future__ import annotations

from gateway.runtime.replies import apim_error_body

__all__ = ["INVALID_KEY", "MISSING_KEY", "apim_error_body"]
MISSING_KEY = (
    "Access denied due to missing subscription key. Make sure to include subscription key "
    "when making requests to an API."
)
INVALID_KEY = (
    "Access denied due to invalid subscription key. Make sure to provide a valid key for an "
    "active subscription."
)
