"""bench/peer_checks.py: a target is timed only when it answers as the upstream did."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from peer_checks import (
    Answer,
    Canned,
    canned,
    canned_body,
    check_completion,
    check_slow,
    check_stream,
    problems,
)
from peer_targets import JSON, SLOW, STREAM, Call, Peer

COMPLETION = canned_body("canned_completion.conf").encode()
STREAMED = canned_body("canned_stream.conf").encode()
EXPECTED = Canned(
    "Hello! How can I help you today?",
    {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
)


def test_the_expected_answer_comes_from_nginx_s_canned_completion() -> None:
    assert canned() == EXPECTED


def test_the_canned_completion_and_stream_pass() -> None:
    assert check_completion(Answer(200, COMPLETION, 0.001), EXPECTED) is None
    assert check_stream(Answer(200, STREAMED, 0.001), EXPECTED) is None
    assert check_slow(Answer(200, COMPLETION, 0.051), EXPECTED) is None


def test_a_reshaped_completion_with_the_same_content_and_usage_passes() -> None:
    body = json.loads(COMPLETION)
    body["choices"][0]["message"]["provider_specific_fields"] = {}  # as LiteLLM adds
    body["usage"] = {**body["usage"], "completion_tokens_details": None}
    assert check_completion(Answer(200, json.dumps(body).encode(), 0.001), EXPECTED) is None


def test_wrong_completions_are_named() -> None:
    assert check_completion(Answer(502, b"bad gateway", 0.0), EXPECTED) == (
        "answered 502: b'bad gateway'"
    )
    assert "not a chat completion" in (check_completion(Answer(200, b"{}", 0.0), EXPECTED) or "")
    other = COMPLETION.replace(b"Hello!", b"Bye!")
    assert "content 'Bye! How can I help you today?'" in (
        check_completion(Answer(200, other, 0.0), EXPECTED) or ""
    )
    no_usage = COMPLETION.replace(b'"total_tokens":21', b'"total_tokens":0')
    assert "usage" in (check_completion(Answer(200, no_usage, 0.0), EXPECTED) or "")


def test_a_stream_must_end_with_done_and_carry_the_content() -> None:
    cut = STREAMED.replace(b"data: [DONE]", b"")
    assert "does not end with data: [DONE]" in (check_stream(Answer(200, cut, 0.0), EXPECTED) or "")
    bare = b"data: [DONE]\n\n"
    assert check_stream(Answer(200, bare, 0.0), EXPECTED) == (
        "streamed '', not the upstream's 'Hello! How can I help you today?'"
    )
    assert check_stream(Answer(200, COMPLETION, 0.0), EXPECTED) is not None  # JSON, not SSE


def test_a_slow_call_answered_fast_never_reached_the_slow_upstream() -> None:
    assert check_slow(Answer(200, COMPLETION, 0.002), EXPECTED) == (
        "answered in 2.0 ms, under the slow upstream's 50 ms"
    )


class Upstream(BaseHTTPRequestHandler):
    """Answers by path: /good (JSON or, asked for, a stream), /slow (late), /broken (500)."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/broken":
            self.reply(500, b'{"error": "boom"}', "application/json")
        elif body.get("stream"):
            self.reply(200, STREAMED, "text/event-stream")
        else:
            if self.path == "/slow":
                time.sleep(0.06)
            self.reply(200, COMPLETION, "application/json")

    def reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture
def upstream() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def peer(calls: dict[str, str]) -> Peer:
    body = b'{"model": "m", "messages": []}'
    stream = b'{"model": "m", "messages": [], "stream": true}'
    made = {kind: Call(url, {}, stream if kind == STREAM else body) for kind, url in calls.items()}
    return Peer("t", "target", [], made, "")


def test_a_target_answering_rightly_has_no_problems(upstream: str) -> None:
    good = peer({JSON: f"{upstream}/good", STREAM: f"{upstream}/good", SLOW: f"{upstream}/slow"})
    assert problems(good) == []


def test_each_wrong_answer_is_reported(upstream: str) -> None:
    bad = peer({JSON: f"{upstream}/broken", STREAM: f"{upstream}/good", SLOW: f"{upstream}/good"})
    found = problems(bad)
    assert found[0] == 'json: answered 500: b\'{"error": "boom"}\''
    assert found[1].startswith("slow: answered in ")
    assert len(found) == 2


def test_a_target_that_is_not_there_is_reported() -> None:
    gone = peer(dict.fromkeys((JSON, STREAM, SLOW), "http://127.0.0.1:9/v1/chat/completions"))
    found = problems(gone)
    assert len(found) == 3
    assert found[0].startswith("json: POST http://127.0.0.1:9/v1/chat/completions failed:")
