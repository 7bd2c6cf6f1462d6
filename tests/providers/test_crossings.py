"""The crossing rule, and docs/resilience.md's table of it: the table says what the code does.

Every row of the page's table agrees with `crossing` for a client of that API on a backend of
the same provider and of the other; every operation the code does not refuse across providers
has a row; and an operation the table does not name (one added to a style later) is refused
across providers, passed otherwise.
"""

from __future__ import annotations

import re

import pytest

from gateway.config.styles import BUILT_IN_OPERATIONS
from gateway.providers.crossings import CROSSINGS, crossing
from gateway.providers.models import models_to_openai
from tests.conftest import REPO

ROW = re.compile(r"^\| `(\w+)` \| (OpenAI|Anthropic) \| (\w[\w ]*?) \| (\w[\w ]*?) \|$", re.M)
WORDS = {"answered by the gateway": "answered"}
# A client style and a provider of the same API, and one of the other, per client API.
SIDES = {
    "OpenAI": (("openai", "azure-openai"), ("openai", "azure-openai", "groq"), ("anthropic",)),
    "Anthropic": (("anthropic",), ("anthropic",), ("openai", "azure-openai", "gemini")),
}


def table() -> list[tuple[str, str, str, str]]:
    page = (REPO / "docs" / "resilience.md").read_text(encoding="utf-8")
    rows = ROW.findall(page.split("### Which operations cross", 1)[1])
    assert rows, "docs/resilience.md lost its table of operations"
    return [
        (op, api, WORDS.get(same, same), WORDS.get(other, other)) for op, api, same, other in rows
    ]


def test_the_docs_table_is_the_codes_rule() -> None:
    for operation, api, same, other in table():
        styles, same_providers, other_providers = SIDES[api]
        for style in styles:
            assert {crossing(operation, style, p) for p in same_providers} == {same}, operation
            assert {crossing(operation, style, p) for p in other_providers} == {other}, operation


def test_every_operation_that_crosses_has_a_row_and_every_row_an_operation() -> None:
    documented = {operation for operation, *_ in table()}
    assert {operation for operation, _, _ in CROSSINGS} <= documented
    known = {op.id for templates in BUILT_IN_OPERATIONS.values() for op in templates}
    assert documented <= known


@pytest.mark.parametrize("operation", ["Images_Generate", "Batches_Create", "Messages_Batches"])
def test_an_operation_without_a_translation_is_refused_only_across_providers(
    operation: str,
) -> None:
    assert crossing(operation, "openai", "anthropic") == "refused"
    assert crossing(operation, "anthropic", "openai") == "refused"
    assert crossing(operation, "openai", "openai") == "passed"
    assert crossing(operation, "azure-openai", "mistral") == "passed"
    assert crossing(operation, "http", "anthropic") == "passed"
    assert crossing(operation, "openai", "http") == "passed"


@pytest.mark.parametrize("style", ["openai", "azure-openai", "anthropic"])
def test_a_wildcard_operation_passes_to_any_provider(style: str) -> None:
    for provider in ("openai", "anthropic", "gemini"):
        assert crossing("wildcard-post", style, provider) == "passed"


def test_anthropics_model_list_reads_as_openais() -> None:
    listed = models_to_openai(
        {
            "data": [
                {"type": "model", "id": "claude-x", "created_at": "2025-02-19T00:00:00Z"},
                {"type": "model", "id": "claude-y", "created_at": "not a date"},
            ],
            "has_more": False,
        }
    )
    assert listed == {
        "object": "list",
        "data": [
            {"id": "claude-x", "object": "model", "created": 1739923200, "owned_by": "anthropic"},
            {"id": "claude-y", "object": "model", "created": 0, "owned_by": "anthropic"},
        ],
    }
