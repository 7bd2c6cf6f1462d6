"""Before bench/peers.py times a target: does it answer as a gateway must?

A chat completion must come back 200 with the canned completion's content and usage (nginx
answers with bench/canned_completion.conf, read from there); a stream 200 with the canned
content in its chunks, ending with `data: [DONE]`; a request to the slow upstream must take its
50 ms (else it never reached that upstream). A target failing a check is reported, not timed:
a fast wrong answer is not a result.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from latency import BENCH
from peer_targets import JSON, SLOW, STREAM, Call, Peer

SLOW_SECONDS = 0.05  # bench/peers_nginx.conf's echo_sleep
_CANNED = re.compile(r"^return 200 '(.*)';\s*$", re.M | re.S)


@dataclass(frozen=True)
class Canned:
    content: str
    usage: dict[str, int]


def canned_body(name: str) -> str:
    """The body nginx returns, from the bench/ file (canned_completion.conf, canned_stream.conf)
    that holds its `return 200 '...';`."""
    found = _CANNED.search((BENCH / name).read_text())
    if found is None:
        raise ValueError(f"bench/{name} holds no `return 200 '...';`")
    return found.group(1)


def canned() -> Canned:
    """The content and usage of the completion nginx returns (bench/canned_completion.conf)."""
    body = json.loads(canned_body("canned_completion.conf"))
    return Canned(body["choices"][0]["message"]["content"], body["usage"])


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    seconds: float


def send(call: Call, timeout: float = 10.0) -> Answer:
    headers = {"Content-Type": "application/json", **call.headers}
    request = urllib.request.Request(call.url, data=call.body, headers=headers, method="POST")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as raw:
            status, body = raw.status, raw.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except OSError as error:
        raise ConnectionError(f"POST {call.url} failed: {error}") from error
    return Answer(status, body, time.perf_counter() - start)


def check_completion(answer: Answer, expected: Canned) -> str | None:
    """What is wrong with a chat completion's answer, or None."""
    if answer.status != 200:
        return f"answered {answer.status}: {answer.body[:300]!r}"
    try:
        body = json.loads(answer.body)
        content = body["choices"][0]["message"]["content"]
        usage = {name: body["usage"].get(name) for name in expected.usage}
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return f"not a chat completion: {answer.body[:300]!r}"
    if content != expected.content:
        return f"content {content!r}, not the upstream's {expected.content!r}"
    if usage != expected.usage:
        return f"usage {usage}, not the upstream's {expected.usage}"
    return None


def check_stream(answer: Answer, expected: Canned) -> str | None:
    """What is wrong with a streamed chat completion's answer, or None."""
    if answer.status != 200:
        return f"answered {answer.status}: {answer.body[:300]!r}"
    events = [
        line[len("data:") :].strip()
        for line in answer.body.decode(errors="replace").splitlines()
        if line.startswith("data:")
    ]
    if not events or events[-1] != "[DONE]":
        return f"the stream does not end with data: [DONE]: {answer.body[-300:]!r}"
    pieces = []
    try:
        for event in events[:-1]:
            for choice in json.loads(event).get("choices") or []:
                pieces.append((choice.get("delta") or {}).get("content") or "")
    except (ValueError, AttributeError):
        return f"a stream event is not a chat completion chunk: {answer.body[:300]!r}"
    if "".join(pieces) != expected.content:
        return f"streamed {''.join(pieces)!r}, not the upstream's {expected.content!r}"
    return None


def check_slow(answer: Answer, expected: Canned) -> str | None:
    """A completion that came through the slow upstream (so took at least its delay)."""
    wrong = check_completion(answer, expected)
    if wrong is None and answer.seconds < SLOW_SECONDS:
        ms = answer.seconds * 1000
        return f"answered in {ms:.1f} ms, under the slow upstream's {SLOW_SECONDS * 1000:g} ms"
    return wrong


CHECKS = {JSON: check_completion, STREAM: check_stream, SLOW: check_slow}


def problems(peer: Peer) -> list[str]:
    """Each of the target's calls that it answers wrongly, and why."""
    expected = canned()
    found = []
    for kind, check in CHECKS.items():
        try:
            wrong = check(send(peer.calls[kind]), expected)
        except ConnectionError as error:
            wrong = str(error)
        if wrong is not None:
            found.append(f"{kind}: {wrong}")
    return found
