"""The targets of bench/peers.py: how each is started, and the requests each is sent.

Every target gets the same three requests, each in the form that target takes: a chat
completion (JSON), the same as a stream, and one its upstream answers 50 ms late. nginx
(bench/peers_nginx.conf) answers all three at one base URL, telling a stream by the body and
the slow upstream by its own base URL (or an `x-slow: 1` header a target passes on):

- LiteLLM's proxy: a config file with an OpenAI model whose api_base is nginx, and a second
  model name whose api_base is the slow one; its master key checked;
- Portkey's gateway: provider openai, custom host nginx (or the slow base), in its
  x-portkey-* headers, the provider key in Authorization as Portkey's clients send it;
- ours, pass-through (bench/chains/passthrough-mock) and governed (bench/chains/governed),
  their upstream from MOCK_BASE, MOCK_SLOW_BASE and MOCK_API_KEY;
- the bare forwarder (bench/bare_forwarder.py), whose slow requests go to nginx's slow path.

This module also writes what those need: the wrk scripts, LiteLLM's config, nginx's config.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import latency  # bench/: running bench/peers.py puts it first on sys.path
import yaml
from latency import BENCH, CHAT_PATH, HOST, REPO

JSON, STREAM, SLOW = "json", "stream", "slow"
KINDS = (JSON, STREAM, SLOW)
MOCK_API_KEY = "sk-bench"  # what the upstream is sent; nginx takes anything
GOVERNED_KEY = "sk-bench-0001"  # the subscription key in bench/chains/governed/gateway.yaml
LITELLM_MASTER_KEY = "sk-bench-master"
MODEL = "gpt-4o-mini"
SLOW_MODEL = "gpt-4o-mini-slow"  # LiteLLM's name for the model behind the slow upstream
# Where --install puts the peers: the venv and node_modules under --peers-dir.
LITELLM_BIN = Path("litellm-venv") / "bin" / "litellm"
PORTKEY_SERVER = Path("node_modules") / "@portkey-ai" / "gateway" / "build" / "start-server.js"
ECHO_MODULE = Path("/usr/lib/nginx/modules/ngx_http_echo_module.so")


@dataclass(frozen=True)
class Call:
    """One request as a target takes it (Content-Type: application/json besides)."""

    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Peer:
    key: str  # the process's name among the servers
    name: str  # the table's row
    command: list[str]
    calls: dict[str, Call]  # by kind: JSON, STREAM, SLOW
    ready_url: str  # answers a GET (any status below 500) once the target is up
    env: dict[str, str] | None = None
    cwd: Path = REPO
    startup_timeout: float = latency.STARTUP_TIMEOUT


@dataclass(frozen=True)
class Ports:
    """Where everything listens: consecutive ports from `base`."""

    base: int

    @property
    def nginx(self) -> int:
        return self.base

    @property
    def bare(self) -> int:
        return self.base + 1

    @property
    def passthrough(self) -> tuple[int, int]:  # traffic, admin
        return self.base + 2, self.base + 3

    @property
    def governed(self) -> tuple[int, int]:
        return self.base + 4, self.base + 5

    @property
    def litellm(self) -> int:
        return self.base + 6

    @property
    def portkey(self) -> int:
        return self.base + 7

    def all(self) -> list[int]:
        return list(range(self.base, self.base + 8))

    def mock_base(self, slow: bool = False) -> str:
        return f"http://{HOST}:{self.nginx}{'/slow' if slow else ''}/v1"


def request_body(model: str = MODEL, stream: bool = False) -> bytes:
    """latency.py's chat request (with post.lua's max_tokens), asking for a stream or not."""
    body = {**json.loads(latency.BODY), "model": model, "max_tokens": 16}
    if stream:
        body["stream"] = True
    return json.dumps(body).encode()


def same_calls(url: str, headers: dict[str, str], slow: Call) -> dict[str, Call]:
    """The JSON and stream calls differ only in the body; the slow one as given."""
    return {
        JSON: Call(url, headers, request_body()),
        STREAM: Call(url, headers, request_body(stream=True)),
        SLOW: slow,
    }


def nginx_direct(ports: Ports) -> Call:
    return Call(ports.mock_base() + "/chat/completions", {}, request_body())


def litellm(ports: Ports, peers_dir: Path, config: Path) -> Peer:
    url = f"http://{HOST}:{ports.litellm}{CHAT_PATH}"
    auth = {"Authorization": f"Bearer {LITELLM_MASTER_KEY}"}
    command = [str(peers_dir / LITELLM_BIN), "--config", str(config), "--host", HOST]
    command += ["--port", str(ports.litellm), "--num_workers", "1", "--telemetry", "False"]
    # Offline: LiteLLM fetches its price map from the internet at start unless told not to.
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return Peer(
        "litellm",
        "LiteLLM proxy",
        command,
        same_calls(url, auth, Call(url, auth, request_body(SLOW_MODEL))),
        f"http://{HOST}:{ports.litellm}/health/liveliness",
        env,
        peers_dir,
        startup_timeout=120.0,  # it imports a lot: tens of seconds on a busy core
    )


def litellm_config(ports: Ports) -> str:
    """LiteLLM's config: the model behind nginx, and the same behind the slow upstream."""

    def model(name: str, slow: bool) -> dict[str, object]:
        params = {"model": f"openai/{MODEL}", "api_base": ports.mock_base(slow)}
        return {"model_name": name, "litellm_params": {**params, "api_key": MOCK_API_KEY}}

    config = {
        "model_list": [model(MODEL, False), model(SLOW_MODEL, True)],
        "general_settings": {"master_key": LITELLM_MASTER_KEY},
    }
    return yaml.safe_dump(config, sort_keys=False)


def portkey(ports: Ports, peers_dir: Path) -> Peer:
    url = f"http://{HOST}:{ports.portkey}{CHAT_PATH}"

    def headers(slow: bool) -> dict[str, str]:
        return {
            "x-portkey-provider": "openai",
            "x-portkey-custom-host": ports.mock_base(slow),
            "Authorization": f"Bearer {MOCK_API_KEY}",
        }

    command = ["node", str(peers_dir / PORTKEY_SERVER), f"--port={ports.portkey}", "--headless"]
    return Peer(
        "portkey",
        "Portkey gateway",
        command,
        same_calls(url, headers(False), Call(url, headers(True), request_body())),
        f"http://{HOST}:{ports.portkey}/",
        cwd=peers_dir,
    )


def ours(key: str, name: str, chain: str, ports: tuple[int, int], mock: Ports) -> Peer:
    """Our gateway serving bench/chains/<chain>, this work tree's code, its upstream nginx."""
    url = f"http://{HOST}:{ports[0]}{CHAT_PATH}"  # both chains serve their API at v1
    auth = {"Authorization": f"Bearer {GOVERNED_KEY}"} if chain == "governed" else {}
    env = {
        **latency.gateway_env(REPO),
        "MOCK_BASE": mock.mock_base(),
        "MOCK_SLOW_BASE": mock.mock_base(slow=True),
        "MOCK_API_KEY": MOCK_API_KEY,
    }
    # The governed chain's choose sends x-slow: 1 to its slow backend; pass-through passes the
    # header on, and nginx answers it late.
    slow = Call(url, {**auth, "x-slow": "1"}, request_body())
    return Peer(
        key,
        name,
        latency.gateway_command(BENCH / "chains" / chain, ports),
        same_calls(url, auth, slow),
        f"http://{HOST}:{ports[0]}/-/health",
        env,
    )


def bare(ports: Ports) -> Peer:
    base = f"http://{HOST}:{ports.bare}"
    command = [sys.executable, str(BENCH / "bare_forwarder.py"), "--host", HOST]
    command += ["--port", str(ports.bare), "--upstream", f"http://{HOST}:{ports.nginx}"]
    slow = Call(f"{base}/slow{CHAT_PATH}", {}, request_body())
    return Peer(
        "bare", "bare forwarder", command, same_calls(base + CHAT_PATH, {}, slow), base + "/"
    )


def targets(ports: Ports, peers_dir: Path, litellm_yaml: Path) -> list[Peer]:
    """Every target, in the table's order: the peers, ours, the baseline."""
    return [
        litellm(ports, peers_dir, litellm_yaml),
        portkey(ports, peers_dir),
        ours("passthrough", "ours, pass-through", "passthrough-mock", ports.passthrough, ports),
        ours("governed", "ours, governed", "governed", ports.governed, ports),
        bare(ports),
    ]


# -- generated files ------------------------------------------------------------------------


def lua_string(text: str) -> str:
    """A Lua string literal holding `text`."""
    escaped = []
    for char in text:
        if char in '\\"':
            escaped.append("\\" + char)
        elif char.isprintable() and ord(char) < 128:
            escaped.append(char)
        else:
            escaped.extend(f"\\{byte}" for byte in char.encode())
    return '"' + "".join(escaped) + '"'


def wrk_script(call: Call) -> str:
    """A wrk script sending `call`: bench/post.lua (its report line) with the body and headers
    changed. The URL goes on wrk's command line."""
    lines = [
        "-- Written by bench/peers.py: post.lua, with this target's body and headers.",
        f"dofile({lua_string(str(BENCH / 'post.lua'))})",
        f"wrk.body = {lua_string(call.body.decode())}",
    ]
    lines += [
        f"wrk.headers[{lua_string(name)}] = {lua_string(value)}"
        for name, value in sorted(call.headers.items())
    ]
    return "\n".join(lines) + "\n"


def nginx_config(ports: Ports, echo_module: Path = ECHO_MODULE) -> str:
    """bench/peers_nginx.conf with its port, the echo module and bench/ filled in."""
    template = (BENCH / "peers_nginx.conf").read_text()
    return (
        template.replace("__PORT__", str(ports.nginx))
        .replace("__ECHO_MODULE__", str(echo_module))
        .replace("__BENCH__", str(BENCH))
    )
