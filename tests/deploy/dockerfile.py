"""deploy/Dockerfile read as Docker reads it (dockerfile-parse), and .dockerignore applied to
the repository as Docker applies it, for the tests: no Docker engine runs here."""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass

from dockerfile_parse import DockerfileParser

from tests.conftest import REPO

DOCKERFILE = REPO / "deploy" / "Dockerfile"


@dataclass(frozen=True)
class Instruction:
    name: str  # FROM, COPY, RUN, ...
    value: str

    @property
    def words(self) -> list[str]:
        """The exec form's list, or the shell form's words."""
        text = self.value.strip()
        if text.startswith("["):
            return list(json.loads(text))
        return text.split()


def stages() -> list[list[Instruction]]:
    """Each build stage's instructions, its FROM first."""
    found: list[list[Instruction]] = []
    for item in DockerfileParser(path=str(DOCKERFILE)).structure:
        if item["instruction"] == "COMMENT":
            continue
        instruction = Instruction(item["instruction"], item["value"])
        if instruction.name == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def only(stage: list[Instruction], name: str) -> Instruction:
    matches = [i for i in stage if i.name == name]
    assert len(matches) == 1, f"{name}: {matches}"
    return matches[0]


def in_context(relative: str, rules: list[str]) -> bool:
    """Whether .dockerignore's `rules` leave `relative` in the build context: the last rule
    that matches the path or a folder above it decides (Docker's order)."""
    keep = True
    parts = relative.split("/")
    for rule in rules:
        negated = rule.startswith("!")
        pattern = rule.removeprefix("!").rstrip("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if fnmatch.fnmatchcase(prefix, pattern) or (
                pattern.startswith("**/") and fnmatch.fnmatchcase(parts[depth - 1], pattern[3:])
            ):
                keep = negated
                break
    return keep


def ignore_rules() -> list[str]:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def context_files() -> set[str]:
    """The repository's tracked-or-not files that reach the build context."""
    rules = ignore_rules()
    found = set()
    for path in REPO.rglob("*"):
        relative = path.relative_to(REPO).as_posix()
        outside = relative.startswith((".git/", ".venv/"))
        if path.is_file() and not outside and in_context(relative, rules):
            found.add(relative)
    return found
