"""`aigw explain`: the effective policy for one API operation, each statement with its origin;
and, for the dashboard, every target and the limits in effect per subscription."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gateway.common.diagnostics import DiagnosticError
from gateway.common.suggest import nearest
from gateway.load import inspect_directory
from gateway.policy.loader import Target
from gateway.policy.tree import Node
from gateway.policy.writer import to_xml

_STRUCTURE = frozenset({"policies", "inbound", "backend", "outbound", "on-error"})
# Counted per subscription by definition; the others only when their counter key says so.
_PER_SUBSCRIPTION = frozenset({"rate-limit", "quota"})
_SUBSCRIPTION_KEY = "@(context.Subscription.Id)"
_NOT_SHOWN = frozenset({"id", "counter-key", "increment-condition", "increment-count"})


@dataclass(frozen=True)
class Limit:
    """A limit counted per subscription, in one target's effective policy."""

    target: Target
    statement: str
    settings: tuple[tuple[str, str], ...]  # its attributes as written (no counter key)
    origin: str  # file:line


@dataclass(frozen=True)
class Overview:
    targets: list[Target]
    operations: dict[tuple[str, str], str]  # (api, operation) -> "METHOD /template"
    limits: list[Limit]


def explain(
    root: Path, *, api: str, operation: str | None = None, product: str | None = None
) -> str:
    inspection = inspect_directory(root, runtime_errors=False)
    errors = inspection.report.errors
    chosen = [
        t
        for t in inspection.effective
        if t.api == api and t.product == product and (operation is None or t.operation == operation)
    ]
    if not chosen:
        if errors:
            raise DiagnosticError(errors)
        raise ValueError(_no_target_message(inspection.effective, api, operation, product))
    parts = [
        _explain_target(target, inspection.effective[target], root, inspection.operation_info)
        for target in chosen
    ]
    return "\n".join(parts)


def overview(root: Path) -> Overview:
    """Every target `aigw explain` can print, and the per-subscription limits in each: the
    rate-limit and quota statements, and the statements whose `counter-key` is the
    subscription's id (llm-token-limit, rate-limit-by-key, ...). Limits keyed otherwise (by
    IP, by an expression of a header) are not any one subscription's, so they are left out."""
    inspection = inspect_directory(root, runtime_errors=False)
    limits = [
        Limit(target, node.tag, _settings(node), _origin(node, root) or "")
        for target, document in inspection.effective.items()
        for node in _walk(document)
        if node.tag in _PER_SUBSCRIPTION or node.attr_text("counter-key") == _SUBSCRIPTION_KEY
    ]
    order = sorted(inspection.effective, key=lambda t: (t.api, t.operation, t.product or ""))
    return Overview(order, dict(inspection.operation_info), limits)


def _walk(node: Node) -> list[Node]:
    return [node, *(found for child in node.children for found in _walk(child))]


def _settings(node: Node) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, attribute.value.text)
        for name, attribute in node.attributes.items()
        if name not in _NOT_SHOWN
    )


def _origin(node: Node, root: Path) -> str | None:
    if node.tag in _STRUCTURE:
        return None
    path = node.location.path
    shown = os.path.relpath(path, root) if os.path.isabs(path) or os.path.exists(path) else path
    return f"{shown}:{node.location.line}"


def _explain_target(
    target: Target, document: Node, root: Path, info: dict[tuple[str, str], str]
) -> str:
    def origin(node: Node) -> str | None:
        return _origin(node, root)

    header = (
        f"<!-- api: {target.api}  operation: {target.operation} "
        f"({info.get((target.api, target.operation), '')})  "
        f"product: {target.product or '(none: API or all-APIs subscription, or no key)'} -->\n"
    )
    return header + to_xml(document, annotate=origin)


def _no_target_message(
    effective: dict[Target, Node], api: str, operation: str | None, product: str | None
) -> str:
    apis = sorted({t.api for t in effective})
    if api not in apis:
        hint = nearest(api, apis)
        return f"no API '{api}'" + (
            f"; did you mean '{hint}'?" if hint else f" (APIs: {', '.join(apis)})"
        )
    operations = sorted({t.operation for t in effective if t.api == api})
    if operation is not None and operation not in operations:
        return (
            f"API '{api}' has no operation '{operation}' (its operations: {', '.join(operations)})"
        )
    products = sorted({t.product for t in effective if t.api == api and t.product})
    return (
        f"API '{api}' is not in product '{product}' (its products: {', '.join(products) or 'none'})"
    )
