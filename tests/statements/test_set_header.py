"""set-header with a value HTTP cannot carry: a CR/LF (or another control character) that an
expression took from the client's input, toward the client or toward the backend.

Before, the header reached the server as it wrote the response, which refused it: the client
got no answer at all while the access log said 200 (toward the backend, the HTTP client
refused it: a bare 500 outside the policy, which on-error never saw). Now set-header raises
the policy error `HeaderValueInvalid` (or `HeaderNameInvalid`): on-error sees it in
`context.LastError`, and without one the client gets APIM's 500 envelope, logged as such.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from gateway.common.diagnostics import Report
from gateway.policy.compiler import Compiler
from gateway.policy.expression_check import ExpressionChecker
from gateway.policy.xml_reader import read_xml
from gateway.statements import default_registry
from tests.proxy.observed import Gateway, observed_directory
from tests.proxy.processes import chat_calls, free_port

PROVIDER_PORT = free_port()


def query(name: str, default: str = "ok") -> str:
    return (
        f"@(context.Request.Url.Query.GetValueOrDefault(&quot;{name}&quot;, &quot;{default}&quot;))"
    )


GATEWAY_YAML = f"""
backends:
  provider: {{url: "http://127.0.0.1:{PROVIDER_PORT}/v1"}}
apis:
  echo: {{path: echo, style: openai, backend: provider, subscription-required: false}}
  caught: {{path: caught, style: openai, backend: provider, subscription-required: false}}
  reply: {{path: reply, style: openai, backend: provider, subscription-required: false}}
"""
# The query's `up` goes to the backend in x-up; its `h` back to the client in x-echo.
ECHO = f"""<policies>
    <inbound><base />
        <set-header name="x-up" exists-action="override"><value>{query("up")}</value></set-header>
    </inbound>
    <backend><base /></backend>
    <outbound><base />
        <set-header name="x-echo" exists-action="override"><value>{query("h")}</value></set-header>
    </outbound>
    <on-error><base /></on-error>
</policies>"""
# The same, with an on-error that answers with what LastError says.
CAUGHT = ECHO.replace(
    "<on-error><base /></on-error>",
    """<on-error><base />
        <return-response>
            <set-status code="400" reason="Bad header" />
            <set-body>@(context.LastError.Source + "|" + context.LastError.Reason + "|" + context.LastError.Section + "|" + context.LastError.Message)</set-body>
        </return-response>
    </on-error>""",
)
# return-response's own set-header, its name computed too (the query's `n`).
REPLY = f"""<policies>
    <inbound><base />
        <return-response>
            <set-status code="200" reason="OK" />
            <set-header name="{query("n", "x-reply")}" exists-action="override"><value>{query("h")}</value></set-header>
        </return-response>
    </inbound>
</policies>"""

# What an attacker puts in a query parameter, decoded there: a header line of their own, a
# bare LF, a NUL, DEL.
INJECTIONS = ["a\r\nSet-Cookie: session=attacker", "a\nX-Evil: 1", "a\x00b", "a\x7fb"]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    apis = {"echo": ECHO, "caught": CAUGHT, "reply": REPLY}
    yield from observed_directory(
        tmp_path_factory.mktemp("headers"), GATEWAY_YAML, apis, PROVIDER_PORT
    )


def call(gateway: Gateway, api: str, params: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{gateway.base}/{api}/chat/completions",
        params=params,
        json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
        timeout=10,
    )


def refused_as_logged(gateway: Gateway, answer: httpx.Response, status: int = 500) -> None:
    """A well-formed error response, the header not in it, and the access log's line says the
    status the client got."""
    assert answer.status_code == status
    assert "set-cookie" not in answer.headers and "x-evil" not in answer.headers
    assert "x-echo" not in answer.headers
    line = gateway.line_of(answer.headers["x-request-id"])
    assert (line["status"], line["api"]) == (status, answer.request.url.path.split("/")[1])


@pytest.mark.parametrize("value", INJECTIONS)
def test_a_crlf_injected_into_a_response_header_gets_a_500_not_a_dropped_connection(
    gateway: Gateway, value: str
) -> None:
    answer = call(gateway, "echo", {"h": value})
    refused_as_logged(gateway, answer)
    body = answer.json()
    assert body["statusCode"] == 500 and "control character" in body["message"]
    assert body["error"]["code"] == "header_value_invalid"


def test_a_crlf_injected_into_a_response_header_is_an_sdk_error(gateway: Gateway) -> None:
    client = openai.OpenAI(base_url=f"{gateway.base}/echo", api_key="-", max_retries=0)
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(
            model="m",
            messages=[{"role": "user", "content": "hi"}],
            extra_query={"h": INJECTIONS[0]},
        )
    assert raised.value.status_code == 500 and raised.value.code == "header_value_invalid"
    # A value without one still passes.
    assert call(gateway, "echo", {"h": "fine\tvalue"}).headers["x-echo"] == "fine\tvalue"


@pytest.mark.parametrize("value", INJECTIONS[:3])
def test_a_crlf_injected_into_a_request_header_never_reaches_the_backend(
    gateway: Gateway, value: str
) -> None:
    before = chat_calls(PROVIDER_PORT)
    answer = call(gateway, "echo", {"up": value})
    refused_as_logged(gateway, answer)
    assert "control character" in answer.json()["message"]
    assert chat_calls(PROVIDER_PORT) == before


@pytest.mark.parametrize(("direction", "section"), [("h", "outbound"), ("up", "inbound")])
def test_on_error_catches_a_crlf_injected_into_a_header(
    gateway: Gateway, direction: str, section: str
) -> None:
    answer = call(gateway, "caught", {direction: INJECTIONS[0]})
    refused_as_logged(gateway, answer, 400)
    source, reason, where, message = answer.text.split("|")
    assert (source, reason, where) == ("set-header", "HeaderValueInvalid", section)
    assert "'x-echo'" in message or "'x-up'" in message


def test_a_crlf_injected_into_a_returned_response_header_or_its_name_gets_a_500(
    gateway: Gateway,
) -> None:
    refused_as_logged(gateway, call(gateway, "reply", {"h": INJECTIONS[0]}))
    named = call(gateway, "reply", {"n": "x-a\r\nSet-Cookie: session=attacker"})
    refused_as_logged(gateway, named)
    assert named.json()["error"]["code"] == "header_name_invalid"
    spaced = call(gateway, "reply", {"n": "x a"})  # not a token: the server refuses it too
    refused_as_logged(gateway, spaced)
    fine = call(gateway, "reply", {"n": "x-fine", "h": "v"})
    assert (fine.status_code, fine.headers["x-fine"]) == (200, "v")


@pytest.mark.parametrize(
    ("statement", "rule"),
    [
        (
            '<set-header name="x-a" exists-action="override"><value>a&#13;&#10;b</value></set-header>',
            "header-value",
        ),
        (
            '<set-header name="x a" exists-action="override"><value>v</value></set-header>',
            "header-name",
        ),
        (
            '<set-header name="x:a" exists-action="append"><value>v</value></set-header>',
            "header-name",
        ),
    ],
)
def test_a_literal_header_http_cannot_carry_is_a_load_error(statement: str, rule: str) -> None:
    report = Report()
    document = read_xml(f"<policies><inbound>{statement}</inbound></policies>", "p.xml", report)
    assert document is not None
    Compiler(default_registry(), ExpressionChecker({}), report).document(document.root)
    assert [d.rule for d in report] == [rule]
