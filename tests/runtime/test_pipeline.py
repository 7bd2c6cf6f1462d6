"""The pipeline: sections in order, local replies end it, errors go through on-error."""

from __future__ import annotations

import asyncio

from gateway.expressions.model import ContextModel
from gateway.runtime.context import RequestContext
from gateway.runtime.pipeline import run_pipeline
from gateway.runtime.step import CompiledPolicy, LocalReply
from tests.policies import compile_policy

CHECK = (
    '<check-header name="x-tier" failed-check-httpcode="403" '
    'failed-check-error-message="Tier required" ignore-case="true" />'
)


def run(policy: CompiledPolicy) -> tuple[LocalReply | None, RequestContext]:
    context = RequestContext(ContextModel())
    return asyncio.run(run_pipeline(policy, context)), context


def test_sections_run_in_order_and_none_means_send_the_response() -> None:
    policy = compile_policy(
        """
        <policies>
            <inbound><set-variable name="trail" value="in" /></inbound>
            <backend><set-variable name="trail" value="@((string)context.Variables[&quot;trail&quot;] + &quot;,back&quot;)" /></backend>
            <outbound><set-variable name="trail" value="@((string)context.Variables[&quot;trail&quot;] + &quot;,out&quot;)" /></outbound>
        </policies>
        """
    )
    reply, context = run(policy)
    assert reply is None
    assert context.variables["trail"] == "in,back,out"


def test_a_local_reply_ends_the_request() -> None:
    policy = compile_policy(
        """
        <policies>
            <inbound><return-response><set-status code="202" reason="Accepted" /></return-response></inbound>
            <outbound><set-variable name="outbound" value="ran" /></outbound>
        </policies>
        """
    )
    reply, context = run(policy)
    assert reply == LocalReply(202, "Accepted", [], b"")
    assert "outbound" not in context.variables


def test_an_error_without_on_error_gets_apims_envelope() -> None:
    reply, context = run(compile_policy(f"<policies><inbound>{CHECK}</inbound></policies>"))
    assert reply == LocalReply(
        403,
        "Forbidden",
        [("Content-Type", "application/json")],
        b'{ "statusCode": 403, "message": "Tier required" }',
    )
    last = context.model.LastError
    assert last is not None
    assert (last.Source, last.Reason, last.Section, last.Scope) == (
        "check-header",
        "HeaderNotFound",
        "inbound",
        "api",
    )


def test_on_error_sees_last_error_and_can_answer_its_own_way() -> None:
    policy = compile_policy(
        f"""
        <policies>
            <inbound>{CHECK}<set-variable name="after" value="never" /></inbound>
            <on-error>
                <choose>
                    <when condition="@(context.LastError.Reason == &quot;HeaderNotFound&quot; &amp;&amp; context.Response.StatusCode == 403)">
                        <return-response>
                            <set-status code="400" reason="Bad Request" />
                            <set-body>@("missing: " + context.LastError.Source)</set-body>
                        </return-response>
                    </when>
                </choose>
            </on-error>
        </policies>
        """
    )
    reply, context = run(policy)
    assert reply == LocalReply(400, "Bad Request", [], b"missing: check-header")
    assert "after" not in context.variables


def test_on_error_changes_to_the_response_are_kept() -> None:
    policy = compile_policy(
        f"""
        <policies>
            <inbound>{CHECK}</inbound>
            <on-error>
                <set-header name="x-error" exists-action="override"><value>@(context.LastError.Reason)</value></set-header>
            </on-error>
        </policies>
        """
    )
    reply, _ = run(policy)
    assert reply is not None
    assert reply.status == 403
    assert ("x-error", "HeaderNotFound") in reply.headers
    assert reply.body == b'{ "statusCode": 403, "message": "Tier required" }'
