"""`aigw convert`: policy XML to YAML and back, through the one policy tree."""

from __future__ import annotations

from pathlib import Path

from gateway.common.diagnostics import DiagnosticError, Report
from gateway.policy.loader import raw_markup_tags
from gateway.policy.source import read_policy_file
from gateway.policy.writer import to_xml, to_yaml
from gateway.statements import default_registry


def convert_file(path: Path, *, to: str | None = None) -> str:
    """The text of `path` in the other format (or in `to`). Raises DiagnosticError if unreadable."""
    report = Report()
    document = read_policy_file(path, report, raw_markup_tags=raw_markup_tags(default_registry()))
    if document is None:
        raise DiagnosticError(report.sorted())
    target = to or ("xml" if path.suffix.lower() in (".yaml", ".yml") else "yaml")
    return to_xml(document.root) if target == "xml" else to_yaml(document.root)
