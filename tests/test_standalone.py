"""The repository stands on its own: no code or doc points at a folder beside or above it.

A fresh `git clone` has nothing outside the repository, so a test reading `../shared/...`
fails there, and a comment citing it sends the reader nowhere.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO

OUTSIDE = (
    "../shared",
    'parent / "shared"',
    "REPO.parent",
    "parent.parent.parent",
    "/work/",
    "shared/reference/",
    "shared/apim-corpus",
)
PYTHON_FOLDERS = ("gateway", "tests", "bench", "tools")


def checked_files() -> list[Path]:
    """Python sources of the code folders, and every Markdown file outside hidden folders."""
    python = [path for folder in PYTHON_FOLDERS for path in (REPO / folder).rglob("*.py")]
    markdown = [
        path
        for path in REPO.rglob("*.md")
        if not any(part.startswith(".") for part in path.relative_to(REPO).parts)
    ]
    this_file = Path(__file__).resolve()  # it names the patterns
    return sorted(path for path in python + markdown if path.resolve() != this_file)


def test_nothing_points_outside_the_repository() -> None:
    files = checked_files()
    assert REPO / "README.md" in files and REPO / "tests" / "data" / "README.md" in files
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if any(pattern in line for pattern in OUTSIDE)
    ]
    assert not found, "refers outside the repository:\n" + "\n".join(found)
