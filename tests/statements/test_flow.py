"""Compiled chains run: choose picks its branch, set-variable stores, failures raise PolicyError."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from gateway.common.diagnostics import Report
from gateway.expressions.model import ContextModel, HeaderDictionary, RequestModel
from gateway.policy.compiler import Compiler
from gateway.policy.expression_check import ExpressionChecker
from gateway.policy.xml_reader import read_xml
from gateway.runtime.context import RequestContext
from gateway.runtime.step import CompiledPolicy, PolicyError
from gateway.statements import default_registry

POLICY = """
<policies>
    <inbound>
        <set-variable name="tier" value="@(context.Request.Headers.GetValueOrDefault("x-tier", "basic"))" />
        <set-variable name="greeting" value="hello {{tenant}}" />
        <choose>
            <when condition="@((string)context.Variables["tier"] == "gold")">
                <set-variable name="limit" value="@(100000)" />
            </when>
            <when condition="true">
                <set-variable name="limit" value="@(1000)" />
            </when>
        </choose>
        <set-variable name="doubled" value="@((int)context.Variables["limit"] * 2)" />
    </inbound>
    <on-error>
        <set-variable name="handled" value="yes" />
    </on-error>
</policies>
"""


def compile_policy(text: str, report: Report) -> CompiledPolicy:
    document = read_xml(textwrap.dedent(text), "p.xml", report)
    assert document is not None
    checker = ExpressionChecker({"tenant": "contoso"})
    return Compiler(default_registry(), checker, report).document(document.root)


def run_inbound(policy: CompiledPolicy, headers: dict[str, str]) -> dict[str, object]:
    context = RequestContext(ContextModel(Request=RequestModel(Headers=HeaderDictionary(headers))))
    assert asyncio.run(policy.inbound.run(context)) is None
    return context.variables


def test_choose_and_set_variable_run_compiled() -> None:
    report = Report()
    policy = compile_policy(POLICY, report)
    assert not report.has_errors, [d.format() for d in report]
    gold = run_inbound(policy, {"X-Tier": "gold"})
    assert gold == {"tier": "gold", "greeting": "hello contoso", "limit": 100000, "doubled": 200000}
    basic = run_inbound(policy, {})
    assert (basic["tier"], basic["limit"], basic["doubled"]) == ("basic", 1000, 2000)
    assert len(policy.on_error) == 1


def test_runtime_expression_failure_is_a_policy_error_naming_the_statement() -> None:
    report = Report()
    policy = compile_policy(
        '<policies><inbound><set-variable id="first" name="x" '
        'value="@((int)context.Variables[&quot;missing&quot;])" /></inbound></policies>',
        report,
    )
    with pytest.raises(PolicyError) as caught:
        run_inbound(policy, {})
    error = caught.value
    assert (error.source, error.reason, error.status) == (
        "set-variable",
        "ExpressionValueEvaluationFailure",
        500,
    )
    assert error.policy_id == "first"
    assert "use GetValueOrDefault" in error.message


def test_unimplemented_statement_is_a_load_error_not_a_silent_skip() -> None:
    report = Report()
    compile_policy(
        '<policies><outbound><jsonp callback-parameter-name="cb" /></outbound></policies>',
        report,
    )
    [diagnostic] = report.errors
    assert diagnostic.rule == "not-implemented"
    assert "cannot run it yet" in diagnostic.message


def test_policies_that_never_read_the_body_let_it_stream() -> None:
    report = Report()
    reading = compile_policy(
        '<policies><inbound><set-variable name="m" '
        'value="@(context.Request.Body.As&lt;string&gt;(preserveContent: true))" /></inbound></policies>',
        report,
    )
    not_reading = compile_policy(POLICY, report)
    assert reading.reads_request_body is True
    assert not_reading.reads_request_body is False
