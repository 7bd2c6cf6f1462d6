"""Counting a huge prompt: exact when encoded piece by piece, and never on the event loop.

Before, llm-token-limit counted a 15 MB prompt (estimate-prompt-tokens) on the event loop: every
other request of the gateway waited seconds, even when the call was then refused with 429.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from gateway.tokens.tokenizer import PIECE, count_text, pieces
from tests.conftest import REPO
from tests.proxy.observed import Gateway, observed_directory
from tests.proxy.processes import free_port
from tests.tokens.oracle import tiktoken_count

PROSE = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4"])
def test_a_large_text_counted_in_pieces_counts_as_a_whole(model: str) -> None:
    name = "o200k_base" if model == "gpt-4o" else "cl100k_base"
    rng = random.Random(7)
    # Spaces after letters, digits and punctuation, runs of spaces, newlines, tabs, digits,
    # accents, CJK, emoji: the places where a cut could change how the text splits.
    alphabet = [*"abc XYZ 012 345 ,.;:!?'\"-_/\\()[]{} \n\r\t  éü 中文 🙂", "  ", "\n\n", " 12345 "]
    alphabet += ["don't ", "'s", "'re", "'T"]
    texts = [
        (PROSE * 20)[: PIECE * 3 + 17],
        "".join(rng.choice(alphabet) for _ in range(PIECE * 3)),
        "word " * (PIECE // 2),  # a cut point everywhere
        "x" * (PIECE * 2) + " tail",  # none but near the end
        ". " * PIECE,  # spaces only after punctuation: no cut point at all
    ]
    for text in texts:
        assert len(list(pieces(text))) >= 1
        assert "".join(pieces(text)) == text
        assert count_text(text, model) == tiktoken_count(text, name)
    assert len(list(pieces(texts[0]))) > 2  # it was cut


PROVIDER_PORT = free_port()
CLOSED_PORT = free_port()  # the cheapest pool's members: refused at once, once it has counted
GATEWAY_YAML = f"""
limits: {{max-request-body: 33554432}}
backends:
  provider: {{url: "http://127.0.0.1:{PROVIDER_PORT}/v1", provider: openai}}
  shut-a: {{url: "http://127.0.0.1:{CLOSED_PORT}/v1", provider: openai}}
  shut-b: {{url: "http://127.0.0.1:{CLOSED_PORT}/v2", provider: openai}}
  cheapest: {{pool: {{services: [shut-a, shut-b], strategy: cheapest}}}}
apis:
  limited: {{path: limited, style: openai, backend: provider, subscription-required: false}}
  counted: {{path: counted, style: anthropic, backend: provider, subscription-required: false}}
  cheap: {{path: cheap, style: openai, backend: cheapest, subscription-required: false}}
  other: {{path: other, style: openai, backend: provider, subscription-required: false}}
"""
# The side call marks the moment the policy runs (the body is read): the count comes next,
# by llm-token-limit, or by the gateway answering Anthropic's count_tokens for an OpenAI model.
MARK = f"""<send-request mode="new" response-variable-name="mark" timeout="30">
            <set-url>http://127.0.0.1:{PROVIDER_PORT}/v1/models</set-url>
            <set-method>GET</set-method>
        </send-request>"""
LIMITED = f"""<policies>
    <inbound><base />
        {MARK}
        <llm-token-limit counter-key="everyone" tokens-per-minute="1000"
            estimate-prompt-tokens="true" />
    </inbound>
</policies>"""
COUNTED = f"<policies><inbound><base />{MARK}</inbound></policies>"
# A policy that reads the body (else a large one streams to the backend, uncounted).
READ = """<set-variable name="model"
            value="@(context.Request.Body.As&lt;JObject&gt;(preserveContent: true)[&quot;model&quot;].ToString())" />"""
CHEAP = COUNTED.replace("<base />", f"<base />{READ}")


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    apis = {"limited": LIMITED, "counted": COUNTED, "cheap": CHEAP}
    yield from observed_directory(
        tmp_path_factory.mktemp("counting"), GATEWAY_YAML, apis, PROVIDER_PORT
    )


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("limited/chat/completions", 429),
        ("counted/v1/messages/count_tokens", 200),
        ("cheap/chat/completions", 500),
    ],
    ids=["llm-token-limit", "count_tokens", "cheapest-pool"],
)
def test_a_15_mb_prompt_being_counted_does_not_hold_up_other_clients(
    gateway: Gateway, path: str, status: int
) -> None:
    """Another client's call is answered while the 15 MB prompt is still being counted.

    The order is what is checked, not how long anything took: the big call's policy makes a
    side call to the fake provider just before the count (llm-token-limit's, the gateway's
    answer to Anthropic's count_tokens for an OpenAI model, or a `cheapest` pool's estimate),
    so once the provider has seen it, the gateway is reading or counting the prompt (seconds
    of work); the small call is sent then, and must be answered before the big call is (429
    over the limit, the count, or the pool's members refusing the connection at once). Counted on the event loop, the small call could not even be read until the count
    ended, and the big call's answer went out first.
    """
    provider = f"http://127.0.0.1:{PROVIDER_PORT}"
    prompt = (PROSE * (15_000_000 // len(PROSE) + 1))[:15_000_000]
    big = {"model": "gpt-4o", "max_tokens": 1, "messages": [{"role": "user", "content": prompt}]}
    small = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    httpx.delete(f"{provider}/-/requests")
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(httpx.post, f"{gateway.base}/{path}", json=big, timeout=300)
        while not any(
            r["path"] == "/v1/models" for r in httpx.get(f"{provider}/-/requests").json()
        ):
            assert not pending.done(), pending.result().text
            time.sleep(0.01)
        answer = httpx.post(f"{gateway.base}/other/chat/completions", json=small, timeout=300)
        assert answer.status_code == 200
        assert not pending.done()  # answered while the big prompt was still being counted
        assert pending.result().status_code == status
