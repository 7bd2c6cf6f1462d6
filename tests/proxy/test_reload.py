"""Hot reload of a serving gateway: POST /-/reload, SIGHUP, the directory watch."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import openai

from tests.proxy.processes import (
    chat_calls,
    connections_to,
    fake_provider,
    fake_providers,
    free_port,
    output_of,
    start_gateway,
    stop,
)

HEADER_POLICY = """<policies>
    <inbound><base /></inbound>
    <backend><forward-request /></backend>
    <outbound><base />
        <set-header name="x-config" exists-action="override"><value>{value}</value></set-header>
    </outbound>
</policies>"""


def llm_directory(root: Path, backends: dict[str, int], backend: str, value: str) -> Path:
    """An OpenAI API on `backend` (of `backends`: name -> provider port); responses carry
    `x-config: value`, set by the global policy."""
    listed = "\n".join(
        f'  {name}: {{url: "http://127.0.0.1:{port}/v1"}}' for name, port in backends.items()
    )
    (root / "gateway.yaml").write_text(
        f"""
backends:
{listed}
apis:
  llm: {{path: llm, style: openai, backend: {backend}, subscription-required: false}}
"""
    )
    (root / "global.xml").write_text(HEADER_POLICY.format(value=value))
    return root


def reload(admin: str) -> httpx.Response:
    return httpx.post(f"{admin}/-/reload", timeout=60)


def version(admin: str) -> str:
    return str(httpx.get(f"{admin}/-/ready").json()["version"])


def chat(gateway: str) -> httpx.Response:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    return httpx.post(f"{gateway}/llm/chat/completions", json=body, timeout=10)


def until(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_broken_directory_leaves_the_old_one_serving_and_answers_its_errors(
    tmp_path: Path,
) -> None:
    provider_port, port, admin_port = free_port(), free_port(), free_port()
    llm_directory(tmp_path, {"fake": provider_port}, "fake", "one")
    admin, gateway = f"http://127.0.0.1:{admin_port}", f"http://127.0.0.1:{port}"
    with fake_provider(provider_port):
        server = start_gateway(tmp_path, port, None, admin_port)
        try:
            before = version(admin)
            (tmp_path / "global.xml").write_text(
                "<policies>\n  <inbound>\n    <no-such-policy />\n  </inbound>\n</policies>"
            )
            answer = reload(admin)
            assert answer.status_code == 422, answer.text
            body = answer.json()
            assert body["reloaded"] is False and body["version"] == before
            [worker] = body["workers"]
            assert worker["pid"] == server.pid and worker["ok"] is False
            assert worker["diagnostics"]
            assert all(
                line.startswith(f"{tmp_path / 'global.xml'}:3:5: error: ")
                for line in worker["diagnostics"]
            ), worker["diagnostics"]
            assert chat(gateway).headers["x-config"] == "one"  # the old chains still serve
            assert version(admin) == before
            assert "reload (POST /-/reload)" in output_of(server)
            assert f"failed; version {before} keeps serving" in output_of(server)

            # Mended, it reloads: the new version serves and /-/ready says which it is.
            (tmp_path / "global.xml").write_text(HEADER_POLICY.format(value="two"))
            answer = reload(admin)
            assert answer.status_code == 200, answer.text
            after = answer.json()["version"]
            assert after != before and version(admin) == after
            assert answer.json()["workers"] == [{"pid": server.pid, "ok": True, "version": after}]
            assert chat(gateway).headers["x-config"] == "two"
        finally:
            stop(server)


def test_a_stream_begun_before_a_reload_ends_on_its_old_chains_and_backend(
    tmp_path: Path,
) -> None:
    port, admin_port = free_port(), free_port()
    admin, gateway = f"http://127.0.0.1:{admin_port}", f"http://127.0.0.1:{port}"
    with fake_providers(2) as (old_port, new_port):
        llm_directory(tmp_path, {"old": old_port}, "old", "one")
        server = start_gateway(tmp_path, port, None, admin_port)
        client = openai.OpenAI(base_url=f"{gateway}/llm", api_key="-", max_retries=0)
        words: list[str] = []
        headers: dict[str, str] = {}
        first_chunk, failure = threading.Event(), []

        def read_stream() -> None:
            try:
                raw = client.chat.completions.with_raw_response.create(
                    model="m",
                    messages=[{"role": "user", "content": "hi"}],
                    stream=True,
                    extra_headers={"x-fake-pause": "2"},  # 6 s: the reload comes mid-stream
                )
                headers.update(raw.headers)
                for chunk in raw.parse():
                    if chunk.choices and chunk.choices[0].delta.content:
                        words.append(chunk.choices[0].delta.content)
                        first_chunk.set()
            except BaseException as error:  # reported by the assertion below
                failure.append(error)
                first_chunk.set()

        try:
            reader = threading.Thread(target=read_stream)
            reader.start()
            assert first_chunk.wait(10)
            assert connections_to(server.pid, old_port) == 1  # the stream's
            # The new configuration removes the stream's backend and changes the header.
            llm_directory(tmp_path, {"new": new_port}, "new", "two")
            answer = reload(admin)
            assert answer.status_code == 200, answer.text
            fresh = chat(gateway)  # new requests: the new chains, the new backend
            assert fresh.headers["x-config"] == "two"
            assert (chat_calls(old_port), chat_calls(new_port)) == (1, 1)
            assert reader.is_alive()  # the stream was in flight when the new chains took over
            reader.join(20)
            assert not failure, failure
            assert "".join(words) == "one two three "  # every chunk, after the reload too
            assert headers["x-config"] == "one"
            # Its last request ended, the removed backend's session is closed (an idle pooled
            # connection would otherwise stay open for the pool's 15 s keep-alive).
            assert until(lambda: connections_to(server.pid, old_port) == 0, 5)
            assert connections_to(server.pid, new_port) == 1
        finally:
            stop(server)


CACHED_AND_LIMITED = """<policies>
    <inbound><base />
        <rate-limit-by-key calls="4" renewal-period="60" counter-key="shop" />
        <cache-lookup vary-by-developer="false" vary-by-developer-groups="false">
            <vary-by-query-parameter>item</vary-by-query-parameter>
        </cache-lookup>
    </inbound>
    <outbound><base /><cache-store duration="60" />
        <set-header name="x-config" exists-action="override"><value>{value}</value></set-header>
    </outbound>
</policies>"""


def test_a_limits_counter_and_a_cache_entry_survive_a_reload(tmp_path: Path) -> None:
    provider_port, port, admin_port = free_port(), free_port(), free_port()
    admin, gateway = f"http://127.0.0.1:{admin_port}", f"http://127.0.0.1:{port}"
    (tmp_path / "gateway.yaml").write_text(
        f"""
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
    (tmp_path / "apis").mkdir()
    policy = tmp_path / "apis" / "shop.xml"
    policy.write_text(CACHED_AND_LIMITED.format(value="one"))
    with fake_provider(provider_port):
        server = start_gateway(tmp_path, port, None, admin_port)
        try:
            lamp = httpx.get(f"{gateway}/shop/items?item=lamp")
            assert httpx.get(f"{gateway}/shop/items?item=desk").status_code == 200
            assert lamp.headers["x-aigw-cache"] == "miss"

            policy.write_text(CACHED_AND_LIMITED.format(value="two"))  # an unrelated change
            assert reload(admin).status_code == 200

            again = httpx.get(f"{gateway}/shop/items?item=lamp")
            assert again.headers["x-aigw-cache"] == "hit"  # the entry stored before
            assert again.json()["call"] == lamp.json()["call"]
            chair = httpx.get(f"{gateway}/shop/items?item=chair")
            assert chair.headers["x-config"] == "two"  # the new chains
            # Two calls before the reload, two after: the fifth is over the limit of four.
            assert httpx.get(f"{gateway}/shop/items?item=stool").status_code == 429
        finally:
            stop(server)


def test_every_worker_reloads_and_the_answer_says_so_only_when_all_have(
    tmp_path: Path,
) -> None:
    provider_port, port, admin_port = free_port(), free_port(), free_port()
    admin, gateway = f"http://127.0.0.1:{admin_port}", f"http://127.0.0.1:{port}"
    llm_directory(tmp_path, {"fake": provider_port}, "fake", "one")
    with fake_provider(provider_port):
        server = start_gateway(tmp_path, port, None, admin_port, "--workers", "3")

        def versions() -> dict[int, str]:
            listed = httpx.get(f"{admin}/-/workers", timeout=10).json()["workers"]
            return {entry["pid"]: entry["status"]["version"] for entry in listed if entry["ok"]}

        try:
            workers = sorted(versions())
            assert len(workers) == 3
            (tmp_path / "global.xml").write_text("<policies><inbound><oops /></inbound>")
            broken = reload(admin)
            assert broken.status_code == 422
            assert [entry["pid"] for entry in broken.json()["workers"]] == workers
            assert all(entry["diagnostics"] for entry in broken.json()["workers"])

            llm_directory(tmp_path, {"fake": provider_port}, "fake", "two")
            answer = reload(admin)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body["reloaded"] is True
            assert [(e["pid"], e["ok"], e["version"]) for e in body["workers"]] == [
                (pid, True, body["version"]) for pid in workers
            ]
            assert set(versions().values()) == {body["version"]}
            # Whichever worker takes them, requests see the new chains.
            assert {chat(gateway).headers["x-config"] for _ in range(9)} == {"two"}

            # SIGHUP to the supervisor reloads every worker too.
            llm_directory(tmp_path, {"fake": provider_port}, "fake", "three")
            os.kill(server.pid, signal.SIGHUP)

            def all_reloaded() -> bool:
                seen = versions()
                served = set(seen.values())
                return len(seen) == 3 and len(served) == 1 and body["version"] not in served

            assert until(all_reloaded), versions()
            assert {chat(gateway).headers["x-config"] for _ in range(9)} == {"three"}
            newest = version(admin)

            # A worker started after a crash serves the reloaded configuration.
            os.kill(workers[0], signal.SIGKILL)
            assert until(lambda: workers[0] not in versions() and len(versions()) == 3, 15)
            assert set(versions().values()) == {newest}
        finally:
            stop(server)
        assert server.returncode == 0


def test_one_process_reloads_on_sighup(tmp_path: Path) -> None:
    provider_port, port, admin_port = free_port(), free_port(), free_port()
    admin, gateway = f"http://127.0.0.1:{admin_port}", f"http://127.0.0.1:{port}"
    llm_directory(tmp_path, {"fake": provider_port}, "fake", "one")
    with fake_provider(provider_port):
        server = start_gateway(tmp_path, port, None, admin_port)
        try:
            before = version(admin)
            llm_directory(tmp_path, {"fake": provider_port}, "fake", "two")
            server.send_signal(signal.SIGHUP)
            assert until(lambda: version(admin) != before)
            assert chat(gateway).headers["x-config"] == "two"
            assert server.poll() is None
            assert "reload (SIGHUP)" in output_of(server)
        finally:
            stop(server)


def config_map_version(root: Path, name: str, files: dict[str, str]) -> None:
    """Publish `files` as Kubernetes updates a ConfigMap volume: a new `..<name>` folder, then
    `..data` swapped to it by one rename; the visible files link through `..data`."""
    folder = root / f"..{name}"
    folder.mkdir()
    for file, text in files.items():
        (folder / file).write_text(text)
        if not (root / file).is_symlink():
            (root / file).symlink_to(f"..data/{file}")
    (root / "..data_tmp").symlink_to(folder.name)
    os.replace(root / "..data_tmp", root / "..data")


def test_the_watch_follows_a_config_map_update(tmp_path: Path) -> None:
    provider_port, port, admin_port = free_port(), free_port(), free_port()
    admin, gateway = f"http://127.0.0.1:{admin_port}", f"http://127.0.0.1:{port}"
    config = f"""
reload: {{watch: true, interval: PT0.2S}}
backends:
  fake: {{url: "http://127.0.0.1:{provider_port}/v1"}}
apis:
  llm: {{path: llm, style: openai, backend: fake, subscription-required: false}}
"""
    config_map_version(
        tmp_path,
        "2026_12_07_01",
        {"gateway.yaml": config, "global.xml": HEADER_POLICY.format(value="one")},
    )
    with fake_provider(provider_port):
        server = start_gateway(tmp_path, port, None, admin_port)
        try:
            before = version(admin)
            assert chat(gateway).headers["x-config"] == "one"
            config_map_version(
                tmp_path,
                "2026_12_07_02",
                {"gateway.yaml": config, "global.xml": HEADER_POLICY.format(value="two")},
            )
            assert until(lambda: version(admin) != before)
            assert chat(gateway).headers["x-config"] == "two"

            # A broken update is reported once, and the last good version keeps serving.
            serving_version = version(admin)
            config_map_version(
                tmp_path, "2026_12_07_03", {"gateway.yaml": config, "global.xml": "<policies>"}
            )
            time.sleep(1.5)  # several intervals
            assert version(admin) == serving_version
            assert chat(gateway).headers["x-config"] == "two"
            assert output_of(server).count("reload (watch)") == 2  # one success, one failure
        finally:
            stop(server)
