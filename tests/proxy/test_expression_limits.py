"""A policy expression's limits in a running gateway: a backtracking regular expression fed
by a client's header fails that request through on-error (as .NET's
RegexMatchTimeoutException does in APIM) instead of stalling every request of the process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.proxy.processes import free_port, serving

GATEWAY_YAML = f"""
backends:
  nowhere: {{url: "http://127.0.0.1:{free_port()}/v1"}}
apis:
  names:
    path: names
    backend: nowhere
    subscription-required: false
    operations: [{{id: check, method: GET, url-template: /check}}]
"""

POLICY = """<policies>
    <inbound>
        <base />
        <choose>
            <when condition='@(Regex.IsMatch(context.Request.Headers.GetValueOrDefault("x-name", ""), "^(a|a)+$"))'>
                <return-response><set-status code="200" reason="OK" /></return-response>
            </when>
        </choose>
        <return-response><set-status code="204" reason="No Match" /></return-response>
    </inbound>
    <on-error>
        <return-response>
            <set-status code="422" reason="Expression Failed" />
            <set-body>@(context.LastError.Message)</set-body>
        </return-response>
    </on-error>
</policies>"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("regex")
    (root / "gateway.yaml").write_text(GATEWAY_YAML)
    (root / "apis" / "names").mkdir(parents=True)
    (root / "apis" / "names" / "check.xml").write_text(POLICY)
    with serving(root) as url:
        yield url


def test_a_backtracking_regex_on_a_client_header_fails_the_request_not_the_process(
    gateway: str,
) -> None:
    # 26 characters: 2**26 ways to fail with `re`, about ten seconds of a stalled event loop.
    evil = httpx.get(f"{gateway}/names/check", headers={"x-name": "a" * 26 + "!"}, timeout=60)
    assert evil.status_code == 422, evil.text
    assert "RegexMatchTimeoutException" in evil.text
    # The process serves on: the same pattern on ordinary input answers as before.
    assert httpx.get(f"{gateway}/names/check", headers={"x-name": "aaa"}).status_code == 200
    assert httpx.get(f"{gateway}/names/check", headers={"x-name": "b"}).status_code == 204
