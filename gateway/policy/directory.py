"""Find the policy files of a policies directory and say which scope each belongs to.

    gateway.yaml
    global.xml                          scope: all APIs
    products/<product-id>.xml           scope: one product
    apis/<api-id>.xml                   scope: one API
    apis/<api-id>/<operation-id>.xml    scope: one operation
    fragments/<fragment-id>.xml         reusable pieces for <include-fragment>

Any `.xml` may be `.yaml`/`.yml` instead; two files for the same scope are an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gateway.common.diagnostics import Location, Report
from gateway.policy.source import is_policy_file
from gateway.policy.spec import PolicyScope

GATEWAY_FILE = "gateway.yaml"


@dataclass(frozen=True, slots=True)
class ScopeFile:
    """One policy file and its place: `scope` None for a fragment."""

    path: Path
    scope: PolicyScope | None
    product: str | None = None
    api: str | None = None
    operation: str | None = None
    fragment: str | None = None


@dataclass
class Layout:
    root: Path
    global_file: ScopeFile | None = None
    products: dict[str, ScopeFile] = field(default_factory=dict)
    apis: dict[str, ScopeFile] = field(default_factory=dict)
    operations: dict[tuple[str, str], ScopeFile] = field(default_factory=dict)
    fragments: dict[str, ScopeFile] = field(default_factory=dict)

    def files(self) -> list[ScopeFile]:
        found = [self.global_file] if self.global_file else []
        for group in (self.products, self.apis, self.operations, self.fragments):
            found.extend(group.values())
        return sorted(found, key=lambda f: str(f.path))


def is_policies_directory(path: Path) -> bool:
    return (path / GATEWAY_FILE).is_file()


def find_policies_directory(path: Path) -> Path | None:
    """The policies directory `path` is in (itself, or up to two levels up)."""
    candidate = path if path.is_dir() else path.parent
    for folder in (candidate, candidate.parent, candidate.parent.parent):
        if is_policies_directory(folder):
            return folder
    return None


def discover(root: Path, report: Report) -> Layout:
    layout = Layout(root)
    _add_global(layout, report)
    for path in _policy_files(root / "products"):
        _put(
            layout.products,
            path.stem,
            ScopeFile(path, PolicyScope.PRODUCT, product=path.stem),
            report,
        )
    for path in _policy_files(root / "fragments"):
        _put(layout.fragments, path.stem, ScopeFile(path, None, fragment=path.stem), report)
    apis_dir = root / "apis"
    for path in _policy_files(apis_dir):
        _put(layout.apis, path.stem, ScopeFile(path, PolicyScope.API, api=path.stem), report)
    if apis_dir.is_dir():
        for folder in sorted(p for p in apis_dir.iterdir() if p.is_dir()):
            for path in _policy_files(folder):
                scope_file = ScopeFile(
                    path, PolicyScope.OPERATION, api=folder.name, operation=path.stem
                )
                _put(layout.operations, (folder.name, path.stem), scope_file, report)
    _warn_strays(root, report)
    return layout


def _add_global(layout: Layout, report: Report) -> None:
    candidates = [layout.root / f"global{s}" for s in (".xml", ".yaml", ".yml")]
    present = [p for p in candidates if p.is_file()]
    if present:
        layout.global_file = ScopeFile(present[0], PolicyScope.GLOBAL)
    for extra in present[1:]:
        _report_twice(extra, present[0], report)


def _policy_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and is_policy_file(p))


def _put(group: dict, key: object, scope_file: ScopeFile, report: Report) -> None:
    if key in group:
        _report_twice(scope_file.path, group[key].path, report)
        return
    group[key] = scope_file


def _report_twice(path: Path, first: Path, report: Report) -> None:
    report.error(
        Location(str(path)),
        "duplicate-scope-file",
        f"{first.name} already defines this scope; keep one of the two files",
    )


def _warn_strays(root: Path, report: Report) -> None:
    """Policy files where no scope is read from, so the author learns they are ignored."""
    known_dirs = {"products", "apis", "fragments"}
    for path in sorted(root.iterdir()):
        if path.is_file() and is_policy_file(path) and path.stem != "global":
            if path.name == GATEWAY_FILE:
                continue
            report.warning(
                Location(str(path)),
                "stray-file",
                "this file is not read: scope files are global.xml, products/<id>.xml, "
                "apis/<id>.xml, apis/<id>/<operation>.xml and fragments/<id>.xml",
            )
        elif (
            path.is_dir()
            and path.name not in known_dirs
            and not path.name.startswith(".")
            and any(is_policy_file(p) for p in path.rglob("*"))
        ):
            report.warning(
                Location(str(path)),
                "stray-file",
                f"the folder '{path.name}' is not read; policy folders are products/, "
                "apis/ and fragments/",
            )
