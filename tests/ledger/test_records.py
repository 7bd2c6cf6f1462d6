"""Real calls through a real gateway, then the ledger's rows: on SQLite (the default kind) and
on the machine's PostgreSQL. Each row's tokens are what the provider reported in the response
the client got (a stream's usage chunk, a retried call's last answer, a realtime session's
`response.done` events), its cost those tokens at the dated price row; a cache hit costs
nothing and reached no provider; an HTTP-style API's call is no LLM call and has no row."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path

import anthropic
import httpx
import openai

from tests.fakes.realtime import USAGE as REALTIME_USAGE
from tests.ledger.directories import (
    CLAUDE_PRICE,
    KEY,
    PRICE,
    REALTIME_PRICE,
    migrate,
    wait_for_rows,
    write_directory,
)
from tests.ledger.prepared import aigw
from tests.proxy.processes import fake_provider, free_port, inject_faults, start_gateway, stop

ASK = [{"role": "user", "content": "hi"}]
MILLION = Decimal(1_000_000)


def cost(prompt: int, completion: int, rates: tuple[float, ...] = PRICE[:2]) -> Decimal:
    return (prompt * Decimal(str(rates[0])) + completion * Decimal(str(rates[-1]))) / MILLION


async def realtime_session(base: str) -> None:
    client = openai.AsyncOpenAI(base_url=f"{base}/rt", api_key=KEY, max_retries=0)
    async with client.realtime.connect(model="gpt-realtime") as connection:
        await connection.recv()  # session.created
        await connection.response.create()
        async for event in connection:
            if event.type == "response.done":
                break


def test_each_call_is_recorded_with_the_usage_the_provider_reported(
    tmp_path: Path, ledger_url: str
) -> None:
    provider_port, port = free_port(), free_port()
    root = tmp_path / "policies"
    root.mkdir()
    write_directory(root, provider_port, ledger_url)
    if ledger_url.startswith("postgresql"):  # the tables are aigw ledger migrate's to make
        assert "run 'aigw ledger migrate DIR'" in aigw("usage", str(root)).stderr
        assert "applied 1:" in migrate(root)
        assert "applied" not in migrate(root)  # a second run changes nothing
    with fake_provider(provider_port):
        gateway = start_gateway(root, port)
        try:
            base = f"http://127.0.0.1:{port}"
            team = openai.OpenAI(base_url=f"{base}/chat", api_key=KEY, max_retries=0)
            chat = team.chat.completions.with_raw_response
            plain = chat.create(model="m", messages=ASK)
            stream = chat.create(
                model="m", messages=ASK, stream=True, stream_options={"include_usage": True}
            )
            streamed = next(c.usage for c in stream.parse() if c.usage is not None)
            inject_faults(provider_port, mode="429", times=1)  # the first attempt: a 429
            retried = chat.create(model="m", messages=ASK)
            reasoned = chat.create(model="m", messages=ASK, reasoning_effort="low")
            claude = anthropic.Anthropic(base_url=f"{base}/claude", api_key=KEY, max_retries=0)
            message = claude.messages.with_raw_response.create(
                model="claude-x", max_tokens=50, messages=ASK
            )
            anyone = openai.OpenAI(base_url=f"{base}/cached", api_key="none", max_retries=0)
            asked = [{"role": "user", "content": "what is the capital of France"}]
            missed = anyone.chat.completions.with_raw_response.create(model="m", messages=asked)
            hit = anyone.chat.completions.with_raw_response.create(model="m", messages=asked)
            assert (missed.headers.get("x-aigw-cache"), hit.headers.get("x-aigw-cache")) == (
                None,
                "hit",
            )
            asyncio.run(realtime_session(base))
            httpx.get(f"{base}/plain/v1/models", headers={"Ocp-Apim-Subscription-Key": KEY})
            rows = wait_for_rows(ledger_url, 8)
        finally:
            stop(gateway)
    assert len(rows) == 8, "one row per LLM call; none for the HTTP API's"
    by_id = {row["request_id"]: row for row in rows}
    ids = {"request-id": "anthropic", "x-request-id": "openai"}

    def row_of(raw: object) -> dict[str, object]:
        headers = raw.headers  # type: ignore[attr-defined]
        return by_id[next(headers[name] for name in ids if name in headers)]

    usage_of = [
        (plain, plain.parse().usage),
        (stream, streamed),
        (retried, retried.parse().usage),
        (reasoned, reasoned.parse().usage),
        (missed, missed.parse().usage),
    ]
    for raw, usage in usage_of:
        row = row_of(raw)
        assert (row["prompt_tokens"], row["completion_tokens"]) == (
            usage.prompt_tokens,
            usage.completion_tokens,
        )
        assert Decimal(str(row["cost"])) == cost(usage.prompt_tokens, usage.completion_tokens)
        assert (row["price_date"], row["backend"], row["status"]) == (PRICE[2], "p", 200)
        assert (row["model_requested"], row["model_served"]) == ("m", "m")
    first, retry = row_of(plain), row_of(retried)
    assert (row_of(stream)["prompt_tokens"], row_of(stream)["completion_tokens"]) == (5, 3)
    assert (first["subscription"], first["product"], first["api"]) == ("team-a", "team", "chat")
    assert first["operation"] == "ChatCompletions_Create"
    assert (first["attempts"], first["attempt_log"]) == (1, "p:200")
    assert (retry["attempts"], retry["attempt_log"]) == (2, "p:429, p:200")
    assert row_of(reasoned)["reasoning_tokens"] == 2  # as the fake reports, inside completion
    assert (row_of(missed)["cache"], row_of(missed)["subscription"]) == (None, None)

    reply = message.parse().usage
    claude_row = row_of(message)
    assert (claude_row["prompt_tokens"], claude_row["completion_tokens"]) == (
        reply.input_tokens,
        reply.output_tokens,
    )
    assert claude_row["operation"] == "Messages_Create" and claude_row["backend"] == "c"
    assert Decimal(str(claude_row["cost"])) == cost(
        reply.input_tokens, reply.output_tokens, CLAUDE_PRICE
    )

    # The hit reached no provider: nothing used, nothing cost, no backend.
    cached = row_of(hit)
    assert cached["cache"] == "hit" and cached["status"] == 200
    assert (cached["prompt_tokens"], cached["completion_tokens"], cached["attempts"]) == (0, 0, 0)
    assert cached["cost"] is None and cached["backend"] is None

    # A realtime session is one call: its status 101, its usage summed from response.done.
    (session,) = [row for row in rows if row["operation"] == "Realtime_Connect"]
    prompt, cached_prompt, completion = REALTIME_USAGE
    assert (session["status"], session["model_served"]) == (101, "gpt-realtime")
    assert (session["prompt_tokens"], session["cached_tokens"]) == (prompt, cached_prompt)
    assert session["completion_tokens"] == completion
    rates = [Decimal(str(rate)) for rate in REALTIME_PRICE]
    dollars = (prompt - cached_prompt) * rates[0] + cached_prompt * rates[1]
    assert Decimal(str(session["cost"])) == (dollars + completion * rates[2]) / MILLION
    assert all(float(str(row["latency_ms"])) > 0 for row in rows)

    # aigw usage sums the same rows, exactly, in this database too.
    printed = aigw("usage", str(root), "--by", "api,model", "--format", "json")
    assert printed.returncode == 0, printed.stderr
    totals = {(t["api"], t["model"]): t for t in json.loads(printed.stdout)}
    assert len(totals) == len({(row["api"], row["model_served"]) for row in rows})
    for (api, model), total in totals.items():
        mine = [row for row in rows if (row["api"], row["model_served"]) == (api, model)]
        assert total["calls"] == len(mine)
        for measure in ("prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens"):
            assert total[measure] == sum(int(str(row[measure])) for row in mine)
        priced = [Decimal(str(row["cost"])) for row in mine if row["cost"] is not None]
        assert Decimal(str(total["cost"])) == sum(priced, Decimal(0))
