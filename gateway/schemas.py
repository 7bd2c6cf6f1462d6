"""`aigw schemas`: the files in schemas/, generated from the statements registry.

- `policy.xsd`: policy XML (for editors; APIM's raw-expression files are not strict XML, so
  the linter, not the XSD, is the judge of those);
- `policy.schema.json`: the YAML form of policies (docs/policy-yaml.md);
- `gateway.schema.json`: gateway.yaml, from the same shapes the loader checks.
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import quoteattr

from gateway.policy.registry import Registry
from gateway.policy.spec import AttributeSpec, ChildSpec, StatementSpec, TextSpec
from gateway.statements import default_registry

_SECTIONS = ("inbound", "backend", "outbound", "on-error")
_XS = "http://www.w3.org/2001/XMLSchema"


def _attribute_doc(attribute: AttributeSpec) -> str:
    parts = [attribute.doc] if attribute.doc else []
    parts.append(f"type: {attribute.kind.value}")
    if attribute.choices:
        parts.append("one of: " + ", ".join(attribute.choices))
    if attribute.default is not None:
        parts.append(f"default: {attribute.default}")
    parts.append("expressions allowed" if attribute.expression else "literal only")
    return "; ".join(parts)


class _Xsd:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.lines: list[str] = []

    def render(self) -> str:
        out = self.lines
        out.append('<?xml version="1.0" encoding="utf-8"?>')
        out.append(f'<xs:schema xmlns:xs="{_XS}" elementFormDefault="qualified">')
        out.append('  <xs:group name="statements"><xs:choice>')
        for spec in self.registry.specs():
            for name in spec.names:
                out.append(f'    <xs:element name="{name}" type="{spec.name}-type" />')
        out.append("  </xs:choice></xs:group>")
        out.append(
            '  <xs:complexType name="section"><xs:choice minOccurs="0" maxOccurs="unbounded">'
        )
        out.append('    <xs:element name="base"><xs:complexType /></xs:element>')
        out.append('    <xs:group ref="statements" />')
        out.append("  </xs:choice></xs:complexType>")
        out.append('  <xs:element name="policies"><xs:complexType><xs:all>')
        for section in _SECTIONS:
            out.append(f'    <xs:element name="{section}" type="section" minOccurs="0" />')
        out.append("  </xs:all></xs:complexType></xs:element>")
        out.append('  <xs:element name="fragment"><xs:complexType>')
        out.append('    <xs:group ref="statements" minOccurs="0" maxOccurs="unbounded" />')
        out.append("  </xs:complexType></xs:element>")
        for spec in self.registry.specs():
            self.statement(spec)
        out.append("</xs:schema>")
        return "\n".join(out) + "\n"

    def statement(self, spec: StatementSpec) -> None:
        self.lines.append(f'  <xs:complexType name="{spec.name}-type" mixed="{_mixed(spec.text)}">')
        summary = _text(spec.summary)
        self.lines.append(
            f"    <xs:annotation><xs:documentation>{summary}</xs:documentation></xs:annotation>"
        )
        self.content(spec.children, spec.holds_statements, spec.text, "    ")
        self.attributes(spec.attributes, "    ")
        self.lines.append("  </xs:complexType>")

    def content(
        self, children: tuple[ChildSpec, ...], statements: bool, text: TextSpec | None, pad: str
    ) -> None:
        if text is not None and text.raw_markup:
            any_markup = '<xs:any processContents="skip" minOccurs="0" maxOccurs="unbounded" />'
            self.lines.append(f"{pad}<xs:sequence>{any_markup}</xs:sequence>")
            return
        if not children and not statements:
            return
        self.lines.append(f'{pad}<xs:choice minOccurs="0" maxOccurs="unbounded">')
        for child in children:
            self.child(child, pad + "  ")
        if statements:
            self.lines.append(f'{pad}  <xs:group ref="statements" />')
        self.lines.append(f"{pad}</xs:choice>")

    def child(self, child: ChildSpec, pad: str) -> None:
        simple = not child.children and not child.holds_statements and not child.attributes
        if simple and child.text is not None:
            self.lines.append(f'{pad}<xs:element name="{child.name}" type="xs:string" />')
            return
        self.lines.append(f'{pad}<xs:element name="{child.name}">')
        self.lines.append(f'{pad}  <xs:complexType mixed="{_mixed(child.text)}">')
        self.content(child.children, child.holds_statements, child.text, pad + "    ")
        self.attributes(child.attributes, pad + "    ")
        self.lines.append(f"{pad}  </xs:complexType>")
        self.lines.append(f"{pad}</xs:element>")

    def attributes(self, attributes: tuple[AttributeSpec, ...], pad: str) -> None:
        for attribute in attributes:
            use = ' use="required"' if attribute.required else ""
            self.lines.append(f'{pad}<xs:attribute name="{attribute.name}" type="xs:string"{use}>')
            self.lines.append(
                f"{pad}  <xs:annotation><xs:documentation>{_text(_attribute_doc(attribute))}"
                "</xs:documentation></xs:annotation>"
            )
            self.lines.append(f"{pad}</xs:attribute>")


def _mixed(text: TextSpec | None) -> str:
    return "true" if text is not None else "false"


def _text(value: str) -> str:
    return quoteattr(value)[1:-1]


def policy_xsd(registry: Registry | None = None) -> str:
    return _Xsd(registry or default_registry()).render()


def _element_schema(
    name: str,
    attributes: tuple[AttributeSpec, ...],
    children: list[dict[str, Any]],
    text: TextSpec | None,
    summary: str,
) -> dict[str, Any]:
    """`{name: content}` in the YAML form: null, a scalar, a list, or a mapping."""
    properties: dict[str, Any] = {
        a.name: {"type": ["string", "number", "boolean"], "description": _attribute_doc(a)}
        for a in attributes
    }
    if text is not None:
        properties["text"] = {"type": ["string", "number", "boolean"]}
    if children:
        properties["children"] = {"type": "array", "items": {"anyOf": children}}
    required = [a.name for a in attributes if a.required]
    mapping: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        mapping["required"] = required
    forms: list[dict[str, Any]] = [mapping]
    if not required:
        forms.append({"type": "null"})
        if text is not None:
            forms.append({"type": ["string", "number", "boolean"]})
        if children:
            forms.append({"type": "array", "items": {"anyOf": children}})
    element = {
        "type": "object",
        "properties": {name: {"anyOf": forms}},
        "required": [name],
        "additionalProperties": False,
        "description": summary,
    }
    if not required and text is None and not children:
        return {"anyOf": [element, {"const": name}]}
    return element


def _child_schemas(children: tuple[ChildSpec, ...], statements: bool) -> list[dict[str, Any]]:
    found = [
        _element_schema(
            c.name, c.attributes, _child_schemas(c.children, c.holds_statements), c.text, c.doc
        )
        for c in children
    ]
    if statements:
        found.append({"$ref": "#/$defs/statement"})
    return found


def policy_json_schema(registry: Registry | None = None) -> dict[str, Any]:
    registry = registry or default_registry()
    statements = []
    for spec in registry.specs():
        children = _child_schemas(spec.children, spec.holds_statements)
        for name in spec.names:
            statements.append(
                _element_schema(name, spec.attributes, children, spec.text, spec.summary)
            )
    section = {
        "type": ["array", "null"],
        "items": {"anyOf": [{"const": "base"}, {"$ref": "#/$defs/statement"}]},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://aigw.dev/schemas/policy.schema.json",
        "title": "aigw policy document (YAML form)",
        "$defs": {"statement": {"anyOf": statements}},
        "type": "object",
        "oneOf": [
            {
                "properties": {
                    "policies": {
                        "type": ["object", "null"],
                        "properties": {s: section for s in _SECTIONS},
                        "additionalProperties": False,
                    }
                },
                "required": ["policies"],
                "additionalProperties": False,
            },
            {
                "properties": {
                    "fragment": {"type": "array", "items": {"$ref": "#/$defs/statement"}}
                },
                "required": ["fragment"],
                "additionalProperties": False,
            },
        ],
    }


def render_schema_files() -> dict[str, str]:
    from gateway.config.json_schema import json_schema

    def dump(data: dict[str, Any]) -> str:
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    return {
        "gateway.schema.json": dump(json_schema()),
        "policy.schema.json": dump(policy_json_schema()),
        "policy.xsd": policy_xsd(),
    }
