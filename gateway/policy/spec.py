"""The declaration every statement module makes: names, sections, attributes, children.

A statement module builds one `StatementSpec` beside its `compile` function. The registry
collects them; the linter, the schema generator, `aigw explain` and the compiler read nothing
else. Keep declarations data-only: a rule that cannot be said with these fields goes in the
spec's `check` hook, which reports diagnostics for one node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.common.diagnostics import Report
    from gateway.policy.compiling import CompileContext
    from gateway.policy.tree import Node
    from gateway.runtime.step import Step


class Section(StrEnum):
    INBOUND = "inbound"
    BACKEND = "backend"
    OUTBOUND = "outbound"
    ON_ERROR = "on-error"


ALL_SECTIONS = frozenset(Section)


class PolicyScope(StrEnum):
    GLOBAL = "global"
    PRODUCT = "product"
    API = "api"
    OPERATION = "operation"


ALL_SCOPES = frozenset(PolicyScope)


class Kind(StrEnum):
    """The type of an attribute value or element text when it is a literal."""

    STRING = "string"
    INT = "int"  # a whole number, bounded by `minimum`/`maximum`
    NUMBER = "number"  # a decimal number
    BOOL = "bool"  # `true` or `false` (APIM also accepts `True`/`False`)
    ENUM = "enum"  # one of `choices`
    DURATION = "duration"  # seconds as a number, or an ISO 8601 duration such as PT30S
    URL = "url"  # an absolute http(s) URL
    HTTP_METHOD = "http-method"


class Multiplicity(StrEnum):
    MANY = "many"
    ONCE_PER_SECTION = "once-per-section"
    ONCE_PER_DOCUMENT = "once-per-document"


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    name: str
    kind: Kind = Kind.STRING
    required: bool = False
    default: str | None = None
    choices: tuple[str, ...] = ()
    expression: bool = True  # may the value be a policy expression?
    minimum: float | None = None
    maximum: float | None = None
    doc: str = ""


@dataclass(frozen=True, slots=True)
class TextSpec:
    """What an element's text may hold."""

    kind: Kind = Kind.STRING
    required: bool = False
    expression: bool = True
    choices: tuple[str, ...] = ()
    raw_markup: bool = False  # literal child markup is kept as text (a literal XML body)
    doc: str = ""


@dataclass(frozen=True, slots=True)
class ChildSpec:
    """A configuration element inside a statement (`<value>`, `<when>`, `<dimension>`, ...)."""

    name: str
    min_count: int = 0
    max_count: int | None = None  # None: unbounded
    attributes: tuple[AttributeSpec, ...] = ()
    children: tuple[ChildSpec, ...] = ()
    text: TextSpec | None = None
    holds_statements: bool = False  # `<when>`, `<otherwise>`: a nested chain of statements
    doc: str = ""

    def attribute(self, name: str) -> AttributeSpec | None:
        return next((a for a in self.attributes if a.name == name), None)

    def child(self, name: str) -> ChildSpec | None:
        return next((c for c in self.children if c.name == name), None)


CompileFunction = Callable[["Node", "CompileContext"], "Step"]
CheckFunction = Callable[["Node", "Report"], None]


@dataclass(frozen=True, slots=True)
class StatementSpec:
    """One policy statement. `names[0]` is the canonical name; the rest are aliases.

    `holds_statements` statements (`retry`, `limit-concurrency`, `wait`) take other statements
    as children, besides any `children` declared here. `compile` is None while the
    statement's runtime belongs to a later release: it lints, but loading it for the proxy
    fails with a clear message instead of silently doing nothing.
    """

    names: tuple[str, ...]
    summary: str
    sections: frozenset[Section] = ALL_SECTIONS
    scopes: frozenset[PolicyScope] = ALL_SCOPES
    attributes: tuple[AttributeSpec, ...] = ()
    children: tuple[ChildSpec, ...] = ()
    text: TextSpec | None = None
    holds_statements: bool = False
    multiplicity: Multiplicity = Multiplicity.MANY
    allowed_in_fragment: bool = True
    check: CheckFunction | None = None
    compile: CompileFunction | None = None
    # The statement reads the request body itself (a token limit counts the prompt): the
    # proxy then hands policies the body whole instead of streaming it to the backend.
    reads_request_body: bool = False

    @property
    def name(self) -> str:
        return self.names[0]

    def attribute(self, name: str) -> AttributeSpec | None:
        return next((a for a in self.attributes if a.name == name), None)

    def child(self, name: str) -> ChildSpec | None:
        return next((c for c in self.children if c.name == name), None)


# Every APIM policy element may carry an optional `id`, surfaced as LastError.PolicyId.
POLICY_ID = AttributeSpec(
    "id", expression=False, doc="Names this policy in context.LastError.PolicyId."
)


def as_child(spec: StatementSpec, *, min_count: int = 0, max_count: int | None = None) -> ChildSpec:
    """A statement used as a configuration child (`<set-header>` inside `<send-request>`)."""
    return ChildSpec(
        name=spec.name,
        min_count=min_count,
        max_count=max_count,
        attributes=spec.attributes,
        children=spec.children,
        text=spec.text,
        doc=spec.summary,
    )
