"""Check a YAML document against the gateway.yaml shapes, keeping every key's position.

The result is plain Python data (dicts, lists, strings, numbers) plus a map from each value's
path (`("apis", "chat", "backend")`) to where it is written, for the reference checks that
come after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from gateway.common.diagnostics import Location, Report
from gateway.common.literals import parse_duration
from gateway.common.suggest import nearest
from gateway.common.url_paths import url_problem
from gateway.common.yaml_loader import compose
from gateway.config.secrets import SECRET_REFERENCE
from gateway.config.shapes import Field, Shape

_ANY_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_STATUS_RANGE = re.compile(r"(\d{3})(?:-(\d{3}))?")
_TEXT_KINDS = ("string", "path", "status-range")  # written as text that may hold ${...}

Path = tuple[str | int, ...]


@dataclass
class ReadResult:
    data: dict[str, object] = field(default_factory=dict)
    locations: dict[Path, Location] = field(default_factory=dict)


class ShapeReader:
    def __init__(self, path: str, report: Report) -> None:
        self.path = path
        self.report = report
        self.locations: dict[Path, Location] = {}

    def where(self, node: yaml.Node) -> Location:
        return Location(self.path, node.start_mark.line + 1, node.start_mark.column + 1)

    def wrong_type(self, node: yaml.Node, expected: str, at: Path) -> None:
        self.report.error(self.where(node), "wrong-type", f"{_label(at)} must be {expected}")

    def read_shape(self, node: yaml.Node, shape: Shape, at: Path) -> dict[str, object] | None:
        if shape.shorthand and isinstance(node, yaml.ScalarNode) and node.value != "":
            field_ = shape.get(shape.shorthand)
            assert field_ is not None
            value = self.read_value(node, field_, (*at, shape.shorthand))
            return {shape.shorthand: value}
        if _is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.wrong_type(node, "a mapping", at)
            return None
        result: dict[str, object] = {}
        seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            where = self.where(key_node)
            if key in seen:
                self.report.error(
                    where,
                    "duplicate-key",
                    f"'{key}' is given twice here (first at line {seen[key].start_mark.line + 1});"
                    " keep one",
                )
                continue
            seen[key] = key_node
            field_ = shape.get(key) or shape.extra
            if field_ is None:
                suggestion = nearest(key, [f.name for f in shape.fields])
                hint = (
                    f"did you mean '{suggestion}'?"
                    if suggestion
                    else (f"known keys: {', '.join(f.name for f in shape.fields)}")
                )
                self.report.error(
                    where,
                    "unknown-key",
                    f"unknown key '{key}' in {_label(at) or 'gateway.yaml'}; {hint}",
                )
                continue
            # References are checked later; point them at the value, where the fix goes.
            self.locations[(*at, key)] = self.where(value_node)
            value = self.read_value(value_node, field_, (*at, key))
            if value is not None:
                result[key] = value
        for field_ in shape.fields:
            if field_.required and field_.name not in result and field_.name not in seen:
                self.report.error(
                    self.where(node),
                    "missing-key",
                    f"{_label(at) or 'gateway.yaml'} needs '{field_.name}'"
                    + (f" ({field_.doc})" if field_.doc else ""),
                )
        return result

    def read_value(self, node: yaml.Node, field_: Field, at: Path) -> object:
        self.locations.setdefault(at, self.where(node))
        kind = field_.kind
        if kind == "shape":
            assert field_.shape is not None
            return self.read_shape(node, field_.shape, at)
        if kind == "map":
            return self.read_map(node, field_, at)
        if kind == "list":
            return self.read_list(node, field_, at)
        return self.read_scalar(node, field_, kind, at)

    def read_map(self, node: yaml.Node, field_: Field, at: Path) -> dict[str, object] | None:
        if _is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.wrong_type(node, "a mapping of names to entries", at)
            return None
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in result:
                self.report.error(
                    self.where(key_node), "duplicate-key", f"'{key}' is declared twice; keep one"
                )
                continue
            self.locations[(*at, key)] = self.where(key_node)
            item = self.item(value_node, field_, (*at, key))
            if item is not None:
                result[key] = item
        return result

    def read_list(self, node: yaml.Node, field_: Field, at: Path) -> list[object] | None:
        if _is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.wrong_type(node, "a list", at)
            return None
        items = [self.item(n, field_, (*at, i)) for i, n in enumerate(node.value)]
        return [i for i in items if i is not None]

    def item(self, node: yaml.Node, field_: Field, at: Path) -> object:
        self.locations.setdefault(at, self.where(node))
        if field_.shape is not None and field_.item_kind == "shape":
            return self.read_shape(node, field_.shape, at)
        return self.read_scalar(node, field_, field_.item_kind, at)

    def read_scalar(self, node: yaml.Node, field_: Field, kind: str, at: Path) -> object:
        if not isinstance(node, yaml.ScalarNode):
            self.wrong_type(node, f"a single {kind} value", at)
            return None
        text = str(node.value)
        where = self.where(node)
        if node.tag == "tag:yaml.org,2002:null":
            return None
        if kind in _TEXT_KINDS:
            self.check_references(text, where, at)
        if kind == "string":
            return text
        if kind == "path":
            return text.strip("/")
        if kind == "status-range":
            # Other text is left out without an error: files that loaded before still load.
            match = _STATUS_RANGE.fullmatch(text.strip())
            return (int(match.group(1)), int(match.group(2) or match.group(1))) if match else None
        if kind == "bool":
            if text.lower() not in ("true", "false"):
                self.wrong_type(node, "true or false", at)
                return None
            return text.lower() == "true"
        if kind in ("int", "number"):
            try:
                number: float = int(text) if kind == "int" else float(text)
            except ValueError:
                self.wrong_type(node, "a whole number" if kind == "int" else "a number", at)
                return None
            return self.in_range(number, field_, node, at)
        if kind == "duration":
            seconds = parse_duration(text)
            if seconds is None:
                self.wrong_type(node, "a duration: seconds (30) or ISO 8601 (PT30S)", at)
                return None
            return seconds
        if kind == "enum":
            if text not in field_.choices:
                suggestion = nearest(text, field_.choices)
                hint = f"did you mean '{suggestion}'? " if suggestion else ""
                self.report.error(
                    where,
                    "invalid-value",
                    f"{_label(at)} is '{text}'; {hint}allowed: {', '.join(field_.choices)}",
                )
                return None
            return text
        if kind == "url":
            if not SECRET_REFERENCE.search(text):
                problem = url_problem(text, ("http", "https"))
                if problem is not None:
                    self.report.error(where, "invalid-value", f"{_label(at)}: {problem}")
                    return None
            return text
        return text

    def in_range(self, number: float, field_: Field, node: yaml.Node, at: Path) -> float | None:
        if field_.minimum is not None and number < field_.minimum:
            self.report.error(
                self.where(node),
                "invalid-value",
                f"{_label(at)} must be at least {field_.minimum:g}",
            )
            return None
        if field_.maximum is not None and number > field_.maximum:
            self.report.error(
                self.where(node),
                "invalid-value",
                f"{_label(at)} must be at most {field_.maximum:g}",
            )
            return None
        return number

    def check_references(self, text: str, where: Location, at: Path) -> None:
        for match in _ANY_REFERENCE.finditer(text):
            reference = SECRET_REFERENCE.fullmatch(match.group())
            if reference is None or not reference.group(2).strip():
                self.report.error(
                    where,
                    "invalid-reference",
                    f"'{match.group()}' in {_label(at)} is not a secret reference; write "
                    "${env:NAME} or ${file:PATH}",
                )


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _label(at: Path) -> str:
    return ".".join(str(p) for p in at)


def read_document(text: str, path: str, shape: Shape, report: Report) -> ReadResult | None:
    try:
        root = compose(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        report.error(where, "yaml-syntax", f"YAML syntax: {getattr(error, 'problem', error)}")
        return None
    if root is None:
        report.error(
            Location(path), "missing-key", "gateway.yaml is empty; declare at least 'apis'"
        )
        return None
    reader = ShapeReader(path, report)
    data = reader.read_shape(root, shape, ())
    if data is None:
        return None
    return ReadResult(data, reader.locations)
