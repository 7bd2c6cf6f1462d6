"""Real processes for integration tests: `aigw run`, the fake provider, free loopback ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager as ContextManager
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

import httpx

from tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# What each process started here printed (stdout and stderr), kept in a file: a pipe nobody
# reads would fill up and block a gateway that logs every request.
_OUTPUT: dict[int, IO[bytes]] = {}


def output_of(process: subprocess.Popen[bytes]) -> str:
    log = _OUTPUT.get(process.pid)
    if log is None:
        return ""
    log.seek(0)
    return log.read().decode(errors="replace")


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (a supervisor's workers)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=40)


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited early: {output_of(process)}")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def start_gateway(
    root: Path | str,
    port: int,
    env: Mapping[str, str] | None = None,
    admin_port: int = 0,
    *extra: str,
) -> subprocess.Popen[bytes]:
    """`aigw run ROOT` on loopback, returned once `/-/health` answers (and, with `--workers`,
    once every worker serves)."""
    admin_port = admin_port or free_port()
    command = [sys.executable, "-m", "gateway.cli", "run", str(root), "--port", str(port)]
    command += ["--admin-port", str(admin_port), *extra]
    log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open for the process's life
    server = subprocess.Popen(
        command,
        cwd=REPO,
        env=dict(env if env is not None else os.environ),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    _OUTPUT[server.pid] = log
    try:
        wait_until_up(f"http://127.0.0.1:{port}/-/health", server)
        if "--workers" in extra:
            workers = int(extra[extra.index("--workers") + 1])
            # A directory with an admin key guards /-/workers: the tests name it in this variable.
            key = (env or os.environ).get("AIGW_TEST_ADMIN_KEY")
            headers = {"authorization": f"Bearer {key}"} if key else {}
            wait_for_workers(f"http://127.0.0.1:{admin_port}", workers, server, headers)
    except BaseException:
        for worker in children_of(server.pid):  # a supervisor's workers would outlive it
            os.kill(worker, signal.SIGKILL)
        server.kill()
        raise
    return server


def wait_for_workers(
    admin: str,
    count: int,
    process: subprocess.Popen[bytes],
    headers: Mapping[str, str] | None = None,
) -> None:
    """Until the admin listener's `/-/workers` lists `count` workers, every one serving;
    `headers` carry the admin key when one is set."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited early: {output_of(process)}")
        answer = httpx.get(f"{admin}/-/workers", headers=headers, timeout=5)
        if answer.status_code == 200 and len(answer.json()["workers"]) == count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{count} workers did not come up: {answer.text}")


@contextmanager
def serving(root: Path | str, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """A gateway on a free port for the duration of the block; yields its base URL."""
    port = free_port()
    server = start_gateway(root, port, env)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(server)


@contextmanager
def fake_service(module: str, port: int, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """A fake under tests/fakes (`python -m tests.fakes.NAME PORT`); yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", module, str(port)],
        cwd=REPO,
        env=dict(env if env is not None else os.environ),
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


def fake_provider(port: int, env: Mapping[str, str] | None = None) -> ContextManager[str]:
    """tests/fakes/provider.py: OpenAI-, Azure-OpenAI- and Anthropic-shaped answers."""
    return fake_service("tests.fakes.provider", port, env)


@contextmanager
def fake_providers(count: int) -> Iterator[list[int]]:
    """`count` fake providers (pool members); yields their ports."""
    ports = [free_port() for _ in range(count)]
    with ExitStack() as stack:
        for port in ports:
            stack.enter_context(fake_provider(port))
        yield ports


def open_chat_yaml(provider: int) -> str:
    """gateway.yaml of one OpenAI-style API, `chat`, open to all, in front of the fake
    provider on port `provider`."""
    return f"""
backends:
  fake: {{url: "http://127.0.0.1:{provider}/v1", provider: openai}}
apis:
  chat: {{path: chat, style: openai, backend: fake, subscription-required: false}}
"""


def inject_faults(port: int, **settings: object) -> None:
    """Make a fake provider fail on purpose (tests.fakes.provider FAULTS)."""
    httpx.post(f"http://127.0.0.1:{port}/-/faults", json=settings).raise_for_status()


def chat_calls(port: int) -> int:
    """How many chat calls reached a fake provider."""
    return int(httpx.get(f"http://127.0.0.1:{port}/-/calls").json()["chat"])


def connections_to(pid: int, port: int) -> int:
    """How many established TCP connections process `pid` holds to a loopback `port`."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[3] == "01" and fields[9] in inodes:  # ESTABLISHED
                count += 1
    return count


def raw_paths_received(port: int) -> list[str]:
    """The targets (still percent-encoded, with their query) the fake provider at `port`
    received since the last call, which forgets them."""
    seen = httpx.get(f"http://127.0.0.1:{port}/-/requests").json()
    httpx.delete(f"http://127.0.0.1:{port}/-/requests")
    return [request["raw_path"] for request in seen]
