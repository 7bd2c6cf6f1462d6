"""A backend that cannot be reached: the client learns which backend (by its gateway.yaml
name) and why in general terms, never its host, its port or the HTTP client's own words;
those go to the gateway's log.

Before, the client's 500 said `The backend 127.0.0.1:PORT could not be reached: Cannot
connect to host 127.0.0.1:PORT ssl:default [Connect call failed ('127.0.0.1', PORT)]`
(or the resolver's or the TLS library's message), and so did `context.LastError.Message`.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.proxy.observed import Gateway, observed_directory
from tests.proxy.processes import free_port, inject_faults, output_of
from tests.proxy.retry_policy import RETRY

PROVIDER_PORT = free_port()
CLOSED_PORT = free_port()  # nothing listens there
NO_HOST = "no-such-host.invalid"
# What must not reach a client: where the backends are, and the HTTP client's own words.
LEAKS = [
    "127.0.0.1",
    str(CLOSED_PORT),
    str(PROVIDER_PORT),
    NO_HOST,
    "Cannot connect",
    "ssl:",
    "SSL",
    "Errno",
    "Connect call failed",
    "payload",
    "Name or service",
]

GATEWAY_YAML = f"""
identity: {{endpoint: "http://127.0.0.1:{CLOSED_PORT}/msi/token"}}
backends:
  closed-backend: {{url: "http://127.0.0.1:{CLOSED_PORT}/v1"}}
  unknown-host: {{url: "http://{NO_HOST}:{CLOSED_PORT}/v1"}}
  not-tls: {{url: "https://127.0.0.1:{PROVIDER_PORT}/v1"}}
  provider: {{url: "http://127.0.0.1:{PROVIDER_PORT}/v1"}}
  m0: {{url: "http://127.0.0.1:{CLOSED_PORT}/v1"}}
  m1: {{url: "http://{NO_HOST}:{CLOSED_PORT}/v1"}}
  pool: {{pool: {{services: [m0, m1]}}}}
apis:
  closed: {{path: closed, style: openai, backend: closed-backend, subscription-required: false}}
  dns: {{path: dns, style: openai, backend: unknown-host, subscription-required: false}}
  tls: {{path: tls, style: openai, backend: not-tls, subscription-required: false}}
  cut: {{path: cut, style: openai, backend: provider, subscription-required: false}}
  retried: {{path: retried, style: openai, backend: pool, subscription-required: false}}
  caught: {{path: caught, style: openai, backend: closed-backend, subscription-required: false}}
  side: {{path: side, style: openai, backend: provider, subscription-required: false}}
  token: {{path: token, style: openai, backend: provider, subscription-required: false}}
"""
# An on-error that writes LastError.Message into its answer, as many policies do.
CAUGHT = """<policies>
    <inbound><base /></inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
    <on-error><base />
        <return-response>
            <set-status code="502" reason="Bad Gateway" />
            <set-body>@(context.LastError.Reason + ": " + context.LastError.Message)</set-body>
        </return-response>
    </on-error>
</policies>"""
SIDE = f"""<policies>
    <inbound><base />
        <send-request mode="new" response-variable-name="r" timeout="5">
            <set-url>http://127.0.0.1:{CLOSED_PORT}/check</set-url>
        </send-request>
    </inbound>
</policies>"""


TOKEN = """<policies>
    <inbound><base />
        <authentication-managed-identity resource="https://cognitiveservices.azure.com" />
    </inbound>
</policies>"""


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    apis = {"retried": RETRY.format(timeout=5), "caught": CAUGHT, "side": SIDE, "token": TOKEN}
    root = tmp_path_factory.mktemp("unreachable")
    yield from observed_directory(root, GATEWAY_YAML, apis, PROVIDER_PORT)


def chat(gateway: Gateway, api: str, **extra: object) -> httpx.Response:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}], **extra}
    return httpx.post(f"{gateway.base}/{api}/chat/completions", json=body, timeout=20)


def assert_no_leak(answer: httpx.Response) -> None:
    said = answer.text + "".join(f"{k}: {v}\n" for k, v in answer.headers.items())
    assert [leak for leak in LEAKS if leak in said] == []


@pytest.mark.parametrize(
    ("api", "backend", "why"),
    [
        ("closed", "closed-backend", "the connection was refused"),
        ("dns", "unknown-host", "its host name could not be resolved"),
        ("tls", "not-tls", "the TLS handshake failed"),
    ],
)
def test_an_unreachable_backend_is_named_without_its_host_port_or_client_error(
    gateway: Gateway, api: str, backend: str, why: str
) -> None:
    answer = chat(gateway, api)
    assert answer.status_code == 500
    assert_no_leak(answer)
    assert answer.json()["message"] == f"The backend '{backend}' could not be reached: {why}."
    assert answer.json()["error"]["code"] == "backend_connection_failure"
    # The detail is the operator's: in the gateway's log, under the request's id.
    request_id = answer.headers["x-request-id"]
    logged = [line for line in output_of(gateway.process).splitlines() if request_id in line]
    assert any(f":{CLOSED_PORT if api != 'tls' else PROVIDER_PORT}" in line for line in logged)
    assert gateway.line_of(request_id)["status"] == 500


def test_an_unreachable_backend_is_an_sdk_error_without_its_host(gateway: Gateway) -> None:
    client = openai.OpenAI(base_url=f"{gateway.base}/closed", api_key="-", max_retries=0)
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert [leak for leak in LEAKS if leak in str(raised.value)] == []
    assert "closed-backend" in str(raised.value)


def test_a_retried_pool_whose_members_all_fail_names_neither_host(gateway: Gateway) -> None:
    answer = chat(gateway, "retried")
    assert answer.status_code == 500
    assert_no_leak(answer)
    assert answer.json()["message"].startswith("The backend 'm")


def test_last_error_message_of_an_unreachable_backend_names_no_host(gateway: Gateway) -> None:
    answer = chat(gateway, "caught")
    assert answer.status_code == 502
    assert_no_leak(answer)
    assert answer.text == (
        "BackendConnectionFailure: The backend 'closed-backend' could not be reached: "
        "the connection was refused."
    )


def test_a_send_request_to_an_unreachable_url_names_no_host(gateway: Gateway) -> None:
    answer = chat(gateway, "side")
    assert answer.status_code == 500
    assert_no_leak(answer)
    assert answer.json()["message"] == ("The send-request call failed: the connection was refused.")


def test_a_backend_that_cuts_its_answer_is_reported_without_the_client_error(
    gateway: Gateway,
) -> None:
    inject_faults(PROVIDER_PORT, mode="reset", times=2)
    whole = chat(gateway, "cut")
    assert whole.status_code == 500
    assert_no_leak(whole)
    with httpx.stream(
        "POST",
        f"{gateway.base}/cut/chat/completions",
        json={"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]},
        timeout=20,
    ) as streamed:
        events = [line for line in streamed.iter_lines() if line.startswith("data:")]
    assert '"stream_broken"' in events[-1]
    assert [leak for leak in LEAKS if leak in events[-1]] == []
    assert "its answer ended before its length or its last chunk" in events[-1]


def test_an_unreachable_identity_endpoint_names_no_host(gateway: Gateway) -> None:
    answer = chat(gateway, "token")
    assert answer.status_code == 500
    assert_no_leak(answer)
    assert "endpoint could not be reached (the connection was refused)" in answer.text
