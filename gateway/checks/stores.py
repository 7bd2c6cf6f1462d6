"""Redis: a PING on every Redis URL under `stores` (default, cache, named) and on
`admin.subscriptions` when it is one, each URL once."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from gateway.checks.probe import Checked, Found, Probe, Reach, Secrets
from gateway.config.secrets import ConfigValue
from gateway.stores.redis_urls import RedisConnection, is_redis_url, without_password


def store_probes(checked: Checked) -> list[Probe]:
    stores = checked.config.stores
    named: dict[str, ConfigValue] = {"stores.default": stores.default}
    if stores.cache is not None:
        named["stores.cache"] = stores.cache
    named.update({f"stores.{name}": value for name, value in stores.named.items()})
    if checked.config.admin.subscriptions is not None:  # else a JSON file, or stores.default
        named["admin.subscriptions"] = checked.config.admin.subscriptions
    # The same URL under several keys is one server: one probe, naming every key.
    by_raw: dict[str, list[str]] = {}
    for key, value in named.items():
        if value.is_reference or is_redis_url(value.raw.strip()):
            by_raw.setdefault(value.raw, []).append(key)
    return [Probe(f"redis {', '.join(keys)}", _pinger(named[keys[0]])) for keys in by_raw.values()]


def _pinger(value: ConfigValue) -> Reach:
    async def reach(secrets: Secrets, timeout: float) -> Found:
        url = value.resolve().strip()
        if not is_redis_url(url):  # a reference to `memory`, or to a subscriptions file
            shown = "memory: in the process" if url == "memory" else "a file: nothing to reach"
            return Found(True, shown)
        shown = without_password(url)
        secrets.use(_password(url))
        connection = RedisConnection(url)
        try:
            client = await connection.ready()
            answer = await client.ping()
        except Exception as error:  # redis-py's errors, and the OS's under them
            return Found(False, f"{shown}: {type(error).__name__}: {error}")
        finally:
            await connection.close()
        return Found(bool(answer), f"{shown}: PONG" if answer else f"{shown}: no PONG")

    return reach


def _password(url: str) -> str:
    """The URL's password as Redis gets it (a cluster's or Sentinel's URL too)."""
    return unquote(urlsplit(url).password or "")
