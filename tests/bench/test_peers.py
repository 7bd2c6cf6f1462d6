"""bench/peers.py: what --install would pin (never run here: it needs PyPI and npm), its
arguments, and the first-byte client against a real server on loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import peers
import pytest
from latency import REPO, BenchError
from peer_targets import Call, Ports, targets


def test_the_peers_are_pinned_and_node_server_forced_for_portkey_too() -> None:
    manifest = peers.npm_manifest()
    assert manifest["dependencies"] == {
        "@portkey-ai/gateway": "1.15.2",
        "@hono/node-server": "1.14.1",
    }
    assert manifest["overrides"] == {"@hono/node-server": "1.14.1"}
    assert peers.LITELLM_SPEC == "litellm[proxy]==1.106.2"


def test_install_refuses_a_folder_inside_the_repository() -> None:
    with pytest.raises(BenchError, match="inside the repository"):
        peers.install(REPO / "peers")
    assert not (REPO / "peers").exists()


def test_a_run_without_the_peers_installed_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match=r"run `bench/peers.py --install`"):
        peers.require_installed(tmp_path)


def test_arguments() -> None:
    args = peers.parse_args(["--quick", "--only", "governed, portkey", "--max-noise", "0.2"])
    assert (args.duration, args.warmup, args.max_noise) == (3, 1, 0.2)
    assert args.only == {"governed", "portkey"}
    assert args.peers_dir == Path("/tmp/aigw-peers")
    assert peers.parse_args([]).only == set()


def test_only_names_known_targets(capsys: pytest.CaptureFixture[str]) -> None:
    known = [peer.key for peer in targets(Ports(23570), Path("/p"), Path("/l.yaml"))]
    assert peers.TARGET_KEYS.split(",") == known
    with pytest.raises(SystemExit):
        peers.parse_args(["--only", "governed,kong"])
    assert "no target kong" in capsys.readouterr().err


class Streamer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the first-byte client expects

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/missing":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in (b"data: {}\n\n", b"data: [DONE]\n\n"):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self) -> None:  # as the bare forwarder, which serves POST only; /down: unwell
        self.send_response(503 if self.path == "/down" else 405)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def streamer() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Streamer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_first_byte_p50_reads_streams_over_one_connection(streamer: str) -> None:
    call = Call(f"{streamer}/v1/chat/completions", {}, b'{"stream": true}')
    assert peers.first_byte_p50(call, 0.2) > 0
    with pytest.raises(BenchError, match="404"):
        peers.first_byte_p50(Call(f"{streamer}/missing", {}, b"{}"), 0.2)


def test_answers_is_true_for_any_http_answer_under_500(streamer: str) -> None:
    assert peers.answers(streamer + "/")  # 405: up
    assert not peers.answers(streamer + "/down")
    assert not peers.answers("http://127.0.0.1:9/")
