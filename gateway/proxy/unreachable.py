"""What a client is told when a backend cannot be reached, and what the log keeps.

The client (and `context.LastError.Message`, which APIM's error envelope carries and which
on-error policies often write into their answer) learns what happened in general terms: the
backend's name as gateway.yaml declares it and why, in a few words of ours ("the connection
was refused", "the TLS handshake failed"). The backend's host and port, and the HTTP
client's own words (which repeat them, with the resolver's or the TLS library's), say what
lies behind the gateway: they go to the `aigw.backends` log only, under the request's id.
"""

from __future__ import annotations

import logging
import ssl

import aiohttp

from gateway.proxy.upstream_errors import UpstreamError

log = logging.getLogger("aigw.backends")


def why(error: BaseException) -> str:
    """Why a call failed, in a few general words (no host, no library's message)."""
    if isinstance(error, UpstreamError):  # the gateway's own client says it itself
        return error.why
    # The order matters: the TLS and DNS errors are connection errors of a kind.
    if isinstance(error, aiohttp.ClientSSLError | ssl.SSLError):
        return "the TLS handshake failed"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return "its host name could not be resolved"
    if isinstance(error, aiohttp.ClientConnectorError):
        refused = isinstance(error.os_error, ConnectionRefusedError)
        return "the connection was refused" if refused else "no connection could be made"
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return "it did not answer in time"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "it closed the connection without an answer"
    if isinstance(error, aiohttp.ClientPayloadError):
        return "its answer ended before its length or its last chunk"
    if isinstance(error, aiohttp.ClientOSError | ConnectionError):
        return "the connection was reset"
    if isinstance(error, aiohttp.TooManyRedirects):
        return "it redirected too many times"
    if isinstance(error, aiohttp.ClientResponseError):
        return "its answer was not valid HTTP"
    if isinstance(error, aiohttp.InvalidURL):
        return "its URL is not valid"
    if isinstance(error, ValueError):  # a JSON answer that is not JSON, say
        return "its answer could not be read"
    return "the call failed"


def logged(what: str, where: str, error: BaseException, request_id: str = "") -> str:
    """`why(error)`, once the detail is logged: `what` failed (a backend by its name, a
    send-request call), `where` (its host and port, or URL), the error's own text."""
    detail = str(error) or type(error).__name__
    log.warning("request %s: %s at %s failed: %s", request_id or "-", what, where, detail)
    return why(error)


def unreachable(name: str | None, where: str, error: BaseException, request_id: str = "") -> str:
    """The message of backend `name` (None: a URL a policy set) not reached, for the client;
    the detail logged."""
    backend = f"The backend '{name}'" if name else "The backend"
    return f"{backend} could not be reached: {logged(backend, where, error, request_id)}."


def broke_off(name: str | None, error: BaseException, request_id: str = "") -> str:
    """Why a backend's answer broke off after it began, in general terms; the detail logged."""
    backend = f"the answer of backend '{name}'" if name else "the backend's answer"
    return logged(backend, "-", error, request_id)
