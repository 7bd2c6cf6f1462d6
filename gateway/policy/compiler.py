"""Compile an effective document into step chains, through the statements registry.

Each statement's module turns its node into a `Step`. A statement that the registry knows but
whose runtime this release does not have is reported (`not-implemented`) rather than skipped:
a gateway that silently ignored `rate-limit` would be worse than one that refuses to start.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.common.diagnostics import Report
from gateway.expressions import Expression, ExpressionSyntaxError
from gateway.policy.compiling import UNRESOLVED_REFERENCE, CompileContext, CompileFailure
from gateway.policy.expression_check import ExpressionChecker, substitute_named_values
from gateway.policy.registry import Registry
from gateway.policy.tree import Node, Value
from gateway.runtime.step import Chain, CompiledPolicy, Step

NOT_IMPLEMENTED = "not-implemented"


class Compiler:
    def __init__(
        self,
        registry: Registry,
        checker: ExpressionChecker,
        report: Report,
        *,
        runtime_errors: bool = True,
        scopes: Mapping[str, str] | None = None,
    ) -> None:
        """`runtime_errors=False` (the linter) reports unimplemented statements as warnings.

        `scopes` maps each scope file's path to its scope, which the chains give the errors of
        the statements written there (LastError.Scope); without it, no statement has a scope.
        """
        self.registry = registry
        self.checker = checker
        self.report = report
        self.runtime_errors = runtime_errors
        self.scopes = scopes or {}
        # Targets share statement nodes (a global policy is in every effective document):
        # compile each node once.
        self._compiled: dict[tuple[int, str], Step | None] = {}
        self.context = CompileContext(
            report=report,
            compile_chain=self.chain,
            compile_expression=self._compile_expression,
            resolve_literal=lambda text: substitute_named_values(text, checker.named_values),
        )

    def _compile_expression(self, value: Value) -> Expression | ExpressionSyntaxError:
        result = self.checker.compile(value)
        if isinstance(result, ExpressionSyntaxError) and self.checker.unresolved(value):
            # The missing named value is reported by the reference checks; one error is enough.
            raise CompileFailure(value.location, UNRESOLVED_REFERENCE, "unresolved named value")
        return result

    def document(self, root: Node) -> CompiledPolicy:
        sections = {}
        preflight = Chain()
        for section in root.children:
            self.context.section = section.tag
            sections[section.tag] = self.chain(section.children)
            if section.tag == "inbound":
                preflight = self.chain([n for n in section.children if n.tag == "cors"])
        return CompiledPolicy(
            preflight=preflight,
            reads_request_body=reads_request_body(root, self.registry),
            inbound=sections.get("inbound", Chain()),
            backend=sections.get("backend", Chain()),
            outbound=sections.get("outbound", Chain()),
            on_error=sections.get("on-error", Chain()),
        )

    def chain(self, nodes: list[Node]) -> Chain:
        steps = []
        for node in nodes:
            # A fragment's node may sit in two sections, and compiles differently in each.
            key = (id(node), self.context.section)
            if key not in self._compiled:
                self._compiled[key] = self._statement(node)
            step = self._compiled[key]
            if step is not None:
                steps.append((step, self._scope(node)))
        return Chain(tuple(steps))

    def _scope(self, node: Node) -> str | None:
        """The scope of the document `node` is written in: LastError.Scope when it fails.

        A fragment's statement is the including document's. APIM has no fragment scope: an
        include pastes the fragment's statements into the document, where they run as its own
        (one fragment may be included at global and at API scope, and fail at either), so an
        on-error that asks where the failure was learns which policy included it. Its copy at
        each include knows where that was (`included_at`). A statement nested in a fragment's
        statement gets None: its chain leaves the error to the enclosing step's, which knows.
        One node always gets one scope, so the compile cache may share its step.
        """
        return self.scopes.get((node.included_at or node.location).path)

    def _statement(self, node: Node) -> Step | None:
        spec = self.registry.get(node.tag)
        if spec is None:
            return None  # reported by validation
        if spec.compile is None:
            report = self.report.error if self.runtime_errors else self.report.warning
            report(
                node.location,
                NOT_IMPLEMENTED,
                f"<{node.tag}> is valid APIM policy, but this gateway release cannot run it "
                "yet; remove it or wait for the release that implements it",
            )
            return None
        outer = (self.context.statement, self.context.policy_id)
        self.context.statement = spec.name
        self.context.policy_id = node.attr_text("id")
        try:
            return spec.compile(node, self.context)
        except CompileFailure as failure:
            if failure.rule == UNRESOLVED_REFERENCE:
                return None
            # Like a statement without a runtime: the linter warns, a gateway refuses to start.
            lint_only = failure.rule == NOT_IMPLEMENTED and not self.runtime_errors
            report = self.report.warning if lint_only else self.report.error
            report(failure.location, failure.rule, failure.message)
            return None
        finally:
            self.context.statement, self.context.policy_id = outer


def reads_request_body(root: Node, registry: Registry) -> bool:
    """Whether a statement or an expression of this document may read the request body.

    A plain text search of the expressions is enough, and errs on the safe side: an
    expression that merely names `Request.Body` makes the proxy buffer the body.
    """
    for node in root.walk():
        spec = registry.get(node.tag)
        if spec is not None and spec.reads_request_body:
            return True
        values = [a.value for a in node.attributes.values()]
        if node.text is not None:
            values.append(node.text)
        if any(v.is_expression and "Request.Body" in v.text for v in values):
            return True
    return False
