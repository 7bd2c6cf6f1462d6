"""set-status with a status HTTP cannot send, computed by an expression from the client's
input: before, the server failed on it as it wrote the response, so the client got no answer
at all while the access log recorded the status; now it is a policy error (500)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.proxy.observed import Gateway, observed_directory
from tests.proxy.processes import free_port

GATEWAY_YAML = f"""
backends:
  nowhere: {{url: "http://127.0.0.1:{free_port()}/v1"}}
apis:
  status: {{path: status, style: openai, backend: nowhere, subscription-required: false}}
"""
CODE = "@(context.Request.Url.Query.GetValueOrDefault(&quot;code&quot;, &quot;200&quot;))"
POLICY = f"""<policies>
    <inbound><base />
        <return-response><set-status code="{CODE}" reason="Computed" /></return-response>
    </inbound>
    <on-error><base />
        <set-header name="x-reason" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
    </on-error>
</policies>"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    yield from observed_directory(
        tmp_path_factory.mktemp("status"), GATEWAY_YAML, {"status": POLICY}
    )


@pytest.mark.parametrize("code", ["1000", "600", "99", "0", "-200", "2OO"])
def test_a_status_http_cannot_send_gets_a_500_not_a_dropped_connection(
    gateway: Gateway, code: str
) -> None:
    answer = httpx.post(f"{gateway.base}/status/chat/completions", params={"code": code})
    assert answer.status_code == 500
    assert answer.headers["x-reason"] == "ExpressionValueEvaluationFailure"
    assert "100 to 599" in answer.json()["message"]
    assert gateway.line_of(answer.headers["x-request-id"])["status"] == 500


@pytest.mark.parametrize("code", ["599", "204", "418"])
def test_a_status_http_can_send_is_sent(gateway: Gateway, code: str) -> None:
    answer = httpx.post(f"{gateway.base}/status/chat/completions", params={"code": code})
    assert answer.status_code == int(code)
