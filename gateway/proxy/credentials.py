"""A backend's URL and credentials, with their `${env:}`/`${file:}` read once, on first use.

Not at start: a gateway with one unset key still serves its other backends. A failure is not
kept, so setting the secret and reloading is all a fix takes. The provider's `api-key` goes
the way that provider reads it; `credentials.authorization` is sent as `Authorization: <scheme>
<parameter>`, as APIM sends it; `credentials.managed-identity` adds a bearer token for the
backend's resource, from the gateway's token service. Each replaces the client's own header.

What of a call's head is the same for every call to a backend is made here once too: which of
the client's headers are not sent on, and the credential header lines, formatted.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from gateway.common.url_paths import url_problem
from gateway.config.backends import Backend, credential_headers, credential_query
from gateway.config.secrets import ConfigValue, SecretUnavailable
from gateway.proxy.sessions import encoded
from gateway.routing.members import no_backend
from gateway.runtime.services import BearerTokens, TokenUnavailable

Headers = list[tuple[str, str]]

# Never copied from the client's request to the backend's: the gateway owns them.
HOP_BY_HOP = frozenset(
    """connection keep-alive proxy-authenticate proxy-authorization te trailers
    transfer-encoding upgrade host content-length""".split()
)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A backend's encoded base URL, credential headers and credential query, and what every
    call to it shares of its head (read once per backend and generation, not per call)."""

    base: str
    headers: Headers
    query: Headers
    # The client's headers not sent on (lower-case): hop-by-hop ones and those the
    # credentials replace.
    dropped: frozenset[str]
    # The credential headers as wire lines ("Name: value\r\n" each), for a call that adds no
    # header of its own after them; None when they must go the per-call way instead: text
    # beyond ASCII (whose encoding depends on the call's other headers), a line break (which
    # the per-call way refuses), or a name the HTTP client itself reads (framing).
    lines: str | None


@lru_cache(maxsize=256)
def not_copied(credential_names: tuple[str, ...]) -> frozenset[str]:
    """The client headers not sent on: hop-by-hop ones and those the credentials replace."""
    return HOP_BY_HOP.union(name.lower() for name in credential_names)


def resolved_for(base: str, headers: Headers, query: Headers) -> Resolved:
    dropped = not_copied(tuple([name for name, _ in headers]))
    lines = "".join([f"{name}: {value}\r\n" for name, value in headers])
    plain = lines.isascii() and lines.count("\n") == lines.count("\r") == len(headers)
    if not plain or any(name.lower() in HOP_BY_HOP for name, _ in headers):
        return Resolved(base, headers, query, dropped, None)
    return Resolved(base, headers, query, dropped, lines)


class Credentials:
    def __init__(self, tokens: BearerTokens | None = None) -> None:
        self.tokens = tokens
        # One entry per backend of this generation's gateway.yaml (a reload makes new
        # Credentials, so a changed secret is read again): bounded by the configuration.
        self._resolved: dict[str, Resolved] = {}

    def resolved(self, backend: Backend) -> Resolved:
        """The backend's encoded base URL, credential headers and query, and its calls' fixed
        head."""
        found = self._resolved.get(backend.id)
        if found is None:
            if backend.url is None:  # a pool: only forward-request chooses members
                raise no_backend(f"backend '{backend.id}' is a pool; name one of its members here")
            try:
                found = resolved_for(
                    _base(backend.url), credential_headers(backend), credential_query(backend)
                )
            except SecretUnavailable as error:
                raise no_backend(f"backend '{backend.id}' cannot be called: {error}") from None
            self._resolved[backend.id] = found
        return found

    async def identity(self, backend: Backend) -> Headers:
        """`credentials.managed-identity`: a bearer token for the backend's resource."""
        identity = backend.credentials.managed_identity
        if identity is None:
            return []
        resource = identity.resource
        try:
            if self.tokens is None:
                raise TokenUnavailable("this gateway has no token service")
            token = await self.tokens.token(resource, identity.client_id)
        except TokenUnavailable as error:
            raise no_backend(
                f"backend '{backend.id}' cannot be called: no token for '{resource}': {error}"
            ) from None
        return [("Authorization", f"Bearer {token}")]


def _base(reference: ConfigValue) -> str:
    """A backend's URL, encoded; SecretUnavailable when the value a `${env:}`/`${file:}`
    reference gave is no URL we can read (gateway.yaml's own URLs are checked at load). The
    message names the reference, never the value (it may hold a password)."""
    url = reference.resolve()
    problem = url_problem(url, ("http", "https", "ws", "wss"))
    if problem is not None and reference.is_reference:
        raise SecretUnavailable("its url " + problem.replace(f"'{url}'", reference.raw, 1))
    return encoded(url)
