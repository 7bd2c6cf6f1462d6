"""What `forward-request` hands the gateway's forward function, and what a stream may raise.

Steps never import an HTTP client: the proxy puts its forward function on each request
context (`RequestContext.forward`), and `forward-request` calls it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ForwardOptions:
    timeout: float = 300.0  # seconds to wait for the response headers
    follow_redirects: bool = False
    buffer_response: bool = True
    fail_on_error_status_code: bool = False


class StreamBroken(Exception):
    """A streamed response broke off after it started (the connection reset, or timed out)."""
