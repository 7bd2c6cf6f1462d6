"""tiktoken as the counter (gateway.yaml `limits.token-counter: tiktoken`).

The same counts as gateway.tokens.bpe (tests/tokens/test_counter_choice.py), from the same
packaged files, at 2 to 28 times less CPU a count (2-3 for prose and code, 28 for Chinese
written without spaces: one long piece to merge), and its Rust core lets other threads run
while it encodes; but its maps keep each token three times over, each an allocation of its
own: o200k_base takes about 45 MB of every worker that counts where gateway.tokens.bpe takes
6 (docs/sizing.md).

tiktoken is imported here only when an encoding is built: at the first count of a gateway
that chose it. A gateway on `compact` never imports it (tests/test_load.py).
"""

from __future__ import annotations

import base64
from collections.abc import Callable

from gateway.tokens.bpe import packaged_ranks


class TiktokenEncoding:
    """An OpenAI encoding run by tiktoken: what the gateway asks of it is a count."""

    __slots__ = ("_encode", "name")

    def __init__(self, name: str) -> None:
        import tiktoken
        import tiktoken_ext.openai_public as openai_public

        data = packaged_ranks(name)  # checked against OpenAI's hash
        ranks = {
            base64.b64decode(token): int(rank)
            for token, rank in (line.split() for line in data.splitlines() if line)
        }

        def packaged(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
            return ranks

        # Its constructor would download the file: it reads the packaged one instead. Swapped
        # by hand, not with unittest.mock (2 MB more), under tokenizer's lock (one at a time).
        downloading = openai_public.load_tiktoken_bpe
        openai_public.load_tiktoken_bpe = packaged
        try:
            spec = openai_public.ENCODING_CONSTRUCTORS[name]()
        finally:
            openai_public.load_tiktoken_bpe = downloading
        built = tiktoken.Encoding(**spec)
        # The Rust core holds its own copy of the ranks; tiktoken keeps the Python dict only to
        # pickle the encoding, which the gateway never does: dropped, it frees about 28 MB.
        built._mergeable_ranks = {}
        self.name = name
        # Special tokens' text counted as text, as gateway.tokens.bpe counts it (and as
        # `encode(text, disallowed_special=())` would).
        self._encode: Callable[[str], list[int]] = built.encode_ordinary

    def count(self, text: str) -> int:
        return len(self._encode(text))
