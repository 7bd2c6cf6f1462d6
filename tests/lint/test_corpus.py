"""The linter over the real APIM corpus: never a crash, and the clean share does not regress."""

from __future__ import annotations

from collections import defaultdict

from gateway.lint.linter import lint_paths
from tests.conftest import CORPUS, corpus_files

# Measured when written: 171 of 199 files lint with no error. The rest: deploy-time
# placeholders such as {retry-count} (13), files broken upstream (4), toolkit-only spellings
# (estimate-prompt-token, cache-id; 4) and real violations (authentication-managed-identity in
# outbound, emit-metric without dimensions, token-quota-period="day", ...).
CLEAN_FLOOR = 171


def test_corpus_lints_without_crash_and_keeps_its_clean_share() -> None:
    result = lint_paths([CORPUS])
    assert not result.failed
    assert not [d for d in result.diagnostics if d.rule == "internal-error"]
    errors: dict[str, int] = defaultdict(int)
    for diagnostic in result.diagnostics:
        if diagnostic.is_error:
            errors[diagnostic.location.path] += 1
    files = corpus_files()
    assert result.files == len(files) == 199
    assert len(files) - len(errors) >= CLEAN_FLOOR
