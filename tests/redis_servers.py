"""Private `redis-server` processes for tests: one server, a 3-node Cluster, Sentinel failover.

The shared Redis on 127.0.0.1:6379 cannot be stopped or clustered by a test, so the tests of
outages, Cluster and Sentinel start their own servers on free loopback ports and stop them.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis


def require_redis_server() -> str:
    """The redis-server binary; skips loudly without one (fails under CI=true)."""
    binary = shutil.which("redis-server")
    if binary:
        return binary
    message = "redis-server is not installed: the Cluster, Sentinel and outage tests cannot run"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: it is required)")
    print(f"\n*** SKIPPING: {message} ***", file=sys.stderr)
    pytest.skip(message)


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """`count` consecutive free ports whose cluster bus ports (+10000) are free too."""
    for _ in range(200):
        first = random.randrange(20000, 29000)
        ports = list(range(first, first + count))
        if all(_free(p) and _free(p + 10000) for p in ports):
            return ports
    raise RuntimeError("no free ports for redis-server")


@dataclass
class RedisServer:
    port: int
    directory: Path
    arguments: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [require_redis_server(), *self.arguments]
        if not command[1:2] or not command[1].endswith(".conf"):  # a .conf names its port
            command += ["--port", str(self.port)]
        command += ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", "."]
        self.process = subprocess.Popen(
            command, cwd=self.directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.wait_until(lambda: self.client().ping())
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def wait_until(self, ready: object, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if ready():  # type: ignore[operator]
                    return
            except (redis.RedisError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not become ready")
            time.sleep(0.05)


@contextlib.contextmanager
def servers(*started: RedisServer) -> Iterator[None]:
    try:
        yield
    finally:
        for server in started:
            server.stop()


@contextlib.contextmanager
def cluster(directory: Path, nodes: int = 3) -> Iterator[list[RedisServer]]:
    """A Redis Cluster of `nodes` masters (no replicas) with all 16384 slots assigned."""
    members = [
        RedisServer(
            port,
            directory / f"node-{port}",
            ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"),
        )
        for port in free_ports(nodes)
    ]
    with servers(*members):
        for member in members:
            member.start()
        addresses = [f"127.0.0.1:{m.port}" for m in members]
        subprocess.run(
            ["redis-cli", "--cluster", "create", *addresses, "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        for member in members:
            member.wait_until(lambda m=member: _cluster_ok(m))
        yield members


def _cluster_ok(member: RedisServer) -> bool:
    answer = member.client().execute_command("CLUSTER", "INFO")
    text = answer.decode() if isinstance(answer, bytes) else str(answer)
    return "cluster_state:ok" in text or "'cluster_state': 'ok'" in text


@dataclass
class SentinelSet:
    master: RedisServer
    replica: RedisServer
    sentinel: RedisServer
    service: str = "aigw"

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.sentinel.port}/{self.service}"

    def master_port(self) -> int:
        answer = self.sentinel.client().execute_command(
            "SENTINEL", "get-master-addr-by-name", self.service
        )
        return int(answer[1])


@contextlib.contextmanager
def sentinel(directory: Path) -> Iterator[SentinelSet]:
    """A master, its replica and one Sentinel (quorum 1) that fails over within seconds."""
    master_port, replica_port, sentinel_port = free_ports(3)
    # No diskless-sync delay: the replica is in sync in milliseconds, not after 5 s.
    master = RedisServer(master_port, directory / "master", ("--repl-diskless-sync-delay", "0"))
    replica = RedisServer(
        replica_port, directory / "replica", ("--replicaof", "127.0.0.1", str(master_port))
    )
    config = directory / "sentinel" / "sentinel.conf"
    config.parent.mkdir(parents=True)
    config.write_text(
        f"port {sentinel_port}\n"
        f"sentinel monitor aigw 127.0.0.1 {master_port} 1\n"
        "sentinel down-after-milliseconds aigw 500\n"
        "sentinel failover-timeout aigw 3000\n"
    )
    watcher = RedisServer(sentinel_port, config.parent, (str(config), "--sentinel"))
    with servers(watcher, replica, master):
        master.start()
        replica.start()
        replica.wait_until(
            lambda: replica.client().info("replication").get("master_link_status") == "up"
        )
        watcher.start()
        found = SentinelSet(master, replica, watcher)
        watcher.wait_until(lambda: found.master_port() == master_port)
        yield found
