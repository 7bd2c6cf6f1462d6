"""The admin key: who may use the admin listener beyond `/-/ready`.

gateway.yaml's `admin.key` is kept as its SHA-256 digest only (a key written `sha256:<hex>`
is taken as given), and a request proves it knows the key in one of two ways:

- `Authorization: Bearer <admin key>`, for scripts, `aigw subscriptions` and Prometheus;
- a session cookie the login form sets (`POST /-/login`), for the dashboard in a browser: an
  expiry and an HMAC of it keyed by the digest, so every replica sharing the key accepts it
  without shared state, and changing the key ends every session. The cookie is HttpOnly and
  SameSite=Strict, and it opens only reads (GET, HEAD): a change always needs the header.

With no key configured, the routes that always need one (the admin API, the dashboard) answer
404 saying how to turn them on; the operational routes (`/metrics`, `/-/workers`,
`POST /-/reload`) stay open, as they were before keys existed, while the listener is on
loopback (`--admin-host`'s default, whatever `--host` is). Bound anywhere else without a key,
every route but `/-/ready` answers 403 (`exposed_lock`): `/metrics` names subscriptions, client
addresses and costs, and `/-/reload` is a lever, neither for whoever reaches the address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.config.secrets import ConfigValue, SecretUnavailable

log = logging.getLogger("aigw.admin")

COOKIE = "aigw_admin"
SESSION_SECONDS = 12 * 3600
READS = frozenset({"GET", "HEAD"})

Endpoint = Callable[[Request], Awaitable[Response]]
# What an exposed listener without a key still answers: the probes' route.
OPEN_WHEN_EXPOSED = frozenset({"/-/ready"})
EXPOSED_WITHOUT_KEY = (
    "the admin listener is bound to {host}, beyond loopback, and gateway.yaml sets no admin "
    "key: set admin.key in gateway.yaml (every route but /-/ready is refused until then)"
)


class AdminKey:
    """The configured admin key's digest, and the checks a request must pass."""

    def __init__(self, key: ConfigValue | None) -> None:
        self.configured = key is not None
        self.unavailable = ""  # why a configured key could not be read
        self._digest: bytes | None = None
        if key is None:
            return
        if key.raw.startswith("sha256:"):
            self._digest = bytes.fromhex(key.raw.removeprefix("sha256:"))
            return
        try:
            self._digest = hashlib.sha256(key.resolve().encode()).digest()
        except SecretUnavailable as error:
            self.unavailable = str(error)
            log.error("admin.key cannot be read (%s): the admin routes refuse everyone", error)

    def accepts(self, request: Request) -> bool:
        """Does the request carry the key (or, for a read, a live session cookie)?"""
        if self._digest is None:
            return False
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            presented = hashlib.sha256(token.strip().encode()).digest()
            return hmac.compare_digest(presented, self._digest)
        cookie = request.cookies.get(COOKIE)
        return cookie is not None and request.method in READS and self._session_valid(cookie)

    def matches(self, key: str) -> bool:
        """Is `key` the admin key (the login form's check)?"""
        presented = hashlib.sha256(key.encode()).digest()
        return self._digest is not None and hmac.compare_digest(presented, self._digest)

    def session_cookie(self, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + SESSION_SECONDS)
        return f"{expires}.{self._sign(expires)}"

    def _session_valid(self, cookie: str) -> bool:
        expires, _, signature = cookie.partition(".")
        if not expires.isdigit() or int(expires) < time.time():
            return False
        return hmac.compare_digest(signature, self._sign(int(expires)))

    def _sign(self, expires: int) -> str:
        assert self._digest is not None
        message = f"aigw-admin-session:{expires}".encode()
        return hmac.new(self._digest, message, hashlib.sha256).hexdigest()


def refusal(admin_key: AdminKey, request: Request, always: bool) -> Response | None:
    """None when the request may go on; else the answer. `always`: the route needs a key
    even when none is configured (the admin API, the dashboard)."""
    if not admin_key.configured:
        if not always:
            return None
        return _error(404, "admin_api_off", "the admin API is off: set admin.key in gateway.yaml")
    if admin_key.unavailable:
        return _error(503, "admin_key_unavailable", f"admin.key: {admin_key.unavailable}")
    if admin_key.accepts(request):
        return None
    has_header = "authorization" in request.headers
    message = "the admin key is wrong" if has_header else "send the admin key"
    return _error(
        401,
        "unauthorized",
        f"{message} (Authorization: Bearer <admin key>)",
        {"www-authenticate": 'Bearer realm="aigw-admin"'},
    )


def guarded(
    endpoint: Endpoint, admin_key: Callable[[], AdminKey], always: bool = False
) -> Endpoint:
    """`endpoint` behind the admin key serving now (it may change with a reload)."""

    async def checked(request: Request) -> Response:
        refused = refusal(admin_key(), request, always)
        return refused if refused is not None else await endpoint(request)

    return checked


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


def is_loopback(host: str) -> bool:
    """Does binding `host` keep a listener on this machine? A name other than localhost
    counts as exposed: what it resolves to may change."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def exposed_lock(app: ASGIApp, host: str, admin_key: Callable[[], AdminKey]) -> ASGIApp:
    """`app` (the admin listener's) as it may be served on `host`: unchanged on loopback;
    elsewhere, every route but /-/ready answers 403 while no admin key is configured (a
    reload that adds one opens them)."""
    if is_loopback(host):
        return app
    refused = _error(403, "admin_key_required", EXPOSED_WITHOUT_KEY.format(host=host))

    async def locked(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] not in OPEN_WHEN_EXPOSED
            and not admin_key().configured
        ):
            await refused(scope, receive, send)
            return
        await app(scope, receive, send)

    return locked
