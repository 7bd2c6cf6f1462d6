"""gateway.tokens.bpe counts as tiktoken does, in flat arrays rather than a map per token.

tiktoken (the counter `limits.token-counter: tiktoken` chooses) is the oracle: every count here is compared with its
`encode(text, disallowed_special=())`, on prose, code, JSON, unicode of many scripts, emoji,
long runs of whitespace and of one letter, IDs, special tokens' text and random mixtures.
"""

from __future__ import annotations

import random
import sys

import pytest

from gateway.tokens import bpe
from gateway.tokens.tokenizer import encoding
from tests.tokens.corpus import NAMES, corpus
from tests.tokens.oracle import tiktoken_count


@pytest.mark.parametrize("name", NAMES)
def test_counts_equal_tiktokens_on_a_varied_corpus(name: str) -> None:
    counter = encoding(name)
    wrong = [(text[:40], counter.count(text), tiktoken_count(text, name)) for text in corpus()]
    assert [case for case in wrong if case[1] != case[2]] == []


@pytest.mark.parametrize("name", NAMES)
def test_long_pieces_merge_through_the_heap_as_short_ones_do_by_scanning(name: str) -> None:
    counter = encoding(name)
    rng = random.Random(3)
    letters = "abcdefghijklmnopqrstuvwxyzéü中文"
    for _ in range(200):
        word = "".join(rng.choice(letters) for _ in range(rng.randint(2, bpe.SCANNED)))
        piece = word.encode()
        if len(piece) > 1 and counter.rank(piece) == bpe.NOT_MERGEABLE:
            assert counter.long_piece_count(piece) == counter.piece_count(piece)


def test_an_encoding_is_a_few_flat_arrays_not_an_object_per_token() -> None:
    """Structural: the ranks live in one bytes and four arrays (about 6 MB for o200k_base);
    what is remembered between counts is bounded."""
    counter = encoding("o200k_base")
    assert len(counter.ends) - 1 == 199_998 == len(counter.hashes)
    parts = (counter.blob, counter.ends, counter.hashes, counter.slots, counter.pairs)
    assert sum(sys.getsizeof(part) for part in parts) < 8 * 2**20
    counter.count(" ".join(f"w{i}" for i in range(3 * bpe.PIECES_KEPT)))
    assert len(counter.counted) <= bpe.PIECES_KEPT
    counter.count("".join(chr(point) for point in range(0x4E00, 0x4E00 + 2 * bpe.CLASSES_KEPT)))
    assert len(bpe._CLASSES) <= bpe.CLASSES_KEPT


def test_a_file_that_does_not_match_openais_hash_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(bpe.EXPECTED_SHA256, "o200k_base", "0" * 64)
    with pytest.raises(ValueError, match="does not match OpenAI's published hash"):
        bpe.Encoding("o200k_base")
