"""bench/peer_targets.py: each target's requests, and the files written for them (the wrk
scripts, LiteLLM's config, nginx's config), the last two run for real when nginx and wrk are
installed."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import latency
import pytest
import yaml
from peer_checks import canned, check_completion, check_stream, send
from peer_targets import (
    ECHO_MODULE,
    JSON,
    KINDS,
    SLOW,
    STREAM,
    Call,
    Ports,
    litellm_config,
    lua_string,
    nginx_config,
    nginx_direct,
    targets,
    wrk_script,
)

PORTS = Ports(23570)
PEERS = Path("/tmp/aigw-peers-test")


def test_lua_strings_escape_quotes_backslashes_and_control_characters() -> None:
    assert lua_string('say "hi"') == '"say \\"hi\\""'
    assert lua_string("a\\b") == '"a\\\\b"'
    assert lua_string("line\nnext") == '"line\\10next"'
    assert lua_string("é") == '"\\195\\169"'  # UTF-8 bytes, decimal escapes


def test_a_wrk_script_runs_post_lua_then_sets_the_body_and_headers() -> None:
    call = Call("http://h/v1/chat/completions", {"x-portkey-provider": "openai"}, b'{"a": 1}')
    lines = wrk_script(call).splitlines()
    assert lines[1] == f"dofile({lua_string(str(latency.BENCH / 'post.lua'))})"
    assert lines[2] == 'wrk.body = "{\\"a\\": 1}"'
    assert lines[3] == 'wrk.headers["x-portkey-provider"] = "openai"'


def test_every_target_has_the_three_calls_on_its_own_port() -> None:
    found = targets(PORTS, PEERS, Path("/tmp/litellm.yaml"))
    assert [peer.key for peer in found] == ["litellm", "portkey", "passthrough", "governed", "bare"]
    ports = set()
    for peer in found:
        assert set(peer.calls) == set(KINDS)
        ports.add(peer.calls[JSON].url.split("/")[2])
        assert json.loads(peer.calls[STREAM].body)["stream"] is True
        assert "stream" not in json.loads(peer.calls[JSON].body)
    assert len(ports) == 5


def test_each_target_reaches_the_slow_upstream_its_own_way() -> None:
    litellm, portkey, passthrough, governed, bare = targets(PORTS, PEERS, Path("/x.yaml"))
    assert json.loads(litellm.calls[SLOW].body)["model"] == "gpt-4o-mini-slow"
    assert litellm.calls[JSON].headers == {"Authorization": "Bearer sk-bench-master"}
    assert portkey.calls[SLOW].headers["x-portkey-custom-host"] == "http://127.0.0.1:23570/slow/v1"
    assert portkey.calls[JSON].headers == {
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": "http://127.0.0.1:23570/v1",
        "Authorization": "Bearer sk-bench",
    }
    assert passthrough.calls[SLOW].headers == {"x-slow": "1"}
    assert governed.calls[SLOW].headers == {"Authorization": "Bearer sk-bench-0001", "x-slow": "1"}
    assert bare.calls[SLOW].url == "http://127.0.0.1:23571/slow/v1/chat/completions"


def test_ours_serve_the_bench_chains_with_the_upstream_from_the_environment() -> None:
    governed = targets(PORTS, PEERS, Path("/x.yaml"))[3]
    assert governed.command[-7:] == [
        str(latency.BENCH / "chains" / "governed"),
        "--host",
        "127.0.0.1",
        "--port",
        "23574",
        "--admin-port",
        "23575",
    ]
    assert governed.env is not None
    assert governed.env["MOCK_BASE"] == "http://127.0.0.1:23570/v1"
    assert governed.env["MOCK_SLOW_BASE"] == "http://127.0.0.1:23570/slow/v1"


def test_litellm_s_config_points_two_model_names_at_nginx() -> None:
    config = yaml.safe_load(litellm_config(PORTS))
    models = {model["model_name"]: model["litellm_params"] for model in config["model_list"]}
    assert models == {
        "gpt-4o-mini": {
            "model": "openai/gpt-4o-mini",
            "api_base": "http://127.0.0.1:23570/v1",
            "api_key": "sk-bench",
        },
        "gpt-4o-mini-slow": {
            "model": "openai/gpt-4o-mini",
            "api_base": "http://127.0.0.1:23570/slow/v1",
            "api_key": "sk-bench",
        },
    }
    assert config["general_settings"] == {"master_key": "sk-bench-master"}


def test_nginx_s_config_has_every_placeholder_filled() -> None:
    text = nginx_config(PORTS)
    assert "__" not in text
    assert "listen 127.0.0.1:23570;" in text
    assert f"include {latency.BENCH}/canned_stream.conf;" in text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Ports]:
    if shutil.which("nginx") is None or not ECHO_MODULE.exists():
        pytest.skip("needs nginx and its echo module (libnginx-mod-http-echo)")
    ports = Ports(free_port())
    (tmp_path / "nginx.conf").write_text(nginx_config(ports))
    servers = latency.Servers(tmp_path)
    try:
        latency.start_nginx(servers, tmp_path / "nginx.conf")
        latency.wait_until(servers, "nginx", lambda: latency.listening(ports.nginx))
        yield ports
    finally:
        servers.stop()


def test_nginx_answers_json_a_stream_and_late(nginx: Ports) -> None:
    direct = nginx_direct(nginx)
    expected = canned()
    assert check_completion(send(direct), expected) is None
    stream = Call(direct.url, {}, b'{"model": "m", "stream": true}')
    assert check_stream(send(stream), expected) is None
    for slow in (
        Call(direct.url, {"x-slow": "1"}, direct.body),
        Call(nginx.mock_base(slow=True) + "/chat/completions", {}, direct.body),
    ):
        answer = send(slow)
        assert check_completion(answer, expected) is None
        assert answer.seconds >= 0.05  # nginx's echo_sleep, a floor: not a timing assertion


def test_wrk_runs_the_generated_script(nginx: Ports, tmp_path: Path) -> None:
    if shutil.which("wrk") is None:
        pytest.skip("needs wrk")
    call = Call(nginx_direct(nginx).url, {"x-slow": "0"}, b'{"model": "m", "stream": true}')
    script = tmp_path / "stream.lua"
    script.write_text(wrk_script(call))
    done = subprocess.run(
        ["wrk", "-t1", "-c1", "-d1s", "-s", str(script), call.url],
        capture_output=True,
        text=True,
        timeout=60,
    )
    [line] = [line for line in done.stdout.splitlines() if line.startswith("AIGW_BENCH ")]
    stats = json.loads(line.removeprefix("AIGW_BENCH "))
    assert stats["requests"] > 0
    assert stats["status_errors"] == stats["read_errors"] == 0
