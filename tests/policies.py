"""Policies compiled in memory and run against a request context made of plain values, for the
tests of statements and of the pipeline that runs them."""

from __future__ import annotations

import asyncio
import textwrap

from gateway.common.diagnostics import Report
from gateway.expressions.model import ContextModel, HeaderDictionary, RequestModel, ResponseModel
from gateway.policy.compiler import Compiler
from gateway.policy.expression_check import ExpressionChecker
from gateway.policy.xml_reader import read_xml
from gateway.runtime.context import RequestContext
from gateway.runtime.step import Chain, CompiledPolicy, LocalReply
from gateway.statements import default_registry


def compile_policy(text: str) -> CompiledPolicy:
    """One policy document compiled as the gateway compiles it; any error fails the test."""
    report = Report()
    document = read_xml(
        textwrap.dedent(text), "p.xml", report, raw_markup_tags=frozenset({"set-body"})
    )
    assert document is not None
    policy = Compiler(default_registry(), ExpressionChecker({}), report).document(document.root)
    assert not report.has_errors, [d.format() for d in report]
    return policy


def new_context(headers: dict[str, str] | None = None) -> RequestContext:
    """A POST with these headers, and a response from "upstream" that has an `x-old` header."""
    request = RequestModel(Method="POST", Headers=HeaderDictionary(headers or {}))
    response = ResponseModel(Headers=HeaderDictionary({"Server": "upstream", "x-old": "1"}))
    return RequestContext(ContextModel(Request=request, Response=response))


def run(chain: Chain, context: RequestContext) -> LocalReply | None:
    """Run one chain to its end: None, or the local reply that ended it."""
    return asyncio.run(chain.run(context))
