"""The policy tree: one neutral form for policy XML and policy YAML.

Every element becomes a `Node` with its attributes in document order, its child elements and
its text. Every node, attribute and text keeps the file, line and column it came from, so that
each later stage (lint, scope merging, compile, explain) can point the author at the source.

A value (attribute or text) is either a literal or exactly one policy expression; `Value`
records which, so no later stage has to look at the text again to decide.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from gateway.common.diagnostics import Location


@dataclass(slots=True)
class Value:
    """An attribute value or element text.

    `text` is the decoded value (entities resolved). `is_expression` is true when the whole
    value is one `@(...)`/`@{...}` expression; then `text` is the expression's source.
    """

    text: str
    location: Location
    is_expression: bool = False

    def same_as(self, other: Value) -> bool:
        return self.text == other.text and self.is_expression == other.is_expression


@dataclass(slots=True)
class Attribute:
    name: str
    value: Value
    location: Location  # where the attribute's name starts


@dataclass(slots=True)
class Node:
    tag: str
    location: Location
    attributes: dict[str, Attribute] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    text: Value | None = None
    # Attribute names that appeared more than once in the source (XML parsers refuse them,
    # YAML loaders silently keep the last); kept so the linter can point at each repeat.
    duplicate_attributes: list[Attribute] = field(default_factory=list)
    # Where an <include-fragment> put this fragment statement (None: written where it stands).
    # A fragment's statements run as part of the including document, whose scope a failure
    # reports (LastError.Scope); each include has its own copies of them for that.
    included_at: Location | None = None

    def attr(self, name: str) -> Value | None:
        attribute = self.attributes.get(name)
        return attribute.value if attribute is not None else None

    def attr_text(self, name: str, default: str | None = None) -> str | None:
        attribute = self.attributes.get(name)
        return attribute.value.text if attribute is not None else default

    def child(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def children_named(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]

    def walk(self) -> Iterator[Node]:
        """This node and every descendant, in document order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def same_tree(self, other: Node) -> bool:
        """Structural equality that ignores positions: what a round trip must preserve."""
        if self.tag != other.tag or list(self.attributes) != list(other.attributes):
            return False
        for name, attribute in self.attributes.items():
            if not attribute.value.same_as(other.attributes[name].value):
                return False
        if (self.text is None) != (other.text is None):
            return False
        if self.text is not None and other.text is not None and not self.text.same_as(other.text):
            return False
        return len(self.children) == len(other.children) and all(
            a.same_tree(b) for a, b in zip(self.children, other.children, strict=True)
        )


@dataclass(slots=True)
class Document:
    """A parsed policy file: its root node (`policies` or `fragment`) and its path."""

    path: str
    root: Node
