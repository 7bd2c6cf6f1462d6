"""`context.Request.Url`'s host and port come from each request's Host header (the scheme's
port when it names none; the server's address when there is none), whichever Host the
requests before it sent."""

from __future__ import annotations

from pathlib import Path

from gateway.load import load_gateway
from gateway.proxy.app import create_app
from gateway.proxy.live import Live
from tests.proxy.asgi_calls import body_of

POLICY = """<policies>
    <inbound>
        <return-response>
            <set-status code="200" reason="OK" />
            <set-body>@(context.Request.Url.Host + " " + context.Request.Url.Port.ToString() + " " + context.Request.IpAddress)</set-body>
        </return-response>
    </inbound>
</policies>"""


def test_each_request_gets_its_own_hosts_url(tmp_path: Path) -> None:
    (tmp_path / "gateway.yaml").write_text(
        'backends: {b: {url: "http://127.0.0.1:9/v1", provider: openai}}\n'
        "apis: {llm: {path: v1, style: openai, backend: b, subscription-required: false}}\n"
    )
    (tmp_path / "global.xml").write_text(POLICY)
    app = create_app(Live(load_gateway(tmp_path)))

    def url_of(host: bytes | None, scheme: str = "http", client: str = "10.0.0.1") -> str:
        headers = [(b"host", host)] if host is not None else []
        return body_of(app, "POST", "/v1/chat/completions", headers, scheme, client)

    for _ in range(2):  # the second time, what the first requests left must not matter
        assert url_of(b"api.example.com:8080") == "api.example.com 8080 10.0.0.1"
        assert url_of(b"api.example.com") == "api.example.com 80 10.0.0.1"
        assert url_of(b"api.example.com", "https", "10.0.0.2") == "api.example.com 443 10.0.0.2"
        assert url_of(b"[::1]:9000") == "::1 9000 10.0.0.1"
        assert url_of(None) == "192.0.2.7 8443 10.0.0.1"
