"""Redis clients from store URLs: one server, a Redis Cluster, or a master found by Sentinel.

    redis://[[user]:password@]host:port[/db]         one server (rediss:// for TLS, unix://)
    redis+cluster://[[user]:password@]host:port[,host:port...]
                                                     a cluster, found from any of its nodes
    redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db]
                                                     the master Sentinel names for `service`

`rediss+cluster://` and `rediss+sentinel://` use TLS. The password is the data nodes'; add
`?sentinel-password=...` when the Sentinels ask for one of their own.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

SINGLE = ("redis", "rediss", "unix")
CLUSTER = ("redis+cluster", "rediss+cluster")
SENTINEL = ("redis+sentinel", "rediss+sentinel")

# Short timeouts: a limit must not hold a request for long when Redis is away.
TIMEOUTS: dict[str, Any] = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}


class BadStoreUrl(ValueError):
    """A store URL this gateway cannot use; the message says what the URL should look like."""


@dataclass(frozen=True, slots=True)
class RedisAddress:
    url: str
    scheme: str
    hosts: tuple[tuple[str, int], ...] = ()  # cluster nodes or Sentinels
    credentials: dict[str, str] = field(default_factory=dict)
    service: str = ""  # Sentinel's name for the master
    database: int = 0
    sentinel_password: str | None = None

    @property
    def tls(self) -> bool:
        return self.scheme.startswith("rediss")


def is_redis_url(url: str) -> bool:
    return url.split("://", 1)[0] in SINGLE + CLUSTER + SENTINEL and "://" in url


def parse(url: str) -> RedisAddress:
    """The address in a store URL; `BadStoreUrl` says how to write it when it is wrong."""
    scheme = url.split("://", 1)[0]
    try:  # an unclosed `[` or a port that is no number (or out of range) raises here
        parts = urlsplit(url)
        if scheme in SINGLE:
            _ = parts.port
    except ValueError as error:
        raise BadStoreUrl(
            f"'{without_password(url)}' cannot be read ({error}); write "
            "redis://[[user]:password@]host:port[/db]"
        ) from None
    if scheme in SINGLE:
        return RedisAddress(url, scheme)
    if scheme not in CLUSTER + SENTINEL:
        raise BadStoreUrl(
            f"'{without_password(url)}' is not a store: use memory, redis://host:port, "
            "redis+cluster://host:port,... or redis+sentinel://host:port,.../service"
        )
    credentials, hosts = _hosts(parts.netloc, url)
    if scheme in CLUSTER:
        return RedisAddress(url, scheme, hosts, credentials)
    path = [p for p in parts.path.split("/") if p]
    if not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise BadStoreUrl(
            f"'{without_password(url)}': name the Sentinel service, such as "
            "redis+sentinel://127.0.0.1:26379/mymaster (or /mymaster/0 for a database)"
        )
    password = parse_qs(parts.query).get("sentinel-password", [None])[0]
    database = int(path[1]) if len(path) == 2 else 0
    return RedisAddress(url, scheme, hosts, credentials, path[0], database, password)


def redis_client(url: str) -> Any:
    """A client for `url` with the `redis.asyncio.Redis` commands (Redis or RedisCluster)."""
    address = parse(url)
    if address.scheme in CLUSTER:
        from redis.asyncio.cluster import ClusterNode, RedisCluster

        nodes = [ClusterNode(host, port) for host, port in address.hosts]
        return RedisCluster(startup_nodes=nodes, ssl=address.tls, **address.credentials, **TIMEOUTS)
    if address.scheme in SENTINEL:
        from redis.asyncio.sentinel import Sentinel

        options: dict[str, Any] = {**TIMEOUTS, "ssl": address.tls}
        if address.sentinel_password is not None:
            options["password"] = address.sentinel_password
        sentinel = Sentinel(
            list(address.hosts), sentinel_kwargs=options, ssl=address.tls, **TIMEOUTS
        )
        return sentinel.master_for(address.service, db=address.database, **address.credentials)
    import redis.asyncio as aioredis

    return aioredis.Redis.from_url(url, health_check_interval=30, **TIMEOUTS)


# Operations on one store URL in flight at once; more wait for a turn. Through redis-py each
# takes a connection of its own (the counters' lean connection to one server pipelines them
# on one instead), so without a cap a burst of 200 requests opened 200 connections at once (as many
# descriptors, and client slots Redis shares among every replica), and past redis-py's pool
# size (100) failed with "Too many connections", which read as Redis being away.
MAX_CONCURRENT = 32
RETRY_AFTER = 1.0  # seconds during which a Redis that failed is not asked again


class RedisConnection:
    """A client for a store URL, ready for concurrent use, that knows when Redis is away.

    A Cluster client learns the slot map on first use; concurrent first commands racing to do
    it can break a connection (seen with redis-py 8), so it is learnt once, under a lock.
    After a failure, `away` is true for `RETRY_AFTER` seconds, so that requests fail fast
    instead of each waiting for a connect timeout; the next call after that tries again, so
    the gateway recovers by itself when Redis returns. Every operation takes one of `turns`
    for its round trip (`MAX_CONCURRENT`): a burst queues for the connections instead of
    opening one per request. `lean` is the counters' own connection to one server
    (`gateway.stores.resp`; None for a Cluster or a Sentinel's master).
    """

    def __init__(self, url: str) -> None:
        from gateway.stores.resp import for_client  # imports redis.asyncio, as redis_client does

        self.client = redis_client(url)
        # One server: the counters' calls go through a lean pipelined connection of their own
        # (`gateway.stores.resp`); a Cluster or a Sentinel's master keeps redis-py's.
        self.lean = for_client(self.client)
        self._ready = parse(url).scheme not in CLUSTER
        self._learning = asyncio.Lock()
        self._down_until = 0.0
        self.last_error = ""
        self.turns = asyncio.Semaphore(MAX_CONCURRENT)

    @property
    def away(self) -> bool:
        return bool(self._down_until) and time.monotonic() < self._down_until

    def failed(self, error: BaseException) -> str:
        """Note a failure; returns what went wrong, for the caller's message."""
        self.last_error = str(error) or type(error).__name__
        self._down_until = time.monotonic() + RETRY_AFTER
        return self.last_error

    def succeeded(self) -> None:
        self._down_until = 0.0

    async def ready(self) -> Any:
        if not self._ready:
            async with self._learning:
                if not self._ready:
                    await self.client.initialize()
                    self._ready = True
        return self.client

    async def close(self) -> None:
        if self.lean is not None:
            await self.lean.close()
        await self.client.aclose()


def _hosts(netloc: str, url: str) -> tuple[dict[str, str], tuple[tuple[str, int], ...]]:
    """(credentials, ((host, port), ...)) from `user:password@host:port,host:port`."""
    credentials: dict[str, str] = {}
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        if user:
            credentials["username"] = unquote(user)
        if password:
            credentials["password"] = unquote(password)
    hosts = []
    for part in netloc.split(","):
        host, _, port = part.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise BadStoreUrl(
                f"'{without_password(url)}': write each node as host:port, such as 10.0.0.5:7000"
            )
        hosts.append((host.strip("[]"), int(port)))
    return credentials, tuple(hosts)


def without_password(url: str) -> str:
    """The URL without its password, for messages (secrets are never echoed)."""
    # Not urlsplit: a URL it cannot read (an unclosed `[`) still needs a message.
    netloc = url.split("://", 1)[1].split("/", 1)[0].split("?", 1)[0] if "://" in url else ""
    if "@" not in netloc:
        return url
    return url.replace(netloc, "***@" + netloc.rsplit("@", 1)[1], 1)
