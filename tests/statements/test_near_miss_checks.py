"""llm-semantic-cache-lookup's `near-miss-checks` (ours), linted: a name the near-miss guard
does not know would turn its check off without a word, so it is an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main

POLICY = """<policies>
    <inbound>
        <llm-semantic-cache-lookup score-threshold="0.1" embeddings-backend-id="embed"
            embeddings-backend-auth="system-assigned"
            near-miss-checks="{checks}" />
    </inbound>
</policies>
"""
ALLOWED = "all, none, or a comma-separated list of numbers, quoted, negations, entities, opposites"


def lint(tmp_path: Path, capsys: pytest.CaptureFixture[str], checks: str) -> list[dict]:
    """The errors of `aigw lint` on a lone file whose lookup gives these near-miss-checks."""
    path = tmp_path / "policy.xml"
    path.write_text(POLICY.format(checks=checks), encoding="utf-8")
    main(["lint", "--format", "json", str(path)])
    return [d for d in json.loads(capsys.readouterr().out) if d["severity"] == "error"]


def test_a_misspelt_check_is_an_error_that_names_the_check_meant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [error] = lint(tmp_path, capsys, "numbers, entites")
    assert error["rule"] == "invalid-value"
    assert (error["line"], error["column"]) == (5, 13)  # the attribute
    assert "'entites'" in error["message"]
    assert "did you mean 'entities'?" in error["message"]
    assert ALLOWED in error["message"]


def test_all_or_none_in_a_list_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # "all,numbers" keeps only numbers, "none,quoted" only quoted: neither says what it does.
    for checks in ("all,numbers", "none,quoted"):
        [error] = lint(tmp_path, capsys, checks)
        assert error["rule"] == "invalid-value" and ALLOWED in error["message"]


@pytest.mark.parametrize(
    "checks", ["all", "none", "None", "numbers", "numbers,negations", "Quoted, opposites,", ""]
)
def test_the_known_checks_lint_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], checks: str
) -> None:
    assert lint(tmp_path, capsys, checks) == []


def test_a_named_value_is_checked_once_it_is_known(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lint(tmp_path, capsys, "{{checks}}") == []
