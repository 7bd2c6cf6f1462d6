"""Write the policy tree back out as policy XML or policy YAML.

XML is written the way APIM authors write it: expressions raw (so `@(a && b)` stays
readable), literals escaped. The reader accepts both, so every output reads back to the same
tree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml

from gateway.policy.tree import Node, Value
from gateway.policy.yaml_reader import CHILDREN_KEY, SECTIONS, TEXT_KEY

_INDENT = "    "


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute_text(value: Value) -> str:
    text = value.text
    if value.is_expression:
        # Raw, as APIM files have it; pick the quote the expression does not use.
        quote = "'" if '"' in text and "'" not in text else '"'
        return f"{quote}{text}{quote}"
    escaped = _escape_text(text).replace("\n", "&#10;").replace("\t", "&#9;")
    return '"' + escaped.replace('"', "&quot;") + '"'


def _element_text(value: Value) -> str:
    if value.is_expression:
        return value.text
    return _escape_text(value.text)


Annotate = Callable[[Node], str | None]


def to_xml(root: Node, *, annotate: Annotate | None = None) -> str:
    """XML text for `root`; `annotate` may return a comment to put after a node's start tag."""
    lines: list[str] = []
    _write_xml(root, 0, lines, annotate or (lambda node: None))
    return "\n".join(lines) + "\n"


def _write_xml(node: Node, depth: int, lines: list[str], annotate: Annotate) -> None:
    pad = _INDENT * depth
    attributes = "".join(
        f" {name}={_attribute_text(attribute.value)}" for name, attribute in node.attributes.items()
    )
    note = annotate(node)
    suffix = f"  <!-- {note} -->" if note else ""
    if not node.children and node.text is None:
        lines.append(f"{pad}<{node.tag}{attributes} />{suffix}")
        return
    if not node.children:
        assert node.text is not None
        text = _element_text(node.text)
        lines.append(f"{pad}<{node.tag}{attributes}>{text}</{node.tag}>{suffix}")
        return
    lines.append(f"{pad}<{node.tag}{attributes}>{suffix}")
    if node.text is not None:
        lines.append(pad + _INDENT + _element_text(node.text))
    for child in node.children:
        _write_xml(child, depth + 1, lines, annotate)
    lines.append(f"{pad}</{node.tag}>")


def to_yaml(root: Node) -> str:
    if root.tag == "policies":
        sections = [c for c in root.children if c.tag in SECTIONS and not c.attributes]
        if len(sections) == len(root.children) and root.text is None and not root.attributes:
            body: Any = {s.tag: [_yaml_element(c) for c in s.children] for s in sections}
            data: Any = {"policies": body or None}
        else:  # not a valid document, but keep what is there rather than losing it
            data = _yaml_element(root)
    elif root.tag == "fragment" and not root.attributes and root.text is None:
        data = {"fragment": [_yaml_element(c) for c in root.children]}
    else:
        data = _yaml_element(root)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _yaml_element(node: Node) -> Any:
    if not node.attributes and not node.children and node.text is None:
        return node.tag
    if not node.attributes and not node.children:
        assert node.text is not None
        return {node.tag: node.text.text}
    if not node.attributes and node.text is None:
        return {node.tag: [_yaml_element(c) for c in node.children]}
    content: dict[str, Any] = {name: a.value.text for name, a in node.attributes.items()}
    if node.text is not None:
        content[TEXT_KEY] = node.text.text
    if node.children:
        content[CHILDREN_KEY] = [_yaml_element(c) for c in node.children]
    return {node.tag: content}


class _Dumper(yaml.SafeDumper):
    """Block style, with multi-line strings as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    if "\n" in text and text == text.strip() and "\t" not in text:
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", text)


_Dumper.add_representer(str, _represent_str)
