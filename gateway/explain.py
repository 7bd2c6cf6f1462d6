"""`aigw explain`: the effective policy for one API operation, each statement with its origin."""

from __future__ import annotations

import os
from pathlib import Path

from gateway.common.diagnostics import DiagnosticError
from gateway.common.suggest import nearest
from gateway.load import inspect_directory
from gateway.policy.loader import Target
from gateway.policy.tree import Node
from gateway.policy.writer import to_xml

_STRUCTURE = frozenset({"policies", "inbound", "backend", "outbound", "on-error"})


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


def _explain_target(
    target: Target, document: Node, root: Path, info: dict[tuple[str, str], str]
) -> str:
    def origin(node: Node) -> str | None:
        if node.tag in _STRUCTURE:
            return None
        path = node.location.path
        shown = os.path.relpath(path, root) if os.path.isabs(path) or os.path.exists(path) else path
        return f"{shown}:{node.location.line}"

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
