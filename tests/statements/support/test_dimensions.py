"""A dimension's literal name is its text from load on: the dimensions a request gets are what
evaluating every name per request gave, in the same order."""

from __future__ import annotations

from gateway.common.diagnostics import Report
from gateway.expressions import compile_expression
from gateway.expressions.model import ApiModel, ContextModel
from gateway.policy.compiling import CompileContext
from gateway.policy.xml_reader import read_xml
from gateway.runtime.context import RequestContext
from gateway.runtime.step import Chain
from gateway.statements.support.dimensions import compile_dimensions

STATEMENT = """<emit-metric name="m">
  <dimension name="API ID" />
  <dimension name="{{team}}" value="@(6 + 1)" />
  <dimension name="@(context.Api.Id + &quot;-x&quot;)" value="v" />
  <dimension name="Subscription ID" value="given" />
</emit-metric>"""


def test_literal_and_expression_names_give_the_texts_per_request() -> None:
    report = Report()
    document = read_xml(STATEMENT, "p.xml", report)
    assert document is not None and not report.has_errors
    context = CompileContext(
        report=report,
        compile_chain=lambda nodes: Chain(),
        compile_expression=lambda value: compile_expression(value.text),
        resolve_literal=lambda text: text.replace("{{team}}", "Team"),
    )
    dimensions = compile_dimensions(document.root, context)
    for api in ("a", "b"):  # twice: nothing of one request stays for the next
        request = RequestContext(ContextModel(Api=ApiModel(Id=api)))
        found = dimensions(request)
        assert list(found.items()) == [
            ("API ID", api),
            ("Team", "7"),
            (f"{api}-x", "v"),
            ("Subscription ID", "given"),
        ]
