"""Load the policy files of a directory: parse, validate, check references, merge scopes.

The policy engine does not read gateway.yaml itself; the caller passes the facts it needs
(`DirectoryFacts`): which APIs, operations, products, backends and named values exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gateway.common.diagnostics import Location, Report
from gateway.common.suggest import nearest
from gateway.policy.directory import Layout, ScopeFile
from gateway.policy.expression_check import ExpressionChecker
from gateway.policy.registry import Registry
from gateway.policy.scopes import DEFAULT_GLOBAL_PATH, inline_fragments, merge
from gateway.policy.source import read_policy_file
from gateway.policy.spec import Multiplicity, PolicyScope, Section
from gateway.policy.tree import Document, Node
from gateway.policy.validate import DocumentValidator, References, iter_statements


@dataclass(frozen=True)
class DirectoryFacts:
    """What gateway.yaml declares, as far as policies are concerned."""

    apis: Mapping[str, tuple[str, ...]]  # API id -> its operation ids
    products: Mapping[str, tuple[str, ...]]  # product id -> the API ids it contains
    backends: frozenset[str]
    embedders: frozenset[str]  # gateway.yaml's `embedders` (embeddings-backend-id may name one)
    named_values: Mapping[str, str | None]  # None: a secret, not shown to the linter
    config_path: str = "gateway.yaml"
    loggers: frozenset[str] = frozenset()  # gateway.yaml's `loggers` (log-to-eventhub's)


@dataclass(frozen=True, slots=True)
class Target:
    """What a request can hit: an operation of an API, in a product context or not."""

    api: str
    operation: str
    product: str | None = None


def raw_markup_tags(registry: Registry) -> frozenset[str]:
    return frozenset(
        name
        for spec in registry.specs()
        if spec.text and spec.text.raw_markup
        for name in spec.names
    )


def read_documents(
    layout: Layout, registry: Registry, checker: ExpressionChecker, report: Report
) -> tuple[dict[ScopeFile, Document], dict[ScopeFile, References]]:
    raw = raw_markup_tags(registry)
    documents: dict[ScopeFile, Document] = {}
    references: dict[ScopeFile, References] = {}
    for scope_file in layout.files():
        document = read_policy_file(scope_file.path, report, raw_markup_tags=raw)
        if document is None:
            continue
        expected = "fragment" if scope_file.fragment else "policies"
        if document.root.tag != expected:
            report.error(
                document.root.location,
                "wrong-root",
                f"a file in {'fragments/' if scope_file.fragment else 'this place'} starts "
                f"with <{expected}>, not <{document.root.tag}>",
            )
            continue
        validator = DocumentValidator(registry, report, checker, scope_file.scope)
        references[scope_file] = validator.validate(document)
        documents[scope_file] = document
    return documents, references


def check_references(
    layout: Layout,
    references: Mapping[ScopeFile, References],
    facts: DirectoryFacts,
    report: Report,
) -> None:
    for scope_file, found in references.items():
        for backend, where in found.backends:
            if backend not in facts.backends:
                _dangling(report, where, "backend", backend, facts.backends, "backends")
        for name, where in found.embedders:
            if name not in facts.backends | facts.embedders:
                known = facts.backends | facts.embedders
                _dangling(report, where, "backend or embedder", name, known, "embedders")
        for name, where in found.loggers:
            if name not in facts.loggers:
                _dangling(report, where, "logger", name, facts.loggers, "loggers")
        for fragment, where in found.fragments:
            if fragment not in layout.fragments:
                _dangling(report, where, "fragment", fragment, layout.fragments, None)
            elif scope_file.fragment is not None:
                report.error(
                    where, "fragment-nesting", "a fragment cannot include another fragment"
                )
        for name, where in found.named_values:
            if name not in facts.named_values:
                _dangling(report, where, "named value", name, facts.named_values, "named-values")
    _check_scope_names(layout, facts, report)


def _dangling(
    report: Report,
    where: Location,
    kind: str,
    name: str,
    known: Iterable[str],
    config_key: str | None,
) -> None:
    suggestion = nearest(name, known)
    if suggestion:
        fix = f"did you mean '{suggestion}'?"
    elif config_key:
        fix = f"declare it under '{config_key}' in gateway.yaml"
    else:
        fix = f"add fragments/{name}.xml"
    report.error(where, "unknown-reference", f"no {kind} named '{name}'; {fix}")


def _check_scope_names(layout: Layout, facts: DirectoryFacts, report: Report) -> None:
    for product, scope_file in layout.products.items():
        if product not in facts.products:
            _stray_scope(report, scope_file, f"product '{product}'", "products")
    for api, scope_file in layout.apis.items():
        if api not in facts.apis:
            _stray_scope(report, scope_file, f"API '{api}'", "apis")
    for (api, operation), scope_file in layout.operations.items():
        if api not in facts.apis:
            _stray_scope(report, scope_file, f"API '{api}'", "apis")
        elif operation not in facts.apis[api]:
            known = ", ".join(facts.apis[api]) or "none"
            report.error(
                Location(str(scope_file.path)),
                "unknown-reference",
                f"API '{api}' has no operation '{operation}' (its operations: {known})",
            )


def _stray_scope(report: Report, scope_file: ScopeFile, what: str, key: str) -> None:
    report.error(
        Location(str(scope_file.path)),
        "unknown-reference",
        f"gateway.yaml declares no {what}; add it under '{key}' or rename this file",
    )


def targets(facts: DirectoryFacts) -> list[Target]:
    """Every (product context, API, operation) a request can be served under."""
    found: list[Target] = []
    for api, operations in facts.apis.items():
        contexts: list[str | None] = [None]
        contexts += [p for p, apis in facts.products.items() if api in apis]
        for product in contexts:
            found.extend(Target(api, operation, product) for operation in operations)
    return found


def effective_documents(
    layout: Layout, documents: Mapping[ScopeFile, Document], facts: DirectoryFacts
) -> dict[Target, Node]:
    def root(scope_file: ScopeFile | None) -> Node | None:
        if scope_file is None or scope_file not in documents:
            return None
        return documents[scope_file].root

    fragments = {name: documents[f].root for name, f in layout.fragments.items() if f in documents}
    included: dict[int, list[Node]] = {}  # each include's statements, shared by every target
    global_root = root(layout.global_file)
    merged: dict[Target, Node] = {}
    for target in targets(facts):
        chain = [
            global_root,
            root(layout.products.get(target.product)) if target.product else None,
            root(layout.apis.get(target.api)),
            root(layout.operations.get((target.api, target.operation))),
        ]
        merged[target] = inline_fragments(merge(chain), fragments, included)
    return merged


def scope_names(layout: Layout) -> dict[str, str]:
    """Each scope file's path -> its scope: what a failure of a statement there reports.

    Fragments have none: their statements are the including document's.
    """
    names = {DEFAULT_GLOBAL_PATH: PolicyScope.GLOBAL.value}  # APIM's default global policy
    for scope_file in layout.files():
        if scope_file.scope is not None:
            names[str(scope_file.path)] = scope_file.scope.value
    return names


def check_effective(
    effective: Mapping[Target, Node],
    registry: Registry,
    report: Report,
    fragment_paths: frozenset[str] = frozenset(),
) -> None:
    """Rules that hold for the merged document, across scopes and fragments."""
    for document in effective.values():
        _check_fragment_sections(document, registry, report, fragment_paths)
        once_per_document: dict[str, Node] = {}
        for section in document.children:
            for node in section.children:
                spec = registry.get(node.tag)
                if spec is None or spec.multiplicity is not Multiplicity.ONCE_PER_DOCUMENT:
                    continue
                first = once_per_document.setdefault(spec.name, node)
                # A fragment included twice puts in two copies of one statement: no repeat.
                if first.location != node.location:
                    report.error(
                        node.location,
                        "duplicate-statement",
                        f"<{node.tag}> may appear only once in the effective policy, and "
                        f"{first.location} already has one; remove one of them",
                    )
        backend = document.child("backend")
        if backend is not None and not any(n.tag == "forward-request" for n in backend.walk()):
            report.warning(
                backend.location,
                "no-forward-request",
                "the effective <backend> has no <forward-request/>, so the backend is never "
                "called; add <base/> or <forward-request/> to <backend>",
            )


def _check_fragment_sections(
    document: Node, registry: Registry, report: Report, fragment_paths: frozenset[str]
) -> None:
    """A fragment's statements must be legal in every section that includes them."""
    for section in document.children:
        for node in iter_statements(section.children, registry):
            spec = registry.get(node.tag)
            if node.location.path not in fragment_paths or spec is None:
                continue
            if Section(section.tag) not in spec.sections:
                allowed = ", ".join(s.value for s in Section if s in spec.sections)
                report.error(
                    node.location,
                    "wrong-section",
                    f"<{node.tag}> comes from this fragment into <{section.tag}>, where it cannot "
                    f"run; it may appear in: {allowed}",
                )
