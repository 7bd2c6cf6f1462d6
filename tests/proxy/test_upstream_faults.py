"""A lone backend that misbehaves: silent past the timeout, stalling mid-stream, answering with
broken bodies or with errors. One gateway in front of one fake provider (tests/fakes/provider.py
and its broken answers, tests/fakes/broken_answers.py), `forward-request timeout="2"`.

What holds for every fault: the client gets an answer it can tell from a good one (an error
status, an error event, or the backend's own bytes unchanged), a stream never gets a `[DONE]`
its backend did not send, the gateway answers the next call, and the call is logged once.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.fakes.broken_answers import NOT_UTF8
from tests.proxy.processes import (
    fake_provider,
    free_port,
    inject_faults,
    output_of,
    start_gateway,
    stop,
)

POLICY = """<policies>
<inbound><base />
    <llm-token-limit counter-key="team" tokens-per-minute="1000000" estimate-prompt-tokens="false" />
</inbound>
<backend><forward-request timeout="2" /></backend>
<outbound><base /></outbound>
</policies>"""
CHAT = [{"role": "user", "content": "hi"}]


class Gateway:
    def __init__(self, url: str, admin: str, provider: int) -> None:
        self.url, self.admin, self.provider = url, admin, provider
        self.process: subprocess.Popen[bytes] | None = None

    def faults(self, **settings: object) -> None:
        inject_faults(self.provider, **settings)

    def post(self, stream: bool) -> httpx.Response:
        body = {"model": "gpt-4o", "stream": stream, "messages": CHAT}
        return httpx.post(f"{self.url}/chat/chat/completions", json=body, timeout=20)

    def sdk(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/chat", api_key="-", max_retries=0, timeout=20)

    def answers_again(self) -> None:
        """The fault is gone and the gateway serves the next call as if nothing happened."""
        self.faults(mode="ok")
        completion = self.sdk().chat.completions.create(model="gpt-4o", messages=CHAT)
        assert completion.choices[0].message.content

    def metric(self, name: str, **labels: str) -> float:
        text = httpx.get(f"{self.admin}/metrics").text
        total = 0.0
        for found in re.finditer(rf"^{name}\{{(?P<labels>[^}}]*)\}} (?P<value>\S+)$", text, re.M):
            if all(f'{k}="{v}"' in found.group("labels") for k, v in labels.items()):
                total += float(found.group("value"))
        return total


def events(answer: httpx.Response) -> list[str]:
    """A streamed call's `data:` lines, as the client got them."""
    return [line for line in answer.text.splitlines() if line.startswith("data:")]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    root: Path = tmp_path_factory.mktemp("upstream-faults")
    provider, port, admin = free_port(), free_port(), free_port()
    (root / "gateway.yaml").write_text(
        f"""
backends:
  fake: {{url: "http://127.0.0.1:{provider}/v1"}}
apis:
  chat: {{path: chat, style: openai, backend: fake, subscription-required: false}}
"""
    )
    (root / "apis").mkdir()
    (root / "apis" / "chat.xml").write_text(POLICY)
    with fake_provider(provider):
        process = start_gateway(root, port, None, admin)
        found = Gateway(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}", provider)
        found.process = process
        try:
            yield found
        finally:
            found.faults(mode="ok")
            stop(process)


def logged(gateway: Gateway, answer: httpx.Response) -> dict:
    """The access log's line for `answer` (written once the response is final: waited for)."""
    assert gateway.process is not None
    request_id = answer.headers["x-request-id"]
    deadline = time.monotonic() + 10
    while True:
        for line in output_of(gateway.process).splitlines():
            if line.startswith('{"time"') and f'"request_id":"{request_id}"' in line:
                return dict(json.loads(line))
        assert time.monotonic() < deadline, f"no access log line for {request_id}"
        time.sleep(0.1)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_a_backend_silent_past_the_timeout_gets_a_timeout_error_not_a_hang(
    gateway: Gateway, stream: bool
) -> None:
    gateway.faults(mode="hang")  # no headers for 30 s: the client would wait that long
    answer = gateway.post(stream)
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "timeout"
    assert answer.json()["message"] == "The backend did not answer within 2 seconds."
    with pytest.raises(openai.InternalServerError, match="did not answer within 2 seconds"):
        gateway.sdk().chat.completions.create(model="gpt-4o", messages=CHAT, stream=stream)
    gateway.answers_again()


def test_a_stream_that_stalls_past_the_timeout_ends_with_an_error_event_not_a_fake_done(
    gateway: Gateway,
) -> None:
    before = gateway.metric("aigw_stream_failures_total", reason="BackendConnectionFailure")
    gateway.faults(mode="stall")  # one chunk, then silence for 30 s
    answer = gateway.post(True)
    got = events(answer)
    assert '"content": "one "' in got[0]  # what came before the stall passed through
    assert '"stream_broken"' in got[-1] and "data: [DONE]" not in got
    with pytest.raises(openai.APIError, match="broke off"):
        stream = gateway.sdk().chat.completions.create(model="gpt-4o", messages=CHAT, stream=True)
        list(stream)
    after = gateway.metric("aigw_stream_failures_total", reason="BackendConnectionFailure")
    assert after == before + 2
    assert logged(gateway, answer)["error"].startswith("stream broke off")
    gateway.answers_again()


def test_a_plain_answer_that_stalls_mid_body_is_an_error_not_half_an_answer(
    gateway: Gateway,
) -> None:
    gateway.faults(mode="stall")  # the headers and half the body, then silence
    answer = gateway.post(False)
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "backend_connection_failure"
    assert "answer broke off" in answer.json()["message"]
    gateway.answers_again()


def test_a_stream_cut_short_without_its_end_gets_no_fake_done(gateway: Gateway) -> None:
    gateway.faults(mode="cut-short")  # one chunk, then the body ends: no finish, no [DONE]
    answer = gateway.post(True)
    got = events(answer)
    assert '"content": "one "' in got[0]
    assert "data: [DONE]" not in got  # the gateway does not finish it for the backend
    assert logged(gateway, answer)["status"] == 200
    gateway.answers_again()


def test_a_stream_cut_short_without_its_end_ends_with_an_error_event(gateway: Gateway) -> None:
    gateway.faults(mode="cut-short")
    assert '"stream_broken"' in events(gateway.post(True))[-1]


@pytest.mark.parametrize(
    ("mode", "content_type", "sdk_error"),
    [
        ("cut-short", "application/json", json.JSONDecodeError),  # JSON that stops half way
        ("garbled", "text/html", None),  # a 200 with an HTML page
        ("not-utf8", "application/json", None),  # bytes that are not UTF-8
    ],
)
def test_a_malformed_plain_answer_passes_unchanged_and_the_gateway_stays_up(
    gateway: Gateway, mode: str, content_type: str, sdk_error: type[Exception] | None
) -> None:
    gateway.faults(mode=mode)
    answer = gateway.post(False)
    assert answer.status_code == 200  # the backend's status: the gateway does not invent one
    assert answer.headers["content-type"] == content_type
    if mode == "garbled":
        assert answer.content.startswith(b"<html>")
    elif mode == "not-utf8":
        assert NOT_UTF8 in answer.content  # the bytes as sent, not "repaired"
    else:
        with pytest.raises(json.JSONDecodeError):
            json.loads(answer.content)
    assert logged(gateway, answer)["status"] == 200
    if sdk_error is not None:  # the client's SDK sees the break, as it would without us
        with pytest.raises(sdk_error):
            gateway.sdk().chat.completions.create(model="gpt-4o", messages=CHAT)
    gateway.answers_again()


@pytest.mark.parametrize("mode", ["garbled", "not-utf8"])
def test_a_stream_with_a_malformed_event_passes_it_on_and_completes(
    gateway: Gateway, mode: str
) -> None:
    gateway.faults(mode=mode)  # a broken first event, then good events to [DONE]
    answer = gateway.post(True)
    assert answer.status_code == 200
    if mode == "not-utf8":
        assert NOT_UTF8 in answer.content
    else:
        assert answer.content.startswith(b'data: {"choices": [{"delta": {"content": "one \n\n')
    got = events(answer)
    assert got[-1] == "data: [DONE]" and '"content": "two "' in got[-3]
    assert "error" not in logged(gateway, answer)  # complete by its protocol
    gateway.answers_again()


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("429", openai.RateLimitError),
        ("500", openai.InternalServerError),
        ("503", openai.InternalServerError),
    ],
)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
def test_a_backend_error_reaches_the_client_with_its_status_and_retry_after(
    gateway: Gateway, mode: str, error: type[openai.APIStatusError], stream: bool
) -> None:
    gateway.faults(mode=mode, retry_after=7)
    answer = gateway.post(stream)
    assert answer.status_code == int(mode)
    assert answer.json()["error"]["message"] == f"injected {mode}"
    if mode != "500":  # the provider's Retry-After, for the client's SDK to wait by
        assert answer.headers["retry-after"] == "7"
    with pytest.raises(error) as raised:
        gateway.sdk().chat.completions.create(model="gpt-4o", messages=CHAT, stream=stream)
    assert raised.value.status_code == int(mode)
    gateway.answers_again()
