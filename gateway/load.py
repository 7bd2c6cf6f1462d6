"""Load a policies directory: gateway.yaml and every policy file, checked, merged, compiled.

`inspect_directory` never raises for bad input: it returns what it could build and every
diagnostic. `load_gateway` is what the proxy calls: it raises `DiagnosticError` with all the
errors at once when anything is wrong, so a running gateway can keep its old chains.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from gateway.common.diagnostics import DiagnosticError, Location, Report
from gateway.config.loader import load_gateway_config
from gateway.config.secrets import SecretUnavailable
from gateway.config.settings import GatewayConfig
from gateway.config.styles import BUILT_IN_OPERATIONS, wildcard_operations
from gateway.policy.compiler import Compiler
from gateway.policy.directory import GATEWAY_FILE, discover
from gateway.policy.expression_check import ExpressionChecker
from gateway.policy.loader import (
    DirectoryFacts,
    Target,
    check_effective,
    check_references,
    effective_documents,
    read_documents,
    scope_names,
)
from gateway.policy.registry import Registry
from gateway.policy.tree import Node
from gateway.runtime.step import CompiledPolicy
from gateway.statements import default_registry


@dataclass
class Inspection:
    root: Path
    report: Report
    config: GatewayConfig | None = None
    effective: dict[Target, Node] = field(default_factory=dict)
    policies: dict[Target, CompiledPolicy] = field(default_factory=dict)
    operation_info: dict[tuple[str, str], str] = field(default_factory=dict)
    files: int = 0


@dataclass(frozen=True)
class LoadedGateway:
    """A policies directory ready to serve: its configuration and one chain set per target."""

    root: Path
    config: GatewayConfig
    policies: dict[Target, CompiledPolicy]
    version: str = ""  # directory_version(root) when it was read


def directory_version(root: Path) -> str:
    """A hash of the directory's files (relative paths and contents): the configuration's
    version. Symlinks are followed and dot-entries skipped, so a Kubernetes ConfigMap (files
    linking into `..data`, itself a link swapped on update) hashes as the files it shows."""
    digest = hashlib.sha256()
    for folder, folders, files in os.walk(root, followlinks=True):
        folders[:] = sorted(name for name in folders if not name.startswith("."))
        for name in sorted(name for name in files if not name.startswith(".")):
            path = Path(folder, name)
            try:
                content = path.read_bytes()
            except OSError:  # vanished meanwhile (or a dangling link): the next look sees it
                continue
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()[:12]


def operations_of(config: GatewayConfig) -> dict[str, list[tuple[str, str, str]]]:
    """API id -> its operations as (id, method, URL template)."""
    result: dict[str, list[tuple[str, str, str]]] = {}
    for api_id, api in config.apis.items():
        declared = [(op.id, op.method, op.url_template) for op in api.operations]
        built_in = [(op.id, op.method, op.url_template) for op in BUILT_IN_OPERATIONS[api.style]]
        wildcards = wildcard_operations(api.wildcard_operations)
        result[api_id] = built_in + declared + [(o.id, o.method, o.url_template) for o in wildcards]
    return result


def facts_of(config: GatewayConfig, config_path: str) -> DirectoryFacts:
    operations = operations_of(config)
    return DirectoryFacts(
        # An operation served at several URLs (Azure's) is one operation.
        apis={api: tuple(dict.fromkeys(op[0] for op in ops)) for api, ops in operations.items()},
        products={pid: tuple(product.apis) for pid, product in config.products.items()},
        backends=frozenset(config.backends),
        embedders=frozenset(config.embedders),
        named_values={name: nv.plain_value for name, nv in config.named_values.items()},
        config_path=config_path,
        loggers=frozenset(config.loggers),
    )


def inspect_directory(
    root: Path, registry: Registry | None = None, *, runtime_errors: bool = True
) -> Inspection:
    """Everything `aigw lint`, `explain` and `run` need to know about a directory."""
    registry = registry or default_registry()
    report = Report()
    inspection = Inspection(root, report)
    config_path = root / GATEWAY_FILE
    if not config_path.is_file():
        report.error(
            Location(str(config_path)),
            "missing-gateway-yaml",
            "a policies directory needs gateway.yaml declaring at least its 'apis'",
        )
        return inspection
    config, diagnostics = load_gateway_config(config_path)
    report.extend(diagnostics)
    layout = discover(root, report)
    inspection.files = len(layout.files()) + 1
    if config is None:
        return inspection
    inspection.config = config
    facts = facts_of(config, str(config_path))
    for api, ops in operations_of(config).items():
        for op_id, method, template in ops:
            inspection.operation_info.setdefault((api, op_id), f"{method} {template}")
    checker = ExpressionChecker(facts.named_values)
    documents, references = read_documents(layout, registry, checker, report)
    if runtime_errors:  # serving: named values take their real, resolved values
        checker = ExpressionChecker(_resolved_named_values(config, report, str(config_path)))
    check_references(layout, references, facts, report)
    inspection.effective = effective_documents(layout, documents, facts)
    fragment_paths = frozenset(str(f.path) for f in layout.fragments.values())
    check_effective(inspection.effective, registry, report, fragment_paths)
    compiler = Compiler(
        registry, checker, report, runtime_errors=runtime_errors, scopes=scope_names(layout)
    )
    inspection.policies = {
        target: compiler.document(root_node) for target, root_node in inspection.effective.items()
    }
    return inspection


def _resolved_named_values(
    config: GatewayConfig, report: Report, config_path: str
) -> dict[str, str | None]:
    """Every named value with its `${env:...}`/`${file:...}` resolved; failures are errors."""
    values: dict[str, str | None] = {}
    for name, named in config.named_values.items():
        try:
            values[name] = named.value.resolve()
        except SecretUnavailable as error:
            values[name] = None
            report.error(
                named.where or Location(config_path),
                "unset-secret",
                f"named value '{name}' cannot be loaded: {error}",
            )
    return values


def load_gateway(root: Path, registry: Registry | None = None) -> LoadedGateway:
    """Load for serving; raises DiagnosticError listing every error when anything is wrong."""
    version = directory_version(root)  # before reading: a change meanwhile shows next time
    inspection = inspect_directory(root, registry, runtime_errors=True)
    if inspection.report.has_errors or inspection.config is None:
        raise DiagnosticError(inspection.report.sorted())
    return LoadedGateway(root, inspection.config, inspection.policies, version)
