"""Checks made once at load: every name an expression uses must mean something.

Catches what would otherwise fail only at request time: a misspelt local, a type policy
expressions cannot use (`new WebClient()`), an unknown static member (`DateTime.UtcNw`).
"""

from __future__ import annotations

from gateway.expressions import ast as A
from gateway.expressions.construct import CONSTRUCTIBLE
from gateway.expressions.parser import ParseError
from gateway.expressions.statics import STATIC_TYPES, canonical_type, is_known_static, simple_type


def check_names(tree: A.Node) -> None:
    _Checker().visit(tree, [set()])


class _Checker:
    def visit(self, node: object, scopes: list[set[str]]) -> None:
        if isinstance(node, A.Block):
            # Local functions are visible in their whole block, as in C#.
            inner = [*scopes, {s.name for s in node.statements if isinstance(s, A.LocalFunction)}]
            for statement in node.statements:
                self.visit(statement, inner)
            return
        if isinstance(node, A.Declare):
            for name, value in node.names:
                if value is not None:
                    self.visit(value, scopes)
                scopes[-1].add(name)
            return
        if isinstance(node, A.ForEach):
            self.visit(node.iterable, scopes)
            self.visit(node.body, [*scopes, {node.name}])
            return
        if isinstance(node, A.For):
            inner = [*scopes, set()]
            for part in (*node.init, node.condition, *node.update, node.body):
                if part is not None:
                    self.visit(part, inner)
            return
        if isinstance(node, A.LocalFunction):
            scopes[-1].add(node.name)
            self.visit(node.body, [*scopes, set(node.params)])
            return
        if isinstance(node, A.Lambda):
            self.visit(node.body, [*scopes, set(node.params)])
            return
        if isinstance(node, A.Try):
            self.visit(node.body, scopes)
            if node.handler is not None:
                self.visit(node.handler, [*scopes, {node.catch_name} if node.catch_name else set()])
            if node.final is not None:
                self.visit(node.final, scopes)
            return
        if isinstance(node, A.Call):
            for arg in node.args:
                if arg.declares:
                    scopes[-1].add(arg.declares)
            self.visit(node.target, scopes)
            for arg in node.args:
                if not arg.out or not arg.declares:
                    self.visit(arg.value, scopes)
            return
        if isinstance(node, A.TypeTest):
            self.visit(node.operand, scopes)
            if node.declares:
                scopes[-1].add(node.declares)
            return
        if isinstance(node, A.Name):
            self.name(node, scopes)
            return
        if isinstance(node, A.Member):
            if self.static_member(node, scopes):
                return
            self.visit(node.target, scopes)
            return
        if isinstance(node, A.New) and node.type is not None and not node.type.array:
            kind = canonical_type(node.type.name)
            if kind not in CONSTRUCTIBLE:
                raise ParseError(
                    f"'new {node.type}' is not available in policy expressions", node.offset
                )
        self.children(node, scopes)

    def children(self, node: object, scopes: list[set[str]]) -> None:
        for name in getattr(node, "__slots__", ()):
            value = getattr(node, name, None)
            for item in value if isinstance(value, tuple) else (value,):
                if isinstance(item, A.Node):
                    self.visit(item, scopes)
                elif isinstance(item, A.Argument):
                    self.visit(item.value, scopes)
                elif isinstance(item, tuple):
                    for sub in item:
                        if isinstance(sub, A.Node):
                            self.visit(sub, scopes)

    def name(self, node: A.Name, scopes: list[set[str]]) -> None:
        if not node.name or node.name == "context" or any(node.name in s for s in scopes):
            return
        if canonical_type(node.name) in STATIC_TYPES:
            return
        raise ParseError(
            f"unknown name '{node.name}': declare it (var {node.name} = ...) or use "
            "context.Variables",
            node.offset,
        )

    def static_member(self, node: A.Member, scopes: list[set[str]]) -> bool:
        """True when `node` is `Type.Member` and was checked as such."""
        qualified = A.qualified_name(node.target)
        if not qualified or any(qualified.split(".")[0] in s for s in scopes):
            return False
        kind = canonical_type(simple_type(qualified))
        if kind not in STATIC_TYPES:
            return False
        if not is_known_static(kind, node.name):
            raise ParseError(
                f"{kind}.{node.name} is not available in policy expressions", node.offset
            )
        return True
