"""The admin key: the header, the session cookie (reads only, signed, expiring), a key kept as
a digest, and a key that cannot be read; the admin listener bound beyond loopback."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from gateway.config.secrets import ConfigValue
from gateway.proxy.admin_auth import COOKIE, AdminKey, is_loopback, refusal
from tests.proxy.processes import free_port, output_of, start_gateway, stop

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


def mock_directory(root: Path, admin: str = "") -> Path:
    """An API `llm` answering with mock-response; `admin`: gateway.yaml's admin section."""
    (root / "gateway.yaml").write_text(f"apis:\n  llm: {{path: llm}}\n{admin}\n")
    (root / "apis").mkdir()
    (root / "apis" / "llm.xml").write_text(
        "<policies><inbound><mock-response /></inbound></policies>"
    )
    return root


def test_host_all_interfaces_does_not_publish_the_admin_listener(tmp_path: Path) -> None:
    """`--host 0.0.0.0` publishes the traffic listener only: the admin one (with /metrics)
    stays on 127.0.0.1 unless --admin-host says otherwise."""
    port, admin_port = free_port(), free_port()
    server = start_gateway(mock_directory(tmp_path), port, None, admin_port, "--host", "0.0.0.0")
    try:
        assert httpx.get(f"http://127.0.0.2:{port}/-/health").status_code == 200
        assert httpx.get(f"http://127.0.0.1:{admin_port}/metrics").status_code == 200
        with pytest.raises(httpx.ConnectError):  # another address of the host: not bound
            httpx.get(f"http://127.0.0.2:{admin_port}/metrics")
    finally:
        stop(server)


def test_exposed_admin_listener_without_a_key_refuses_metrics_and_reload(tmp_path: Path) -> None:
    """Bound beyond loopback with no admin key, the admin listener answers the probes'
    /-/ready and refuses the rest (403 saying to set admin.key), /metrics first."""
    port, admin_port = free_port(), free_port()
    server = start_gateway(
        mock_directory(tmp_path), port, None, admin_port, "--admin-host", "0.0.0.0"
    )
    try:
        base = f"http://127.0.0.1:{admin_port}"
        assert httpx.get(f"{base}/-/ready").status_code == 200
        for method, path in [("GET", "/metrics"), ("POST", "/-/reload"), ("GET", "/-/workers")]:
            refused = httpx.request(method, base + path)
            assert refused.status_code == 403, path
            assert "set admin.key in gateway.yaml" in refused.json()["error"]["message"]
        assert httpx.get(f"{base}/-/api/subscriptions").status_code == 403
    finally:
        stop(server)
    assert "warning: the admin listener is bound to 0.0.0.0" in output_of(server)


def test_exposed_admin_listener_with_a_key_serves_metrics_to_the_key(tmp_path: Path) -> None:
    port, admin_port = free_port(), free_port()
    directory = mock_directory(tmp_path, f"admin: {{key: {KEY}}}")
    server = start_gateway(directory, port, None, admin_port, "--admin-host", "0.0.0.0")
    try:
        base = f"http://127.0.0.1:{admin_port}"
        assert httpx.get(f"{base}/metrics").status_code == 401
        authorized = {"authorization": f"Bearer {KEY}"}
        assert httpx.get(f"{base}/metrics", headers=authorized).status_code == 200
    finally:
        stop(server)
    assert "warning" not in output_of(server)


def test_only_loopback_addresses_count_as_private() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("10.0.0.5")
    assert not is_loopback("gateway.internal")
