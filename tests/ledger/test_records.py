"""Real calls through a real gateway, then the ledger's rows: on SQLite (the default kind) and
on the machine's PostgreSQL. Each row's tokens are what the provider reported in the response
the client got (a stream's usage chunk, a retried call's last answer), its cost those tokens
at the price row, dated; a cache hit costs nothing and reached no provider."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import openai
import pytest

from tests.ledger.directories import KEY, PRICE, migrate, wait_for_rows, write_directory
from tests.ledger.postgres_servers import shared_schema
from tests.proxy.processes import fake_provider, free_port, inject_faults, start_gateway, stop


@pytest.fixture(params=["sqlite", "postgres"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'calls.ledger.sqlite'}"
        return
    with shared_schema() as url:
        yield url


def cost(prompt: int, completion: int) -> Decimal:
    return (prompt * Decimal(str(PRICE[0])) + completion * Decimal(str(PRICE[1]))) / 1_000_000


def test_each_call_is_recorded_with_the_usage_the_provider_reported(
    tmp_path: Path, ledger_url: str
) -> None:
    provider_port, port = free_port(), free_port()
    root = tmp_path / "policies"
    root.mkdir()
    write_directory(root, provider_port, ledger_url)
    if ledger_url.startswith("postgresql"):
        assert "applied 1:" in migrate(root)
        assert "applied" not in migrate(root)  # a second run changes nothing
    with fake_provider(provider_port):
        gateway = start_gateway(root, port)
        try:
            base = f"http://127.0.0.1:{port}"
            team = openai.OpenAI(base_url=f"{base}/chat", api_key=KEY, max_retries=0)
            plain = team.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}]
            )
            chunks = list(
                team.chat.completions.create(
                    model="m",
                    messages=[{"role": "user", "content": "hi"}],
                    stream=True,
                    stream_options={"include_usage": True},
                )
            )
            streamed = next(c.usage for c in chunks if c.usage is not None)
            inject_faults(provider_port, mode="429", times=1)  # the first attempt: a 429
            retried = team.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "again"}]
            )
            anyone = openai.OpenAI(base_url=f"{base}/cached", api_key="none", max_retries=0)
            asked = [{"role": "user", "content": "what is the capital of France"}]
            missed = anyone.chat.completions.with_raw_response.create(model="m", messages=asked)
            hit = anyone.chat.completions.with_raw_response.create(model="m", messages=asked)
            assert hit.headers.get("x-aigw-cache") == "hit"
            assert missed.headers.get("x-aigw-cache") is None
            rows = wait_for_rows(ledger_url, 5)
        finally:
            stop(gateway)
    assert len(rows) == 5
    first, stream, retry, miss, cached = rows
    reported = [
        (first, plain.usage.prompt_tokens, plain.usage.completion_tokens),
        (stream, streamed.prompt_tokens, streamed.completion_tokens),
        (retry, retried.usage.prompt_tokens, retried.usage.completion_tokens),
        (miss, missed.parse().usage.prompt_tokens, missed.parse().usage.completion_tokens),
    ]
    for row, prompt, completion in reported:
        assert (row["prompt_tokens"], row["completion_tokens"]) == (prompt, completion)
        assert Decimal(str(row["cost"])) == cost(prompt, completion)
        assert row["price_date"] == PRICE[2]
        assert (row["model_requested"], row["model_served"], row["status"]) == ("m", "m", 200)
        assert row["backend"] == "p"
    assert (stream["prompt_tokens"], stream["completion_tokens"]) == (5, 3)  # not the 5 + 7
    assert (first["subscription"], first["product"], first["api"]) == ("team-a", "team", "chat")
    assert first["operation"] == "ChatCompletions_Create"
    assert (first["attempts"], first["attempt_log"]) == (1, "p:200")
    assert (retry["attempts"], retry["attempt_log"]) == (2, "p:429, p:200")
    assert (miss["cache"], miss["subscription"], miss["api"]) == (None, None, "cached")
    # The hit reached no provider: nothing used, nothing cost, no backend.
    assert cached["cache"] == "hit" and cached["status"] == 200
    assert (cached["prompt_tokens"], cached["completion_tokens"], cached["attempts"]) == (0, 0, 0)
    assert cached["cost"] is None and cached["backend"] is None
    assert len({row["request_id"] for row in rows}) == 5
    assert all(float(str(row["latency_ms"])) > 0 for row in rows)
