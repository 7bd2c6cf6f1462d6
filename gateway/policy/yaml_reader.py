"""Read policy YAML into the policy tree.

The YAML form mirrors the XML one to one (docs/policy-yaml.md):

    policies:                      # or `fragment:` with a list of elements
      inbound:                     # sections in a mapping, each a list of elements
        - base                     # an element with nothing inside: a bare name
        - set-variable: {name: tier, value: gold}       # attributes as a mapping
        - set-method: POST                              # text only: a scalar
        - choose:                                       # children only: a list
            - when:
                condition: '@(context.Request.Method == "GET")'
                children:                               # attributes and children
                  - set-header: {name: x-read, exists-action: override, text: "yes"}

In a mapping, every key but the reserved `text` and `children` is an attribute.
"""

from __future__ import annotations

import yaml

from gateway.common.diagnostics import Location, Report
from gateway.common.yaml_loader import compose
from gateway.expressions.scan import is_whole_expression
from gateway.policy.tree import Attribute, Document, Node, Value

SECTIONS = ("inbound", "backend", "outbound", "on-error")
TEXT_KEY = "text"
CHILDREN_KEY = "children"


class _Reader:
    def __init__(self, path: str, report: Report) -> None:
        self.path = path
        self.report = report

    def location(self, node: yaml.Node) -> Location:
        return Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def fail(self, node: yaml.Node, message: str) -> None:
        self.report.error(self.location(node), "yaml-structure", message)

    def value(self, node: yaml.ScalarNode) -> Value:
        text = "" if node.tag == "tag:yaml.org,2002:null" else str(node.value)
        if is_whole_expression(text):
            return Value(text.strip(), self.location(node), is_expression=True)
        return Value(text, self.location(node))

    def document(self, root: yaml.Node) -> Node | None:
        if not isinstance(root, yaml.MappingNode) or len(root.value) != 1:
            self.fail(root, "a policy document is a mapping with one key: 'policies' or 'fragment'")
            return None
        key, body = root.value[0]
        name = str(key.value)
        if name == "fragment":
            node = Node("fragment", self.location(key))
            node.children = self.elements(body)
            return node
        if name != "policies":
            self.fail(key, f"unknown document root '{name}'; use 'policies' or 'fragment'")
            return None
        node = Node("policies", self.location(key))
        if _is_null(body):
            return node
        if not isinstance(body, yaml.MappingNode):
            self.fail(body, "'policies' holds a mapping from section name to a list of statements")
            return node
        for section_key, section_body in body.value:
            section = Node(str(section_key.value), self.location(section_key))
            section.children = self.elements(section_body)
            node.children.append(section)
        return node

    def elements(self, node: yaml.Node) -> list[Node]:
        if _is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, "expected a list of elements here (each item '- name: ...')")
            return []
        result = []
        for item in node.value:
            element = self.element(item)
            if element is not None:
                result.append(element)
        return result

    def element(self, item: yaml.Node) -> Node | None:
        if isinstance(item, yaml.ScalarNode) and item.value:
            return Node(str(item.value), self.location(item))
        if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
            self.fail(item, "an element is a mapping with exactly one key, its name")
            return None
        key, content = item.value[0]
        node = Node(str(key.value), self.location(key))
        if _is_null(content):
            return node
        if isinstance(content, yaml.ScalarNode):
            node.text = self.value(content)
        elif isinstance(content, yaml.SequenceNode):
            node.children = self.elements(content)
        else:
            self.mapping_content(node, content)
        return node

    def mapping_content(self, node: Node, content: yaml.Node) -> None:
        assert isinstance(content, yaml.MappingNode)
        for key, value in content.value:
            name = str(key.value)
            if name == CHILDREN_KEY and not isinstance(value, yaml.ScalarNode):
                node.children = self.elements(value)
            elif not isinstance(value, yaml.ScalarNode):
                self.fail(
                    value,
                    f"attribute '{name}' must be a single value; child elements go in a "
                    f"'{CHILDREN_KEY}' list",
                )
            elif name == TEXT_KEY:
                node.text = self.value(value)
            else:
                attribute = Attribute(name, self.value(value), self.location(key))
                if name in node.attributes:
                    node.duplicate_attributes.append(attribute)
                else:
                    node.attributes[name] = attribute


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def read_yaml(text: str, path: str, report: Report) -> Document | None:
    """Parse policy YAML. Problems go to `report`; returns None when nothing usable was read."""
    try:
        root = compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = getattr(error, "problem", None) or str(error)
        report.error(Location(path, line, column), "yaml-syntax", f"YAML syntax: {problem}")
        return None
    if root is None:
        report.error(Location(path), "yaml-structure", "the file is empty; start with 'policies:'")
        return None
    node = _Reader(path, report).document(root)
    return Document(path, node) if node is not None else None
