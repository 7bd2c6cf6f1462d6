"""Which store gateway.yaml's settings pick for subscriptions made at run time."""

from __future__ import annotations

from pathlib import Path

from gateway.config.secrets import ConfigValue
from gateway.config.settings import Admin, GatewayConfig, Stores
from gateway.tenants.location import store_location

ROOT = Path("/srv/policies")


def config(stores: str = "memory", subscriptions: str | None = None) -> GatewayConfig:
    admin = Admin(subscriptions=ConfigValue(subscriptions) if subscriptions else None)
    return GatewayConfig(stores=Stores(default=ConfigValue(stores)), admin=admin)


def test_a_file_beside_the_directory_by_default() -> None:
    assert store_location(config(), ROOT) == "/srv/policies.subscriptions.json"


def test_redis_when_the_counters_are_there() -> None:
    assert store_location(config("redis://r:6379/0"), ROOT) == "redis://r:6379/0"


def test_what_gateway_yaml_names_relative_to_its_folder() -> None:
    assert store_location(config(subscriptions="subs.json"), ROOT) == "/srv/policies/subs.json"
    assert store_location(config(subscriptions="redis://r/1"), ROOT) == "redis://r/1"


def test_nowhere_without_a_directory() -> None:
    assert store_location(config(), None) is None
