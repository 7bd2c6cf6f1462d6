"""Sandbox escapes: a policy expression reaches the request's `context` and a fixed .NET
surface, nothing of the process it runs in.

Policies are written by API owners, not always by whoever runs the gateway, and an expression
that read a file, the environment (where provider and admin keys live), or Python's own
objects would turn a policy into a shell. Names outside the surface are refused when the
expression compiles (the linter and `aigw run` say so with the position); members outside it,
reached at run time through `GetType()` or Python's dunders, are an ExpressionError, which
the pipeline turns into on-error like any failing expression.
"""

from __future__ import annotations

import pytest

from gateway.expressions import ExpressionError, ExpressionSyntaxError, compile_expression
from tests.expressions.context_fixture import prepared_context

REFUSED_AT_COMPILE = [
    '@(System.IO.File.ReadAllText("/etc/passwd"))',
    '@(File.ReadAllText("/etc/passwd"))',
    '@(Environment.GetEnvironmentVariable("AIGW_ADMIN_KEY"))',
    '@(System.Diagnostics.Process.Start("sh"))',
    '@(Type.GetType("System.IO.File"))',
    "@(Activator.CreateInstance(typeof(string)))",
    "@(AppDomain.CurrentDomain)",
    '@(Assembly.Load("System.IO"))',
    '@(new System.Net.WebClient().DownloadString("http://169.254.169.254/"))',
    "@(new System.Net.Http.HttpClient())",
]

REFUSED_AT_RUN = [
    "@(context.GetType().Assembly)",
    '@("".GetType().Assembly.Location)',
    "@(typeof(string).Assembly)",
    '@("".__class__)',
    "@(context.__dict__)",
    "@(context.Request.__class__.__mro__)",
    '@(context.Variables.GetType().GetMethod("Clear"))',
    "@{ dynamic d = context; return d.Secret; }",
]


@pytest.mark.parametrize("source", REFUSED_AT_COMPILE)
def test_reaching_files_processes_network_or_reflection_is_refused_at_load(source: str) -> None:
    with pytest.raises(ExpressionSyntaxError) as caught:
        compile_expression(source)
    assert "not available" in caught.value.message or "unknown name" in caught.value.message


@pytest.mark.parametrize("source", REFUSED_AT_RUN)
def test_reaching_python_or_dotnet_internals_at_run_time_is_an_expression_error(
    source: str,
) -> None:
    expression = compile_expression(source)
    with pytest.raises(ExpressionError) as caught:
        expression.evaluate(prepared_context(), budget=10_000)
    assert "has no" in caught.value.message
