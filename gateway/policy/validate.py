"""Check one policy document against the statements registry.

Everything that can be known from the document alone is checked here: its shape, each
statement's section and scope, attributes, children, text, literal values and expression
syntax. References to other files (backends, fragments, named values) are collected for the
directory-level checks in `gateway.policy.loader` (`check_references`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from gateway.common.diagnostics import Location, Report
from gateway.common.suggest import nearest
from gateway.expressions.scan import scan_expressions
from gateway.policy.expression_check import NAMED_VALUE
from gateway.policy.literal_check import check_literal
from gateway.policy.registry import Registry
from gateway.policy.spec import (
    AttributeSpec,
    ChildSpec,
    Multiplicity,
    PolicyScope,
    Section,
    StatementSpec,
    TextSpec,
)
from gateway.policy.tree import Attribute, Document, Node, Value

SECTION_ORDER = tuple(Section)
_PLACEHOLDER = re.compile(r"\{[\w-]+\}|[A-Z][A-Z0-9_]+")

ExpressionCheck = Callable[[Value, Report], None]
_REFERENCE_ATTRIBUTES = (
    ("backend-id", "backends"),
    ("embeddings-backend-id", "embedders"),
    ("fragment-id", "fragments"),
    ("logger-id", "loggers"),
)


@dataclass
class References:
    """What a document refers to outside itself, each with where it is written."""

    backends: list[tuple[str, Location]] = field(default_factory=list)
    embedders: list[tuple[str, Location]] = field(default_factory=list)  # backends or embedders
    fragments: list[tuple[str, Location]] = field(default_factory=list)
    named_values: list[tuple[str, Location]] = field(default_factory=list)
    loggers: list[tuple[str, Location]] = field(default_factory=list)  # log-to-eventhub's


class DocumentValidator:
    """Validates documents of one scope; `scope` None means any scope (a lone file)."""

    def __init__(
        self,
        registry: Registry,
        report: Report,
        check_expression: ExpressionCheck,
        scope: PolicyScope | None,
    ) -> None:
        self.registry = registry
        self.report = report
        self.check_expression = check_expression
        self.scope = scope
        self.references = References()

    # -- documents -------------------------------------------------------------------------

    def validate(self, document: Document) -> References:
        root = document.root
        self._no_attributes_or_text(root, "the document root")
        if root.tag == "fragment":
            self._statements(root.children, None, in_fragment=True)
        elif root.tag == "policies":
            self._policies(root)
        else:
            self.report.error(
                root.location,
                "unknown-root",
                f"a policy document starts with <policies> or <fragment>, not <{root.tag}>",
            )
        return self.references

    def _policies(self, root: Node) -> None:
        seen: dict[str, Node] = {}
        last_index = -1
        for section in root.children:
            if section.tag not in SECTION_ORDER:
                suggestion = nearest(section.tag, [s.value for s in SECTION_ORDER])
                hint = f"; did you mean <{suggestion}>?" if suggestion else ""
                self.report.error(
                    section.location,
                    "unknown-section",
                    f"<{section.tag}> is not a section; <policies> holds <inbound>, <backend>, "
                    f"<outbound> and <on-error>{hint}",
                )
                continue
            if section.tag in seen:
                self.report.error(
                    section.location,
                    "duplicate-section",
                    f"<{section.tag}> appears twice; merge the two into one section",
                )
                continue
            index = SECTION_ORDER.index(Section(section.tag))
            if index < last_index:
                self.report.warning(
                    section.location,
                    "section-order",
                    f"<{section.tag}> should come before the sections above it "
                    "(order: inbound, backend, outbound, on-error)",
                )
            last_index = max(last_index, index)
            seen[section.tag] = section
            self._no_attributes_or_text(section, f"<{section.tag}>")
            self._base_placement(section)
            self._statements(
                section.children, Section(section.tag), in_fragment=False, top_level=True
            )

    def _base_placement(self, section: Node) -> None:
        bases = [c for c in section.children if c.tag == "base"]
        for extra in bases[1:]:
            self.report.error(
                extra.location,
                "base-misuse",
                f"<base/> appears more than once in <{section.tag}>; keep exactly one",
            )
        for base in bases:
            if base.attributes or base.children or base.text is not None:
                self.report.error(
                    base.location, "base-misuse", "<base/> takes no attributes or content"
                )
        if bases and self.scope is PolicyScope.GLOBAL:
            self.report.warning(
                bases[0].location,
                "base-misuse",
                "<base/> has no effect at global scope; remove it",
            )

    # -- statements ------------------------------------------------------------------------

    def _statements(
        self,
        nodes: Iterable[Node],
        section: Section | None,
        *,
        in_fragment: bool,
        top_level: bool = False,
    ) -> None:
        nodes = list(nodes)
        for node in nodes:
            if node.tag == "base":
                if in_fragment:
                    self.report.error(
                        node.location, "base-misuse", "<base/> cannot be used inside a fragment"
                    )
                elif not top_level:
                    self.report.error(
                        node.location,
                        "base-misuse",
                        "<base/> must be a direct child of a section; move it out of this element",
                    )
                continue
            spec = self.registry.get(node.tag)
            if spec is None:
                self._unknown_statement(node)
                continue
            self._statement(node, spec, section, in_fragment)
        self._multiplicity(nodes, section)

    def _unknown_statement(self, node: Node) -> None:
        suggestion = self.registry.suggest(node.tag)
        hint = f"; did you mean <{suggestion}>?" if suggestion else ""
        self.report.error(
            node.location, "unknown-statement", f"<{node.tag}> is not a known policy{hint}"
        )

    def _statement(
        self, node: Node, spec: StatementSpec, section: Section | None, in_fragment: bool
    ) -> None:
        if section is not None and section not in spec.sections:
            allowed = ", ".join(s.value for s in SECTION_ORDER if s in spec.sections)
            self.report.error(
                node.location,
                "wrong-section",
                f"<{node.tag}> cannot run in <{section.value}>; it may appear in: {allowed}",
            )
        if self.scope is not None and self.scope not in spec.scopes:
            allowed = ", ".join(s.value for s in PolicyScope if s in spec.scopes)
            self.report.error(
                node.location,
                "wrong-scope",
                f"<{node.tag}> cannot be used at {self.scope.value} scope; it may be used at: "
                f"{allowed}",
            )
        if in_fragment and not spec.allowed_in_fragment:
            self.report.error(
                node.location,
                "not-in-fragment",
                f"<{node.tag}> cannot be used inside a fragment; move it to a scope policy",
            )
        self._attributes(node, spec.attributes, f"<{node.tag}>")
        self._text(node, spec.text, f"<{node.tag}>")
        statement_children = spec.holds_statements
        declared = {c.name: c for c in spec.children}
        nested: list[Node] = []
        for child in node.children:
            child_spec = declared.get(child.tag)
            if child_spec is not None:
                self._child(child, child_spec, node, section, in_fragment)
            elif statement_children:
                nested.append(child)
            else:
                self._unknown_child(child, node, list(declared))
        self._child_counts(node, spec.children)
        if nested:
            self._statements(nested, section, in_fragment=in_fragment)
        self._collect_references(node)
        if spec.check is not None:
            spec.check(node, self.report)

    def _child(
        self,
        node: Node,
        spec: ChildSpec,
        parent: Node,
        section: Section | None,
        in_fragment: bool,
    ) -> None:
        label = f"<{node.tag}> in <{parent.tag}>"
        self._attributes(node, spec.attributes, label)
        self._text(node, spec.text, label)
        if spec.holds_statements:
            self._statements(node.children, section, in_fragment=in_fragment)
            return
        declared = {c.name: c for c in spec.children}
        for child in node.children:
            child_spec = declared.get(child.tag)
            if child_spec is None:
                self._unknown_child(child, node, list(declared))
            else:
                self._child(child, child_spec, node, section, in_fragment)
        self._child_counts(node, spec.children)

    def _unknown_child(self, child: Node, parent: Node, known: list[str]) -> None:
        if not known:
            message = f"<{parent.tag}> takes no child elements; remove <{child.tag}>"
        else:
            suggestion = nearest(child.tag, known)
            hint = f"did you mean <{suggestion}>?" if suggestion else f"allowed: {', '.join(known)}"
            message = f"<{child.tag}> is not allowed in <{parent.tag}>; {hint}"
        self.report.error(child.location, "unknown-element", message)

    def _child_counts(self, node: Node, specs: Iterable[ChildSpec]) -> None:
        counts = Counter(child.tag for child in node.children)
        for spec in specs:
            count = counts.get(spec.name, 0)
            if count < spec.min_count:
                self.report.error(
                    node.location,
                    "missing-element",
                    f"<{node.tag}> needs at least {spec.min_count} <{spec.name}> element"
                    f"{'s' if spec.min_count > 1 else ''}",
                )
            if spec.max_count is not None and count > spec.max_count:
                extra = [c for c in node.children if c.tag == spec.name][spec.max_count]
                self.report.error(
                    extra.location,
                    "too-many-elements",
                    f"<{node.tag}> allows at most {spec.max_count} <{spec.name}>; remove this one",
                )

    # -- attributes and text -----------------------------------------------------------------

    def _attributes(self, node: Node, specs: Iterable[AttributeSpec], label: str) -> None:
        declared = {a.name: a for a in specs}
        for duplicate in node.duplicate_attributes:
            self.report.error(
                duplicate.location,
                "duplicate-attribute",
                f"'{duplicate.name}' is given twice on {label}; keep one",
            )
        for name, attribute in node.attributes.items():
            spec = declared.get(name)
            if spec is None:
                suggestion = nearest(name, list(declared))
                if suggestion:
                    hint = f"did you mean '{suggestion}'?"
                elif declared:
                    hint = f"allowed: {', '.join(declared)}"
                else:
                    hint = "it takes no attributes"
                self.report.error(
                    attribute.location,
                    "unknown-attribute",
                    f"{label} has no attribute '{name}'; {hint}",
                )
                continue
            self._value(attribute.value, spec, f"'{name}' on {label}", attribute)
        for spec in declared.values():
            if spec.required and spec.name not in node.attributes:
                self.report.error(
                    node.location,
                    "missing-attribute",
                    f"{label} needs the attribute '{spec.name}'",
                )

    def _value(
        self,
        value: Value,
        spec: AttributeSpec | TextSpec,
        label: str,
        attribute: Attribute | None = None,
    ) -> None:
        self._collect_named_values(value)
        if value.is_expression:
            if not spec.expression:
                self.report.error(
                    value.location,
                    "expression-not-allowed",
                    f"{label} cannot be an expression; write a literal value",
                )
                return
            self.check_expression(value, self.report)
            return
        if NAMED_VALUE.search(value.text):
            return  # the literal's final text is known only once named values are resolved
        if scan_expressions(value.text):
            self.report.warning(
                value.location,
                "mixed-expression",
                f"{label} mixes literal text and an expression, so APIM takes all of it "
                'literally; write one expression such as @("text" + ...)',
            )
            return
        problem = check_literal(
            value.text,
            spec.kind,
            choices=spec.choices,
            minimum=getattr(spec, "minimum", None),
            maximum=getattr(spec, "maximum", None),
        )
        if problem is not None:
            if _PLACEHOLDER.fullmatch(value.text.strip()):
                problem += "; it looks like a deploy-time placeholder: substitute it before use"
            self.report.error(value.location, "invalid-value", f"{label}: {problem}")

    def _text(self, node: Node, spec: TextSpec | None, label: str) -> None:
        if node.text is None:
            if spec is not None and spec.required:
                self.report.error(
                    node.location, "missing-text", f"{label} needs a value as its text"
                )
            return
        if spec is None:
            self.report.error(
                node.text.location, "unexpected-text", f"{label} takes no text; remove it"
            )
            return
        self._value(node.text, spec, f"the text of {label}")

    def _no_attributes_or_text(self, node: Node, label: str) -> None:
        for attribute in node.attributes.values():
            self.report.error(
                attribute.location, "unknown-attribute", f"{label} takes no attributes"
            )
        if node.text is not None:
            self.report.error(
                node.text.location,
                "unexpected-text",
                f"{label} holds statements, not text; remove the text",
            )

    # -- multiplicity and references -----------------------------------------------------------

    def _multiplicity(self, nodes: list[Node], section: Section | None) -> None:
        seen: dict[str, Node] = {}
        for node in nodes:
            spec = self.registry.get(node.tag)
            if spec is None or spec.multiplicity is Multiplicity.MANY:
                continue
            if spec.name in seen:
                where = "section" if section else "fragment"
                self.report.error(
                    node.location,
                    "duplicate-statement",
                    f"<{node.tag}> may appear only once per {where} (first at line "
                    f"{seen[spec.name].location.line}); remove one",
                )
            else:
                seen[spec.name] = node

    def _collect_references(self, node: Node) -> None:
        for attribute_name, kind in _REFERENCE_ATTRIBUTES:
            value = node.attr(attribute_name)
            if value is not None and not value.is_expression and value.text:
                getattr(self.references, kind).append((value.text, value.location))

    def _collect_named_values(self, value: Value) -> None:
        for match in NAMED_VALUE.finditer(value.text):
            location = value.location.shifted(value.text[: match.start()])
            self.references.named_values.append((match.group(1).strip(), location))


def iter_statements(nodes: Iterable[Node], registry: Registry) -> Iterable[Node]:
    """Every statement among `nodes` and nested in them (`<when>`, `<retry>`, ...)."""
    for node in nodes:
        spec = registry.get(node.tag)
        if spec is None:
            continue
        yield node
        declared = {c.name: c for c in spec.children}
        for child in node.children:
            child_spec = declared.get(child.tag)
            if child_spec is None:
                if spec.holds_statements:
                    yield from iter_statements([child], registry)
            elif child_spec.holds_statements:
                yield from iter_statements(child.children, registry)
