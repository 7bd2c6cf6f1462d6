"""`aigw check DIR` as a user runs it: a real process against the fake provider (a real
process too), the shared Redis, a closed port, a wrong key and an unset one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL, REPO, require_redis
from tests.fakes.keys import GOOD_KEY
from tests.proxy.processes import fake_provider, free_port

WRONG_KEY = "sk-wrong-0123456789"
URL_PASSWORD = "pw-in-the-url-42"


def check(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CHECK_GOOD_KEY": GOOD_KEY}
    env.pop("CHECK_UNSET_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check", str(root), "--timeout", "5", *options],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    with fake_provider(free_port()) as url:
        yield url


def lines_by_name(stdout: str) -> dict[str, str]:
    """`ok    backend x  detail` -> {"backend x": "ok    backend x  detail"}."""
    found = {}
    for line in stdout.splitlines():
        verdict, rest = line.split(None, 1)
        assert verdict in ("ok", "FAIL"), line
        name = " ".join(rest.split()[:2]).rstrip(",")
        found[name] = line
    return found


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
    ]
    assert "all 2 answer" in done.stderr


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
