"""`aigw check DIR` as a user runs it: a real process against the fake provider (a real
process too), the shared Redis, a closed port, a wrong key and an unset one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.checks.runs import check, lines_by_name
from tests.conftest import REDIS_URL, require_redis
from tests.fakes.keys import GOOD_KEY
from tests.proxy.processes import fake_provider, free_port

WRONG_KEY = "sk-wrong-0123456789"
URL_PASSWORD = "pw-in-the-url-42"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with fake_provider(free_port()) as url:
        yield url


def test_each_backend_and_store_gets_a_line_and_any_failure_fails_the_gate(
    tmp_path: Path, provider: str
) -> None:
    require_redis()
    (tmp_path / "azure.key").write_text(GOOD_KEY + "\n")
    closed = free_port()
    dead = f"http://probe:{URL_PASSWORD}@127.0.0.1:{closed}/v1"
    (tmp_path / "gateway.yaml").write_text(
        f"""
stores:
  default: "{REDIS_URL}"
  cache: redis://:{URL_PASSWORD}@127.0.0.1:{free_port()}/0
backends:
  good-openai: {{url: "{provider}/keyed/v1", provider: openai, api-key: "${{env:CHECK_GOOD_KEY}}"}}
  good-azure: {{url: "{provider}/keyed/openai", provider: azure-openai, api-key: "${{file:azure.key}}"}}
  good-anthropic: {{url: "{provider}/keyed", provider: anthropic, api-key: "${{env:CHECK_GOOD_KEY}}"}}
  wrong-key: {{url: "{provider}/keyed/v1", provider: openai, api-key: "{WRONG_KEY}"}}
  unset-key: {{url: "{provider}/keyed/v1", provider: openai, api-key: "${{env:CHECK_UNSET_KEY}}"}}
  dead: {{url: "{dead}", provider: openai}}
  pool:
    pool: {{services: [good-openai, dead]}}
admin: {{subscriptions: "{REDIS_URL}"}}
ledger: {{enabled: false}}
apis:
  chat: {{path: llm, style: openai, backend: good-openai}}
"""
    )
    done = check(tmp_path)
    assert done.returncode == 1, done.stderr
    lines = lines_by_name(done.stdout)
    assert set(lines) == {
        "backend good-openai",
        "backend good-azure",
        "backend good-anthropic",
        "backend wrong-key",
        "backend unset-key",
        "backend dead",
        "redis stores.default",
        "redis stores.cache",
    }  # the pool is its members
    for name in ("backend good-openai", "backend good-azure", "backend good-anthropic"):
        assert lines[name].startswith("ok  "), lines[name]
    assert f"GET {provider}/keyed/openai/models: HTTP 200" in lines["backend good-azure"]
    assert f"GET {provider}/keyed/v1/models: HTTP 200" in lines["backend good-anthropic"]
    assert lines["backend wrong-key"].startswith("FAIL")
    assert "HTTP 401: the credentials are refused" in lines["backend wrong-key"]
    assert "CHECK_UNSET_KEY is not set" in lines["backend unset-key"]
    assert (
        f"GET http://127.0.0.1:{closed}/v1/models: cannot connect to 127.0.0.1:{closed}"
        in (lines["backend dead"])
    )  # shown without its user:password
    assert lines["redis stores.default"].startswith("ok  ")
    assert "redis stores.default, admin.subscriptions  " in lines["redis stores.default"]
    assert "PONG" in lines["redis stores.default"]
    assert lines["redis stores.cache"].startswith("FAIL")
    assert "ConnectionError" in lines["redis stores.cache"]
    assert "redis://***@127.0.0.1:" in lines["redis stores.cache"]
    assert "aigw check: 4 of 8 failed" in done.stderr
    for secret in (GOOD_KEY, WRONG_KEY, URL_PASSWORD):  # never a key, in any output
        assert secret not in done.stdout + done.stderr

    as_json = json.loads(check(tmp_path, "--format", "json").stdout)
    assert as_json["ok"] is False
    assert {p["name"]: p["ok"] for p in as_json["probes"]}["backend good-openai"] is True
    assert all(isinstance(p["milliseconds"], int) for p in as_json["probes"])


def test_all_answering_passes_the_gate(tmp_path: Path, provider: str) -> None:
    (tmp_path / "gateway.yaml").write_text(
        f"""
backends:
  openai: {{url: "{provider}/keyed/v1", provider: openai, api-key: "${{env:CHECK_GOOD_KEY}}"}}
  plain: {{url: "{provider}/v1/items", provider: http}}
apis:
  chat: {{path: llm, style: openai, backend: openai}}
"""
    )
    done = check(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split()[:3] for line in done.stdout.splitlines()] == [
        ["ok", "backend", "openai"],
        ["ok", "backend", "plain"],
        ["ok", "sqlite", "ledger"],  # the ledger is on: its default file, beside tmp_path
    ]
    assert "all 3 answer" in done.stderr


def test_a_subscriptions_redis_of_its_own_is_reached(tmp_path: Path) -> None:
    closed = free_port()
    (tmp_path / "gateway.yaml").write_text(
        f"""
admin: {{subscriptions: "redis://127.0.0.1:{closed}/0"}}
ledger: {{enabled: false}}
apis:
  chat: {{path: llm, style: openai}}
"""
    )
    done = check(tmp_path)
    assert done.returncode == 1
    line = lines_by_name(done.stdout)["redis admin.subscriptions"]
    assert line.startswith("FAIL") and f"redis://127.0.0.1:{closed}/0: ConnectionError" in line


def test_lint_errors_stop_it_before_anything_is_reached(tmp_path: Path, provider: str) -> None:
    (tmp_path / "gateway.yaml").write_text(
        f"""
backends:
  openai: {{url: "{provider}/keyed/v1", provider: openai, api-kee: x}}
apis:
  chat: {{path: llm, style: openai, backend: openai}}
"""
    )
    done = check(tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert "gateway.yaml:3:" in done.stderr and "nothing was reached" in done.stderr


def test_a_directory_without_gateway_yaml_cannot_be_checked(tmp_path: Path) -> None:
    done = check(tmp_path)
    assert done.returncode == 2
    assert "has no gateway.yaml" in done.stderr
