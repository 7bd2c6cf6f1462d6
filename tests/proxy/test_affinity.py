"""Session affinity against a real gateway and fake providers: a session stays on one member.

A round-robin pool of three fake providers with `session-affinity: {cookie: SessionId}` and a
breaker on each member; a retry around forward-request, as APIM's pool samples have.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from tests.proxy.processes import chat_calls, fake_providers, inject_faults, serving
from tests.proxy.retry_policy import RETRY

BREAKER = """    circuit-breaker:
      rules:
        - failure-condition: {count: 1, interval: 60, status-code-ranges: ["429", "500-599"]}
          trip-duration: 60"""
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def members() -> Iterator[list[int]]:
    with fake_providers(3) as ports:
        yield ports


@pytest.fixture
def directory(tmp_path: Path, members: list[int]) -> Path:
    backends = "".join(
        f'  m{i}:\n    url: "http://127.0.0.1:{port}/v1"\n{BREAKER}\n'
        for i, port in enumerate(members)
    )
    (tmp_path / "gateway.yaml").write_text(
        f"""
backends:
{backends}  pool:
    pool:
      services: [m0, m1, m2]
      session-affinity: {{cookie: SessionId}}
apis:
  chat: {{path: chat, style: openai, backend: pool, subscription-required: false}}
"""
    )
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "chat.xml").write_text(RETRY.format(timeout=5))
    return tmp_path


def ask(client: httpx.Client | None, base: str, **headers: str) -> httpx.Response:
    """A chat call; with `client`, through its cookie jar."""
    body = {"model": "m", "messages": MESSAGES}
    url = f"{base}/chat/chat/completions"
    if client is None:
        return httpx.post(url, json=body, headers=headers, timeout=30)
    return client.post(url, json=body, headers=headers, timeout=30)


def member_of(answer: httpx.Response) -> int:
    return int(answer.headers["x-aigw-backend"].removeprefix("m"))


def test_a_session_stays_on_one_member_while_cookieless_clients_spread(
    directory: Path, members: list[int]
) -> None:
    with serving(directory, os.environ) as gateway, httpx.Client() as jar:
        client = openai.OpenAI(base_url=f"{gateway}/chat", api_key="-", http_client=jar)
        answers = [
            client.chat.completions.with_raw_response.create(model="m", messages=MESSAGES)
            for _ in range(12)
        ]
        cookie = answers[0].headers["set-cookie"]
        assert cookie.startswith("SessionId=") and cookie.endswith("; Path=/; HttpOnly")
        assert "m0" not in cookie and "127.0.0.1" not in cookie  # opaque
        assert all("set-cookie" not in a.headers for a in answers[1:])  # no need to re-pin
        assert len({a.headers["x-aigw-backend"] for a in answers}) == 1
        pinned = [chat_calls(port) for port in members]
        assert sorted(pinned) == [0, 0, 12]

        cookieless = [ask(None, gateway) for _ in range(12)]
    assert all(a.status_code == 200 and "set-cookie" in a.headers for a in cookieless)
    spread = [chat_calls(port) - before for port, before in zip(members, pinned, strict=True)]
    assert spread == [4, 4, 4]  # pinned calls took no round-robin turn


@pytest.mark.parametrize("mode", ["500", "429"])
def test_a_tripped_member_moves_the_session_and_sets_a_new_cookie(
    directory: Path, members: list[int], mode: str
) -> None:
    with serving(directory, os.environ) as gateway, httpx.Client() as jar:
        first = ask(jar, gateway)
        old = jar.cookies["SessionId"]
        tripped = member_of(first)
        inject_faults(members[tripped], mode=mode)
        moved = ask(jar, gateway)
        assert moved.status_code == 200  # the retry went to another member...
        settled = member_of(moved)
        assert settled != tripped
        attempts = f"m{tripped}:{mode}, m{tripped}:open, m{settled}:200"
        assert moved.headers["x-aigw-attempts"] == attempts
        assert "set-cookie" in moved.headers  # ...and the cookie followed it
        assert jar.cookies["SessionId"] not in ("", old)
        later = [ask(jar, gateway) for _ in range(5)]
        assert {member_of(a) for a in later} == {settled}
        assert all("set-cookie" not in a.headers for a in later)

        # Another client of the old session: its member is open, so it is moved on at once.
        stale = ask(None, gateway, Cookie=f"SessionId={old}")
        assert stale.headers["x-aigw-attempts"].startswith(f"m{tripped}:open, ")
        assert stale.headers["set-cookie"].startswith("SessionId=")
    assert chat_calls(members[tripped]) == 2  # its good call, then the one that tripped it


def test_replicas_sharing_nothing_agree_and_bad_cookies_do_no_harm(
    directory: Path, members: list[int]
) -> None:
    with serving(directory, os.environ) as one, serving(directory, os.environ) as two:
        assert member_of(ask(None, one)) == 0  # so the session below starts elsewhere
        with httpx.Client() as jar:
            here = member_of(ask(jar, one))
            there = [member_of(ask(jar, two)) for _ in range(4)]
        assert here != 0 and there == [here] * 4  # the second replica's own first pick is m0
        for cookie in ("SessionId=garbage", 'SessionId="; ;;=; x', "SessionId=", b"S=\xff\xfe"):
            answer = httpx.post(
                f"{one}/chat/chat/completions",
                json={"model": "m", "messages": MESSAGES},
                headers={"Cookie": cookie},  # bytes: not even UTF-8
            )
            assert answer.status_code == 200 and answer.headers["set-cookie"].startswith(
                "SessionId="
            )
