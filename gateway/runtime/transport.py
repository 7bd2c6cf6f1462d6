"""The contract between the `forward-request` step and whatever sends HTTP.

Steps never import an HTTP client: the proxy puts a `Transport` on the request context, and
`forward-request` calls it. Tests can give a real transport pointed at a loopback server.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gateway.runtime.context import RequestContext


@dataclass(frozen=True, slots=True)
class ForwardOptions:
    timeout: float = 300.0  # seconds to wait for the response headers
    follow_redirects: bool = False
    buffer_response: bool = True
    fail_on_error_status_code: bool = False


class Transport(Protocol):
    async def forward(self, context: RequestContext, options: ForwardOptions) -> None:
        """Send `context`'s request to its backend; put the answer in `context.model.Response`.

        Raises `PolicyError` (source `forward-request`) with APIM's reasons: `Timeout`,
        `BackendConnectionFailure`, or a configuration failure such as a missing credential.
        """
        ...


class StreamBroken(Exception):
    """A streamed answer broke off after it started (the connection reset, or timed out)."""
