"""set-header, set-status, set-method, set-body, return-response and check-header, as APIM documents them."""

from __future__ import annotations

import pytest

from gateway.common.diagnostics import Report
from gateway.expressions.model import (
    HeaderDictionary,
    MessageBody,
    ResponseModel,
)
from gateway.policy.compiler import Compiler
from gateway.policy.expression_check import ExpressionChecker
from gateway.policy.xml_reader import read_xml
from gateway.runtime.step import LocalReply, PolicyError
from gateway.statements import default_registry
from tests.policies import compile_policy, new_context, run


def test_set_header_actions_on_the_request_and_the_response() -> None:
    policy = compile_policy(
        """
        <policies>
            <inbound>
                <set-header name="x-a" exists-action="override"><value>1</value><value>2</value></set-header>
                <set-header name="User-Agent" exists-action="append"><value>aigw</value></set-header>
                <set-header name="x-keep" exists-action="skip"><value>new</value></set-header>
                <set-header name="api-key" exists-action="delete" />
                <set-header name="Content-Length" exists-action="override"><value>5</value></set-header>
                <set-header name="x-from" exists-action="override">
                    <value>@(context.Request.Method + "-" + context.Request.Headers.GetValueOrDefault("x-keep", ""))</value>
                </set-header>
            </inbound>
            <outbound>
                <set-header name="x-old" exists-action="delete" />
                <set-header name="x-out" exists-action="override"><value>yes</value></set-header>
            </outbound>
        </policies>
        """
    )
    context = new_context(
        {"User-Agent": "sdk", "x-keep": "old", "api-key": "secret", "Content-Length": "9"}
    )
    assert run(policy.inbound, context) is None
    headers = context.model.Request.Headers
    assert headers.get("x-a") == ["1,2"]
    assert headers.get("user-agent") == ["sdk", "aigw"]
    assert headers.get("x-keep") == ["old"]
    assert headers.get("api-key") is None
    assert headers.get("content-length") == ["9"]
    assert headers.get("x-from") == ["POST-old"]
    run(policy.outbound, context)
    assert context.model.Response.Headers.lines() == [("Server", "upstream"), ("x-out", "yes")]


def test_set_header_with_its_name_and_action_from_expressions() -> None:
    policy = compile_policy(
        """
        <policies>
            <inbound>
                <set-header name="@(&quot;x-&quot; + context.Request.Method)" exists-action="@(&quot;append&quot;)">
                    <value>a</value><value>b</value>
                </set-header>
                <set-header name="@(&quot;Set-Cookie&quot;)" exists-action="override"><value>c=1</value><value>d=2</value></set-header>
                <set-header name="x-gone" exists-action="@(&quot;delete&quot;)" />
                <set-header name="@(&quot;Connection&quot;)" exists-action="override"><value>close</value></set-header>
            </inbound>
        </policies>
        """
    )
    context = new_context({"x-POST": "z", "x-gone": "1", "Connection": "keep-alive"})
    assert run(policy.inbound, context) is None
    headers = context.model.Request.Headers
    assert headers.get("x-post") == ["z", "a,b"]
    assert headers.get("set-cookie") == ["c=1", "d=2"]  # one line per value
    assert headers.get("x-gone") is None
    assert headers.get("connection") == ["keep-alive"]  # the transport's own


def test_set_status_method_and_body() -> None:
    policy = compile_policy(
        """
        <policies>
            <inbound>
                <set-method>put</set-method>
                <set-body>@(new JObject(new JProperty("model", "gpt-4o")))</set-body>
            </inbound>
            <outbound>
                <set-status code="@(201)" reason="Created" />
                <set-body><note>literal &amp; kept</note></set-body>
            </outbound>
        </policies>
        """
    )
    context = new_context()
    run(policy.inbound, context)
    assert context.model.Request.Method == "PUT"
    body = context.model.Request.Body
    assert body is not None and body.read(preserve=True) == b'{\n  "model": "gpt-4o"\n}'
    run(policy.outbound, context)
    assert (context.model.Response.StatusCode, context.model.Response.StatusReason) == (
        201,
        "Created",
    )
    response_body = context.model.Response.Body
    assert (
        response_body is not None
        and response_body.read(preserve=True) == b"<note>literal &amp; kept</note>"
    )


def test_return_response_stops_the_chain_with_its_reply() -> None:
    policy = compile_policy(
        """
        <policies>
            <inbound>
                <return-response>
                    <set-status code="429" reason="Too Many Requests" />
                    <set-header name="Retry-After" exists-action="override"><value>7</value></set-header>
                    <set-body>@("{\\"error\\": \\"" + context.Request.Method + "\\"}")</set-body>
                </return-response>
                <set-variable name="never" value="reached" />
            </inbound>
        </policies>
        """
    )
    context = new_context()
    reply = run(policy.inbound, context)
    assert reply == LocalReply(
        429, "Too Many Requests", [("Retry-After", "7")], b'{"error": "POST"}'
    )
    assert "never" not in context.variables


def test_return_response_from_a_stored_response_variable() -> None:
    policy = compile_policy(
        """
        <policies>
            <inbound>
                <return-response response-variable-name="upstream">
                    <set-header name="x-added" exists-action="override"><value>1</value></set-header>
                </return-response>
            </inbound>
        </policies>
        """
    )
    context = new_context()
    context.variables["upstream"] = ResponseModel(
        StatusCode=404,
        StatusReason="Not Found",
        Headers=HeaderDictionary({"x-up": "a"}),
        Body=MessageBody(b"nope"),
    )
    reply = run(policy.inbound, context)
    assert reply == LocalReply(404, "Not Found", [("x-up", "a"), ("x-added", "1")], b"nope")


CHECK = """
<policies>
    <inbound>
        <check-header name="x-tier" failed-check-httpcode="403" failed-check-error-message="Tier not allowed"
                      ignore-case="true" id="tier-check">
            <value>gold</value>
            <value>silver</value>
        </check-header>
    </inbound>
</policies>
"""


@pytest.mark.parametrize(
    ("headers", "reason"),
    [({}, "HeaderNotFound"), ({"X-Tier": "bronze"}, "HeaderValueNotAllowed")],
)
def test_check_header_rejects_with_the_configured_status(
    headers: dict[str, str], reason: str
) -> None:
    policy = compile_policy(CHECK)
    with pytest.raises(PolicyError) as caught:
        run(policy.inbound, new_context(headers))
    error = caught.value
    assert (error.source, error.reason, error.status, error.message) == (
        "check-header",
        reason,
        403,
        "Tier not allowed",
    )
    assert error.policy_id == "tier-check"


def test_check_header_accepts_a_listed_value_ignoring_case() -> None:
    assert run(compile_policy(CHECK).inbound, new_context({"x-tier": "GOLD"})) is None


def test_a_fragment_in_two_sections_changes_the_right_message_in_each() -> None:
    from gateway.policy.scopes import inline_fragments

    fragment = read_xml(
        '<fragment><set-header name="x-f" exists-action="override"><value>1</value></set-header></fragment>',
        "fragments/f.xml",
        Report(),
    )
    document = read_xml(
        '<policies><inbound><include-fragment fragment-id="f" /></inbound>'
        '<outbound><include-fragment fragment-id="f" /></outbound></policies>',
        "p.xml",
        Report(),
    )
    assert fragment is not None and document is not None
    merged = inline_fragments(document.root, {"f": fragment.root})
    report = Report()
    policy = Compiler(default_registry(), ExpressionChecker({}), report).document(merged)
    context = new_context()
    run(policy.inbound, context)
    run(policy.outbound, context)
    assert context.model.Request.Headers.get("x-f") == ["1"]
    assert context.model.Response.Headers.get("x-f") == ["1"]
