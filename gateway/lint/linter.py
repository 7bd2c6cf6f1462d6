"""`aigw lint`: check policy files and policies directories without starting anything.

A path inside a policies directory (one with gateway.yaml) is checked with everything the
directory declares. A lone file is checked for everything that does not need the directory;
its references to backends, fragments and named values become warnings, since nothing can
say whether they exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from gateway.common.diagnostics import Diagnostic, Location, Report, Severity
from gateway.lint.base_urls import base_url_warnings
from gateway.lint.unpriced import unpriced_warnings
from gateway.load import inspect_directory
from gateway.policy.compiler import Compiler
from gateway.policy.directory import find_policies_directory
from gateway.policy.expression_check import ExpressionChecker
from gateway.policy.loader import raw_markup_tags
from gateway.policy.registry import Registry
from gateway.policy.source import is_policy_file, read_policy_file
from gateway.policy.validate import DocumentValidator
from gateway.statements import default_registry


@dataclass
class LintResult:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: int = 0
    failed: bool = False  # the linter itself broke on some input: exit 2

    def guard(self, path: Path, check: Callable[[], None]) -> None:
        """Run one check; a crash becomes an `internal-error` diagnostic, never a traceback."""
        try:
            check()
        except Exception as error:
            self.failed = True
            self.diagnostics.append(
                Diagnostic(
                    Location(str(path)),
                    Severity.ERROR,
                    "internal-error",
                    f"the linter failed on this input ({type(error).__name__}: {error}); "
                    "please report it with the file",
                )
            )

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)


def lint_paths(paths: Iterable[Path], registry: Registry | None = None) -> LintResult:
    registry = registry or default_registry()
    result = LintResult()
    directories: dict[Path, set[Path] | None] = {}  # None: the whole directory
    lone: list[Path] = []
    for path in paths:
        if not path.exists():
            result.diagnostics.append(
                Diagnostic(
                    Location(str(path)), Severity.ERROR, "no-such-file", "no such file or directory"
                )
            )
            continue
        root = find_policies_directory(path)
        if root is not None and (path.is_file() or path.resolve() == root.resolve()):
            if path.is_file():
                wanted = directories.setdefault(root, set())
                if wanted is not None:
                    wanted.add(path.resolve())
            else:
                directories[root] = None
        elif path.is_dir():
            lone.extend(_policy_files_under(path, directories))
        else:
            lone.append(path)
    for root, wanted in directories.items():
        result.guard(root, lambda r=root, w=wanted: _lint_directory(r, w, registry, result))
    for path in lone:
        result.files += 1
        result.guard(path, lambda p=path: result.diagnostics.extend(lint_file(p, registry)))
    return result


def _policy_files_under(folder: Path, directories: dict[Path, set[Path] | None]) -> list[Path]:
    """Lone policy files below `folder`; nested policies directories are linted as such."""
    files: list[Path] = []
    for path in sorted(folder.rglob("*")):
        if path.is_dir() and (path / "gateway.yaml").is_file():
            directories[path] = None
        elif path.is_file() and is_policy_file(path) and find_policies_directory(path) is None:
            files.append(path)
    return files


def _lint_directory(
    root: Path, wanted: set[Path] | None, registry: Registry, result: LintResult
) -> None:
    inspection = inspect_directory(root, registry, runtime_errors=False)
    config = inspection.config
    listed = config is not None and bool(config.set_backend_service.allowed_urls)
    diagnostics = [
        *inspection.report.sorted(),
        *unpriced_warnings(inspection),
        *base_url_warnings(inspection.effective.values(), listed),
    ]
    if wanted is not None:
        keep = {str(p) for p in wanted}
        diagnostics = [d for d in diagnostics if str(Path(d.location.path).resolve()) in keep]
        result.files += len(wanted)
    else:
        result.files += inspection.files
    result.diagnostics.extend(diagnostics)


def lint_file(path: Path, registry: Registry | None = None) -> list[Diagnostic]:
    """Check one policy file on its own, outside any policies directory."""
    registry = registry or default_registry()
    report = Report()
    document = read_policy_file(path, report, raw_markup_tags=raw_markup_tags(registry))
    if document is None:
        return report.sorted()
    checker = ExpressionChecker({})
    references = DocumentValidator(registry, report, checker, None).validate(document)
    unchecked = (
        ("backend", references.backends),
        ("fragment", references.fragments),
        ("named value", references.named_values),
        ("logger", references.loggers),
    )
    for kind, found in unchecked:
        for name, where in found:
            report.warning(
                where,
                "unchecked-reference",
                f"{kind} '{name}' cannot be checked: this file is not in a policies directory "
                "(a folder with gateway.yaml)",
            )
    compiler = Compiler(registry, checker, report, runtime_errors=False)
    if document.root.tag == "fragment":
        compiler.chain(document.root.children)
    else:
        compiler.document(document.root)
    return [*report.sorted(), *base_url_warnings([document.root], allowlisted=False)]
