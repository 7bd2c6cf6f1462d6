"""A backend's credentials (gateway.proxy.credentials): read once per generation, and what
every call to the backend shares of its head, made once: its credential header lines and the
client's headers they replace."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config.backends import Backend, Credentials
from gateway.config.secrets import ConfigValue
from gateway.proxy.credentials import HOP_BY_HOP
from gateway.proxy.credentials import Credentials as BackendCredentials
from gateway.proxy.http1 import request_head


def backend(headers: dict[str, str], api_key: str | None = "sk-1") -> Backend:
    return Backend(
        id="b",
        url=ConfigValue("http://127.0.0.1:9/v1"),
        api_key=ConfigValue(api_key) if api_key is not None else None,
        credentials=Credentials(headers={k: ConfigValue(v) for k, v in headers.items()}),
    )


# A client's headers as they may come: Latin-1 bytes beyond ASCII, and a policy's text beyond
# Latin-1 (which turns the whole head to UTF-8).
CLIENT = [
    [("Content-Type", "application/json"), ("X-Seen", "caf\xc3\xa9")],
    [("X-Policy", "\u20ac"), ("Accept", "*/*")],
    [],
]


@pytest.mark.parametrize("client", CLIENT)
def test_the_fixed_lines_make_the_head_the_per_call_way_makes(
    client: list[tuple[str, str]],
) -> None:
    resolved = BackendCredentials().resolved(backend({"X-Team": "blue", "X-Two": "2"}))
    assert resolved.lines is not None
    for framing in ("", "Content-Length: 2\r\n"):
        per_call = request_head("POST", "/v1/x", "h:1", client + resolved.headers, framing)
        fixed = request_head("POST", "/v1/x", "h:1", client, framing, resolved.lines)
        assert fixed == per_call
    # In the order the per-call way sends them: credentials.header, then the provider's key.
    assert resolved.lines == "X-Team: blue\r\nX-Two: 2\r\nAuthorization: Bearer sk-1\r\n"


def test_the_client_headers_not_sent_on_are_the_hop_by_hop_ones_and_the_replaced() -> None:
    resolved = BackendCredentials().resolved(backend({"X-Team": "blue"}))
    assert resolved.dropped == HOP_BY_HOP | {"x-team", "authorization"}


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Name": "Jos\u00e9"},  # beyond ASCII: its encoding depends on the call's headers
        {"X-Name": "a\r\nInjected: yes"},  # refused by the per-call way: left to it
        {"Content-Length": "0"},  # read by the HTTP client itself (framing)
    ],
)
def test_credentials_the_fixed_lines_cannot_carry_go_the_per_call_way(
    headers: dict[str, str],
) -> None:
    resolved = BackendCredentials().resolved(backend(headers, api_key=None))
    assert resolved.lines is None
    assert resolved.headers == list(headers.items())


def test_a_secret_changed_is_read_by_the_next_generation(tmp_path: Path) -> None:
    secret = tmp_path / "key"
    secret.write_text("old")
    keyed = backend({"X-Key": f"${{file:{secret}}}"}, api_key=None)
    serving = BackendCredentials()
    assert serving.resolved(keyed).lines == "X-Key: old\r\n"
    secret.write_text("new")
    # This generation keeps what it read; a reload's (new Credentials) reads it again.
    assert serving.resolved(keyed).lines == "X-Key: old\r\n"
    reloaded = BackendCredentials().resolved(keyed)
    assert reloaded.lines == "X-Key: new\r\n"
    assert reloaded.headers == [("X-Key", "new")]
