"""What a call to a backend can fail with: `UpstreamError`s, each with `why`, a few general
words for the client (gateway.proxy.unreachable names the backend with them); their text,
with the host, goes to the log only. Raised by the gateway's HTTP/1.1 client
(gateway.proxy.http1, gateway.proxy.pool)."""

from __future__ import annotations


class UpstreamError(Exception):
    """A call to a backend that failed; `why` says how in general terms."""

    why = "the call failed"


class ConnectFailed(UpstreamError):
    why = "no connection could be made"


class ConnectRefused(ConnectFailed):
    why = "the connection was refused"


class NameNotResolved(ConnectFailed):
    why = "its host name could not be resolved"


class TlsFailed(ConnectFailed):
    why = "the TLS handshake failed"


class Timeout(UpstreamError, TimeoutError):
    why = "it did not answer in time"


class Disconnected(UpstreamError, ConnectionError):
    why = "it closed the connection without an answer"


class Reset(UpstreamError, ConnectionError):
    why = "the connection was reset"


class Truncated(UpstreamError):
    why = "its answer ended before its length or its last chunk"


class InvalidResponse(UpstreamError):
    why = "its answer was not valid HTTP"


class InvalidRequest(UpstreamError, ValueError):
    why = "the request could not be sent"


class TooManyRedirects(UpstreamError):
    why = "it redirected too many times"
