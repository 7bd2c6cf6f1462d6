"""Loading a directory for serving: named values resolved from files and the environment, and
the directory's version."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.common.diagnostics import DiagnosticError
from gateway.expressions.model import ContextModel
from gateway.load import directory_version, load_gateway
from gateway.policy.loader import Target
from gateway.runtime.context import RequestContext

MakeDir = Callable[[dict[str, str]], Path]

FILES = {
    "gateway.yaml": """
        apis:
          inventory:
            path: inventory
            operations:
              - {id: list, method: GET, url-template: /items}
        named-values:
          tenant: contoso
          region: "${env:AIGW_TEST_REGION}"
          partner: {value: "${file:secrets/partner}", secret: true}
    """,
    "secrets/partner": "p-123\n",
    # No forward-request anywhere: this release cannot run it, and this test needs a load
    # that succeeds.
    "global.xml": """
        <policies>
            <inbound>
                <set-variable name="who" value="{{tenant}}-{{region}}" />
                <set-variable name="key" value="@(&quot;{{partner}}&quot;.ToUpper())" />
            </inbound>
            <backend />
        </policies>
    """,
}


def test_named_values_come_from_file_environment_and_secret_file(
    make_dir: MakeDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIGW_TEST_REGION", "westeurope")
    gateway = load_gateway(make_dir(FILES))
    policy = gateway.policies[Target("inventory", "list")]
    context = RequestContext(ContextModel())
    asyncio.run(policy.inbound.run(context))
    assert context.variables == {"who": "contoso-westeurope", "key": "P-123"}


def test_missing_environment_variable_fails_the_load_naming_it(
    make_dir: MakeDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIGW_TEST_REGION", raising=False)
    with pytest.raises(DiagnosticError) as caught:
        load_gateway(make_dir(FILES))
    [diagnostic] = [d for d in caught.value.diagnostics if d.is_error]
    assert diagnostic.rule == "unset-secret"
    assert diagnostic.location.line == 8
    assert "AIGW_TEST_REGION is not set" in diagnostic.message


def test_the_version_is_the_files_as_seen_through_symlinks_without_dot_entries(
    tmp_path: Path,
) -> None:
    plain, linked = tmp_path / "plain", tmp_path / "linked"
    (plain / "apis").mkdir(parents=True)
    (plain / "gateway.yaml").write_text("apis: {}")
    (plain / "apis" / "llm.xml").write_text("<policies />")
    first = directory_version(plain)
    assert len(first) == 12 and directory_version(plain) == first

    # A ConfigMap's shape: the same files, as links into `..data` (itself a link): same version.
    (linked / "..v1" / "apis").mkdir(parents=True)
    (linked / "..v1" / "gateway.yaml").write_text("apis: {}")
    (linked / "..v1" / "apis" / "llm.xml").write_text("<policies />")
    (linked / "..data").symlink_to("..v1")
    (linked / "gateway.yaml").symlink_to("..data/gateway.yaml")
    (linked / "apis").symlink_to("..data/apis")
    assert directory_version(linked) == first

    (plain / ".editor-swap").write_text("ignored")
    assert directory_version(plain) == first
    (plain / "apis" / "llm.xml").write_text("<policies><inbound /></policies>")
    assert directory_version(plain) != first
    (plain / "apis" / "llm.xml").rename(plain / "apis" / "chat.xml")
    renamed = directory_version(plain)
    (plain / "apis" / "chat.xml").write_text("<policies />")
    assert renamed != first and directory_version(plain) not in (first, renamed)
