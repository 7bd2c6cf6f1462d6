"""The admin API through running gateways: subscriptions made, suspended, regenerated and
deleted at run time, seen by every replica sharing Redis within a second, with no restart."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import redis

from tests.conftest import require_redis
from tests.proxy.admin_gateways import (
    ADMIN_KEY,
    FIXED_KEY,
    admin,
    seconds_until,
    status_with,
    write_directory,
)
from tests.proxy.processes import free_port, start_gateway, stop

REDIS_DB = "redis://127.0.0.1:6379/9"  # this module's own database, emptied first
ENV = {**os.environ, "AIGW_TEST_ADMIN_KEY": ADMIN_KEY}


@contextmanager
def gateways(root: Path, count: int, *extra: str) -> Iterator[list[tuple[str, str]]]:
    """`count` gateway processes on `root`: [(traffic URL, admin URL)]."""
    with ExitStack() as stack:
        found = []
        for _ in range(count):
            port, admin_port = free_port(), free_port()
            process = start_gateway(root, port, ENV, admin_port, *extra)
            stack.callback(stop, process)
            found.append((f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin_port}"))
        yield found


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[list[tuple[str, str]]]:
    """Two replicas sharing Redis."""
    require_redis()
    redis.Redis.from_url(REDIS_DB).flushdb()
    with gateways(write_directory(tmp_path / "policies", REDIS_DB), 2) as replicas:
        yield replicas


def test_a_subscription_made_on_one_replica_works_on_the_other_within_a_second(
    fleet: list[tuple[str, str]],
) -> None:
    (first, first_admin), (second, second_admin) = fleet
    with admin(first_admin) as api:
        made = api.post("/subscriptions", json={"scope": "product/starter", "id": "team-b"})
    assert made.status_code == 201, made.text
    assert made.headers["cache-control"] == "no-store"
    body = made.json()
    assert body["state"] == "active" and body["source"] == "admin"
    primary, secondary = body["primaryKey"], body["secondaryKey"]
    assert len(primary) == 32 and primary != secondary
    assert seconds_until(lambda: status_with(second, primary) == 200) < 1.0
    assert status_with(first, secondary) == 200
    assert status_with(second, secondary, api="other") == 401  # out of the product's scope
    # Keys are shown once: never in a listing or a read.
    with admin(second_admin) as api:
        listed = api.get("/subscriptions").json()["subscriptions"]
        one = api.get("/subscriptions/team-b").json()
    assert {(row["id"], row["source"]) for row in listed} == {
        ("fixed", "gateway.yaml"),
        ("team-b", "admin"),
    }
    for shown in (str(listed), str(one)):
        assert primary not in shown and secondary not in shown and "Key" not in shown


def test_suspended_gets_401_on_both_replicas_and_reactivated_works_again(
    fleet: list[tuple[str, str]],
) -> None:
    (first, first_admin), (second, second_admin) = fleet
    with admin(first_admin) as api:
        key = api.post("/subscriptions", json={"scope": "all-apis"}).json()
    id, primary = key["id"], key["primaryKey"]
    seconds_until(lambda: status_with(second, primary) == 200)
    with admin(second_admin) as api:
        suspended = api.post(f"/subscriptions/{id}/suspend")
    assert suspended.status_code == 200 and suspended.json()["state"] == "suspended"
    assert status_with(second, primary) == 401  # at once where the change was made
    assert seconds_until(lambda: status_with(first, primary) == 401) < 1.0
    with admin(first_admin) as api:
        assert api.post(f"/subscriptions/{id}/suspend").status_code == 409  # already so
        assert api.post(f"/subscriptions/{id}/reactivate").json()["state"] == "active"
    assert seconds_until(lambda: status_with(second, primary) == 200) < 1.0
    with admin(first_admin) as api:
        assert api.post(f"/subscriptions/{id}/cancel").json()["state"] == "cancelled"
        refused = api.post(f"/subscriptions/{id}/reactivate")
    assert refused.status_code == 409
    assert "cancelled: cannot reactivate" in refused.json()["error"]["message"]
    assert seconds_until(lambda: status_with(second, primary) == 401) < 1.0


def test_a_regenerated_key_stops_the_old_one_everywhere(fleet: list[tuple[str, str]]) -> None:
    (first, first_admin), (second, second_admin) = fleet
    with admin(first_admin) as api:
        made = api.post("/subscriptions", json={"scope": "api/llm", "id": "rotating"}).json()
        regenerated = api.post("/subscriptions/rotating/regenerate/primary")
    assert regenerated.status_code == 200
    new = regenerated.json()["primaryKey"]
    assert new != made["primaryKey"] and "secondaryKey" not in regenerated.json()
    assert status_with(first, made["primaryKey"]) == 401
    assert status_with(first, new) == 200
    seconds_until(lambda: status_with(second, new) == 200)
    assert status_with(second, made["primaryKey"]) == 401
    assert status_with(second, made["secondaryKey"]) == 200  # the other key is untouched
    with admin(second_admin) as api:
        assert api.delete("/subscriptions/rotating").status_code == 204
        assert api.get("/subscriptions/rotating").status_code == 404
    assert seconds_until(lambda: status_with(first, made["secondaryKey"]) == 401) < 1.0


def test_changes_are_audited_without_keys(fleet: list[tuple[str, str]]) -> None:
    (_, first_admin), (_, second_admin) = fleet
    with admin(first_admin) as api:
        made = api.post(
            "/subscriptions",
            json={"scope": "product/starter", "id": "audited", "displayName": "Team A"},
            headers={"x-aigw-actor": "ops@example"},
        ).json()
        api.patch("/subscriptions/audited", json={"displayName": "Team A (EU)"})
        api.post("/subscriptions/audited/regenerate/secondary")
        api.post("/subscriptions/audited/suspend")
    with admin(second_admin) as api:
        entries = api.get("/audit", params={"limit": 10}).json()["entries"]
    assert [entry["action"] for entry in entries] == [
        "suspend",
        "regenerate-secondary-key",
        "update",
        "create",
    ]
    assert entries[-1]["actor"].startswith("ops@example from 127.0.0.1")
    assert entries[-1]["changes"] == {"scope": "product/starter", "displayName": "Team A"}
    assert made["primaryKey"] not in str(entries)


def test_wrong_or_missing_admin_key_gets_401(fleet: list[tuple[str, str]]) -> None:
    (_, admin_url), _ = fleet
    for key in (None, "not-the-admin-key"):
        with admin(admin_url, key) as api:
            for method, path in (("GET", "/subscriptions"), ("POST", "/subscriptions")):
                answer = api.request(method, path, json={"scope": "all-apis"})
                assert answer.status_code == 401, (key, path)
                assert answer.headers["www-authenticate"] == 'Bearer realm="aigw-admin"'
                assert answer.json()["error"]["code"] == "unauthorized"
    # The operational routes need the key too, once one is configured; readiness does not.
    assert httpx.get(f"{admin_url}/metrics").status_code == 401
    assert httpx.post(f"{admin_url}/-/reload").status_code == 401
    assert httpx.get(f"{admin_url}/-/ready").status_code == 200
    authorized = {"authorization": f"Bearer {ADMIN_KEY}"}
    assert httpx.get(f"{admin_url}/metrics", headers=authorized).status_code == 200


def test_gateway_yaml_subscriptions_stay_read_only(fleet: list[tuple[str, str]]) -> None:
    (gateway, admin_url), _ = fleet
    with admin(admin_url) as api:
        for method, path in (
            ("POST", "/subscriptions/fixed/suspend"),
            ("PATCH", "/subscriptions/fixed"),
            ("DELETE", "/subscriptions/fixed"),
            ("POST", "/subscriptions/fixed/regenerate/primary"),
        ):
            answer = api.request(method, path, json={} if method == "PATCH" else None)
            assert answer.status_code == 409, path
            assert "gateway.yaml" in answer.json()["error"]["message"]
        taken = api.post("/subscriptions", json={"scope": "all-apis", "id": "fixed"})
        assert taken.status_code == 409
    assert status_with(gateway, FIXED_KEY) == 200


def test_bad_requests_say_how_to_fix_them(fleet: list[tuple[str, str]]) -> None:
    (_, admin_url), _ = fleet
    with admin(admin_url) as api:
        scope = api.post("/subscriptions", json={"scope": "product/nope"})
        field = api.post("/subscriptions", json={"scope": "all-apis", "owner": "x"})
        date = api.post("/subscriptions", json={"scope": "all-apis", "expirationDate": "soon"})
        body = api.post("/subscriptions", content=b"[1,", headers={"content-type": "x"})
        missing = api.post("/subscriptions/nobody/suspend")
        products = api.get("/products").json()["products"]
        apis = api.get("/apis").json()["apis"]
    assert scope.status_code == 400
    assert "all-apis, or one of api/llm, api/other, product/starter" in scope.text
    assert field.status_code == 400 and "unknown field owner" in field.text
    assert date.status_code == 400 and "ISO 8601" in date.text
    assert body.status_code == 400 and body.json()["error"]["code"] == "invalid_json"
    assert missing.status_code == 404
    assert products == [
        {
            "id": "starter",
            "displayName": "starter",
            "state": "published",
            "subscriptionRequired": True,
            "apis": ["llm"],
        }
    ]
    assert [(a["id"], a["products"]) for a in apis] == [("llm", ["starter"]), ("other", [])]


def test_an_expired_subscription_opens_nothing(fleet: list[tuple[str, str]]) -> None:
    (gateway, admin_url), _ = fleet
    with admin(admin_url) as api:
        made = api.post(
            "/subscriptions", json={"scope": "all-apis", "expirationDate": "2030-01-01"}
        ).json()
        assert status_with(gateway, made["primaryKey"]) == 200
        past = api.patch(f"/subscriptions/{made['id']}", json={"expirationDate": "2020-01-01"})
    assert past.json()["state"] == "expired"
    assert past.json()["expirationDate"] == "2020-01-01T00:00:00Z"
    assert status_with(gateway, made["primaryKey"]) == 401


def test_one_process_keeps_its_subscriptions_in_a_file_across_a_restart(tmp_path: Path) -> None:
    root = write_directory(tmp_path / "policies")
    with gateways(root, 1, "--workers", "2") as [(gateway, admin_url)]:
        with admin(admin_url) as api:
            made = api.post("/subscriptions", json={"scope": "all-apis", "id": "kept"}).json()
        # Both workers see it: each request may land on either.
        seconds_until(lambda: all(status_with(gateway, made["primaryKey"]) == 200 for _ in "1234"))
    stored = (tmp_path / "policies.subscriptions.json").read_text()
    assert '"kept"' in stored and made["primaryKey"] not in stored  # digests only
    with gateways(root, 1) as [(gateway, admin_url)]:
        assert status_with(gateway, made["primaryKey"]) == 200
        with admin(admin_url) as api:
            audit = api.get("/audit").json()["entries"]
    assert [entry["action"] for entry in audit] == ["create"]


def test_without_an_admin_key_the_admin_api_is_off(tmp_path: Path) -> None:
    root = write_directory(tmp_path / "policies")
    yaml = root / "gateway.yaml"
    yaml.write_text(yaml.read_text().replace('  key: "${env:AIGW_TEST_ADMIN_KEY}"\n', ""))
    with gateways(root, 1) as [(_, admin_url)]:
        off = httpx.get(f"{admin_url}/-/api/subscriptions")
        assert httpx.get(f"{admin_url}/metrics").status_code == 200  # open, as before keys
    assert off.status_code == 404
    assert "set admin.key in gateway.yaml" in off.json()["error"]["message"]


def test_a_reload_changes_the_admin_key_and_keeps_the_subscriptions(tmp_path: Path) -> None:
    root = write_directory(tmp_path / "policies")
    secret = tmp_path / "admin-key"
    secret.write_text(ADMIN_KEY + "\n")
    yaml = root / "gateway.yaml"
    yaml.write_text(yaml.read_text().replace("${env:AIGW_TEST_ADMIN_KEY}", f"${{file:{secret}}}"))
    with gateways(root, 1) as [(gateway, admin_url)]:
        with admin(admin_url) as api:
            made = api.post("/subscriptions", json={"scope": "all-apis"}).json()
        secret.write_text("the-rotated-admin-key\n")
        reloaded = httpx.post(
            f"{admin_url}/-/reload", headers={"authorization": f"Bearer {ADMIN_KEY}"}
        )
        assert reloaded.status_code == 200, reloaded.text
        with admin(admin_url) as old, admin(admin_url, "the-rotated-admin-key") as new:
            assert old.get("/subscriptions").status_code == 401
            assert new.get("/subscriptions").status_code == 200
        assert status_with(gateway, made["primaryKey"]) == 200
