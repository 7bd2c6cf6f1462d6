"""Which store gateway.yaml names for subscriptions made at run time: `admin.subscriptions`,
else Redis when the counters are there, else a file beside the policies directory."""

from __future__ import annotations

from pathlib import Path

from gateway.config.settings import GatewayConfig
from gateway.stores.redis_urls import is_redis_url
from gateway.tenants.store import TenantStore


def store_location(config: GatewayConfig, root: Path | None) -> str | None:
    """The Redis URL or file path subscriptions are kept in; None: nowhere to keep them (no
    policies directory, as for an app built in a test without one)."""
    setting = config.admin.subscriptions
    if setting is not None:
        where = setting.resolve().strip()
        if is_redis_url(where) or root is None or Path(where).is_absolute():
            return where
        return str(root / where)  # relative to gateway.yaml's folder
    counters = config.stores.default.resolve().strip()
    if is_redis_url(counters):
        return counters
    return str(root.parent / f"{root.name}.subscriptions.json") if root is not None else None


def open_store(where: str) -> TenantStore:
    if is_redis_url(where):
        from gateway.tenants.redis_store import RedisTenants

        return RedisTenants(where)
    from gateway.tenants.file_store import FileTenants

    return FileTenants(Path(where))
