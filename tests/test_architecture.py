"""docs/architecture.md stays true: every module and path it names exists, and its worked
example of a statement runs as a statement."""

from __future__ import annotations

import asyncio
import re
import textwrap
import types
from pathlib import Path

from gateway.common.diagnostics import Report
from gateway.expressions.model import ApiModel, ContextModel, HeaderDictionary, ResponseModel
from gateway.policy.compiler import Compiler
from gateway.policy.expression_check import ExpressionChecker
from gateway.policy.registry import Registry
from gateway.policy.spec import StatementSpec
from gateway.policy.xml_reader import read_xml
from gateway.runtime.context import Phase, RequestContext
from gateway.runtime.phases import run_phase
from gateway.runtime.services import Services
from gateway.statements import default_registry
from tests.conftest import REPO

ARCHITECTURE = REPO / "docs" / "architecture.md"
_PATH = re.compile(r"`((?:gateway|tests|docs|bench|schemas)/[\w/.\-<>]*)`")
_DOTTED = re.compile(r"`(gateway(?:\.\w+)+)`")


def named_paths(text: str) -> set[str]:
    return {m for m in _PATH.findall(text) if "<" not in m}


def test_every_path_and_module_it_names_exists() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    paths = named_paths(text)
    assert len(paths) > 30  # the request's path names its modules
    missing = sorted(p for p in paths if not (REPO / p).exists())
    assert missing == []
    modules = set(_DOTTED.findall(text))
    assert len(modules) > 15  # the layer table names every package
    absent = sorted(
        name
        for name in modules
        if not (REPO / (name.replace(".", "/") + ".py")).exists()
        and not (REPO / name.replace(".", "/") / "__init__.py").exists()
    )
    assert absent == []


def worked_example() -> StatementSpec:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    [code] = [block for block in re.findall(r"```python\n(.*?)```", text, re.S) if "SPEC" in block]
    module = types.ModuleType("emit_status_metric")
    exec(compile(code, str(ARCHITECTURE), "exec"), module.__dict__)
    spec = module.SPEC
    assert isinstance(spec, StatementSpec)
    return spec


class Recorded:
    def __init__(self) -> None:
        self.added: list[tuple[str, float, dict[str, str]]] = []

    def add(self, namespace: str, name: str, value: float, dimensions: dict[str, str]) -> None:
        self.added.append((name, value, dict(dimensions)))


def test_the_worked_example_is_a_statement_that_runs() -> None:
    spec = worked_example()
    registry = Registry([*default_registry().specs(), spec])
    report = Report()
    policy_text = textwrap.dedent(
        """
        <policies><inbound>
            <emit-status-metric name="by-status" label="@(context.Api.Id)" />
        </inbound></policies>
        """
    )
    document = read_xml(policy_text, "p.xml", report)
    assert document is not None
    policy = Compiler(registry, ExpressionChecker({}), report).document(document.root)
    assert not report.has_errors, [d.format() for d in report]
    metrics = Recorded()
    response = ResponseModel(StatusCode=201, Headers=HeaderDictionary())
    context = RequestContext(
        ContextModel(Api=ApiModel(Id="shop"), Response=response),
        services=Services(metrics=metrics),
    )

    async def scenario() -> None:
        assert await policy.inbound.run(context) is None
        assert metrics.added == []  # deferred: nothing until the response is final
        await run_phase(context, Phase.DONE)

    asyncio.run(scenario())
    assert metrics.added == [("by-status", 1, {"status": "201", "label": "shop"})]


def test_a_missing_module_is_found() -> None:
    assert named_paths("see `gateway/proxy/nowhere.py` and `gateway/<x>.py`") == {
        "gateway/proxy/nowhere.py"
    }
    assert not (Path(REPO) / "gateway/proxy/nowhere.py").exists()
