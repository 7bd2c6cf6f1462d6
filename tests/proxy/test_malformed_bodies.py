"""Malformed request bodies: cut JSON, bytes that are not UTF-8, JSON that is not an object.

The gateway reads a model call's body when a policy needs it (here llm-token-limit estimates
the prompt), and a body it cannot read must neither crash the request nor be "repaired": it
goes to the backend byte for byte, and the provider's own 400 reaches the client as the
provider wrote it. The token limit counts nothing for a body that holds no prompt.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.proxy.processes import fake_provider, free_port, open_chat_yaml, serving

LIMITED = """<policies>
    <inbound>
        <base />
        <llm-token-limit counter-key="everyone" tokens-per-minute="100000"
            estimate-prompt-tokens="true" remaining-tokens-header-name="x-remaining" />
    </inbound>
    <backend><base /></backend>
    <outbound><base /></outbound>
</policies>"""

BODIES = {
    "cut_json": b'{"model": "gpt-4o", "messa',
    "not_utf8": b'{"model": "\xff\xfe", "messages": []}',
    "json_array": b"[1, 2, 3]",
    "nul_bytes": b"\x00\x01\x02",
    "deeply_nested": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    provider = free_port()
    root = tmp_path_factory.mktemp("malformed")
    (root / "gateway.yaml").write_text(open_chat_yaml(provider))
    (root / "apis").mkdir()
    (root / "apis" / "chat.xml").write_text(LIMITED)
    with fake_provider(provider), serving(root) as url:
        yield url


@pytest.mark.parametrize("shape", sorted(BODIES))
def test_a_malformed_body_reaches_the_provider_as_sent_and_its_400_the_client(
    gateway: str, shape: str
) -> None:
    with httpx.Client(base_url=gateway, timeout=30) as client:
        answer = client.post(
            "/chat/chat/completions",
            content=BODIES[shape],
            headers={"content-type": "application/json"},
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["type"] == "invalid_request_error"
        # The gateway is whole and its limit was not charged for a body without a prompt.
        served = client.post(
            "/chat/chat/completions",
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
        )
        assert served.status_code == 200
        assert int(served.headers["x-remaining"]) > 100000 - 100
