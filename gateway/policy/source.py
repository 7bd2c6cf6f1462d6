"""Read one policy file, XML or YAML by its suffix, into a `Document`."""

from __future__ import annotations

from pathlib import Path

from gateway.common.diagnostics import Location, Report
from gateway.policy.tree import Document
from gateway.policy.xml_reader import read_xml
from gateway.policy.yaml_reader import read_yaml

POLICY_SUFFIXES = (".xml", ".yaml", ".yml")


def is_policy_file(path: Path) -> bool:
    return path.suffix.lower() in POLICY_SUFFIXES


def read_policy_text(
    text: str, path: str, report: Report, *, raw_markup_tags: frozenset[str] = frozenset()
) -> Document | None:
    if path.lower().endswith((".yaml", ".yml")):
        return read_yaml(text, path, report)
    return read_xml(text, path, report, raw_markup_tags=raw_markup_tags)


def read_policy_file(
    path: Path, report: Report, *, raw_markup_tags: frozenset[str] = frozenset()
) -> Document | None:
    """Read and parse `path`; an unreadable file is a diagnostic, not an exception."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        report.error(Location(str(path)), "unreadable-file", f"cannot read this file: {reason}")
        return None
    return read_policy_text(text, str(path), report, raw_markup_tags=raw_markup_tags)
