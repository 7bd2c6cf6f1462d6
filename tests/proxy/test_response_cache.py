"""cache-lookup / cache-store through running gateways: hits, vary-by, TTL, Redis sharing."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import httpx

from tests.conftest import REDIS_URL, require_redis
from tests.proxy.processes import fake_provider, free_port, serving

POLICY = """<policies>
    <inbound><base />
        <cache-lookup vary-by-developer="false" vary-by-developer-groups="false"
            downstream-caching-type="private" must-revalidate="true">
            <vary-by-header>Accept-Language</vary-by-header>
            <vary-by-query-parameter>item;status</vary-by-query-parameter>
        </cache-lookup>
    </inbound>
    <outbound><base /><cache-store duration="2" /></outbound>
</policies>"""


def write_directory(root: Path, provider_port: int, store: str) -> None:
    (root / "gateway.yaml").write_text(
        f"""
stores: {{cache: "{store}"}}
backends:
  provider: {{url: "http://127.0.0.1:{provider_port}/v1"}}
apis:
  shop:
    path: shop
    backend: provider
    subscription-required: false
    operations: [{{id: list, method: GET, url-template: /items}}]
"""
    )
    (root / "apis").mkdir(exist_ok=True)
    (root / "apis" / "shop.xml").write_text(POLICY)


def test_gets_are_answered_from_the_cache_per_vary_by_until_they_expire(tmp_path: Path) -> None:
    provider_port = free_port()
    write_directory(tmp_path, provider_port, "memory")
    with fake_provider(provider_port) as provider, serving(tmp_path, os.environ) as gateway:
        url = f"{gateway}/shop/items?item=lamp"
        first = httpx.get(url)
        again = httpx.get(url + "&unrelated=1")  # a query parameter not varied by
        assert first.json()["call"] == again.json()["call"] == 1
        assert (first.headers["x-aigw-cache"], again.headers["x-aigw-cache"]) == ("miss", "hit")
        assert again.headers["cache-control"] == "private, max-age=2, must-revalidate"
        assert again.headers["x-upstream"] == "fake"  # the backend's headers are kept
        assert httpx.get(f"{gateway}/shop/items?item=desk").json()["call"] == 2
        french = httpx.get(url, headers={"Accept-Language": "fr"})
        assert french.json()["call"] == 3  # another vary-by-header value: its own entry
        private = httpx.get(url, headers={"Authorization": "Bearer x"})
        assert private.json()["call"] == 4  # Authorization: not cached by default
        failed = httpx.get(f"{gateway}/shop/items?item=lamp&status=500")
        failed_again = httpx.get(f"{gateway}/shop/items?item=lamp&status=500")
        assert failed.json()["call"] + 1 == failed_again.json()["call"]  # only 200s are kept
        time.sleep(2.2)
        assert httpx.get(url).json()["call"] == 7  # expired: the backend again
        assert httpx.get(f"{provider}/-/calls").json()["items"] == 7


def test_two_gateways_share_one_redis_response_cache(tmp_path: Path) -> None:
    require_redis()
    provider_port = free_port()
    write_directory(tmp_path, provider_port, REDIS_URL)
    item = uuid.uuid4().hex
    with (
        fake_provider(provider_port),
        serving(tmp_path, os.environ) as first,
        serving(tmp_path, os.environ) as second,
    ):
        stored = httpx.get(f"{first}/shop/items?item={item}")
        served = httpx.get(f"{second}/shop/items?item={item}")
    assert served.headers["x-aigw-cache"] == "hit"
    assert served.json() == stored.json()
