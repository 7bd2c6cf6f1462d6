"""tiktoken, the reference the gateway's own counter (gateway.tokens.bpe) is compared with:
its encodings built from the same packaged files (tiktoken would download them)."""

from __future__ import annotations

import base64
from functools import cache
from unittest import mock

import tiktoken
import tiktoken_ext.openai_public as openai_public

from gateway.tokens import bpe


@cache
def oracle(name: str) -> tiktoken.Encoding:
    def local(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        data = bpe.packaged_ranks(url.rsplit("/", 1)[1].removesuffix(".tiktoken"))
        return {
            base64.b64decode(token): int(rank)
            for token, rank in (line.split() for line in data.splitlines())
        }

    with mock.patch.object(openai_public, "load_tiktoken_bpe", local):
        return tiktoken.Encoding(**openai_public.ENCODING_CONSTRUCTORS[name]())


def tiktoken_count(text: str, name: str) -> int:
    """What tiktoken counts: special tokens' text as plain text, as the gateway counts it."""
    return len(oracle(name).encode(text, disallowed_special=()))
