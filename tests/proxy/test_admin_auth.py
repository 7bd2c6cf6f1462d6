"""The admin key: the header, the session cookie (reads only, signed, expiring), a key kept as
a digest, and a key that cannot be read."""

from __future__ import annotations

import hashlib
import time

from starlette.requests import Request

from gateway.config.secrets import ConfigValue
from gateway.proxy.admin_auth import COOKIE, AdminKey, refusal

KEY = "the-admin-key"


def request(method: str = "GET", authorization: str = "", cookie: str = "") -> Request:
    headers = []
    if authorization:
        headers.append((b"authorization", authorization.encode()))
    if cookie:
        headers.append((b"cookie", f"{COOKIE}={cookie}".encode()))
    return Request({"type": "http", "method": method, "path": "/-/api/x", "headers": headers})


def test_the_bearer_header_opens_every_method() -> None:
    admin = AdminKey(ConfigValue(KEY))
    assert admin.accepts(request("POST", f"Bearer {KEY}"))
    assert not admin.accepts(request("GET", "Bearer wrong"))
    assert not admin.accepts(request("GET", f"Basic {KEY}"))
    assert not admin.accepts(request("GET"))


def test_a_key_may_be_written_as_its_digest() -> None:
    admin = AdminKey(ConfigValue("sha256:" + hashlib.sha256(KEY.encode()).hexdigest()))
    assert admin.accepts(request("GET", f"Bearer {KEY}"))
    assert admin.matches(KEY) and not admin.matches("other")


def test_the_session_cookie_opens_reads_only_until_it_expires() -> None:
    admin = AdminKey(ConfigValue(KEY))
    cookie = admin.session_cookie()
    assert admin.accepts(request("GET", cookie=cookie))
    assert not admin.accepts(request("POST", cookie=cookie))  # a change needs the header
    assert not admin.accepts(request("GET", cookie=admin.session_cookie(time.time() - 13 * 3600)))
    expires, _, signature = cookie.partition(".")
    assert not admin.accepts(request("GET", cookie=f"{int(expires) + 999}.{signature}"))
    # Another key (a rotated one) signs other sessions: the old cookie stops.
    assert not AdminKey(ConfigValue("a-new-key")).accepts(request("GET", cookie=cookie))


def test_a_key_that_cannot_be_read_refuses_everyone() -> None:
    admin = AdminKey(ConfigValue("${env:AIGW_NO_SUCH_VARIABLE_FOR_TESTS}"))
    refused = refusal(admin, request("GET", f"Bearer {KEY}"), always=False)
    assert refused is not None and refused.status_code == 503
    assert b"AIGW_NO_SUCH_VARIABLE_FOR_TESTS is not set" in refused.body


def test_without_a_key_only_the_admin_api_is_off() -> None:
    admin = AdminKey(None)
    assert refusal(admin, request(), always=False) is None
    off = refusal(admin, request(), always=True)
    assert off is not None and off.status_code == 404
