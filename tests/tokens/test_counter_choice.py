"""gateway.yaml's `limits.token-counter`: compact (gateway.tokens.bpe) or tiktoken
(gateway.tokens.tiktoken_counter) count the same, and `use_counter` switches between them.

Which library a served gateway imports for each choice, and a reload switching it, are checked
in a fresh process: tests/test_load.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.tokens import bpe, tokenizer
from gateway.tokens.tiktoken_counter import TiktokenEncoding
from gateway.tokens.tokenizer import PIECE, count_text, encoding, use_counter
from tests.tokens.corpus import NAMES, PROSE, corpus


@pytest.fixture
def compact_after() -> Iterator[None]:
    """The other tests count with the default: put it back."""
    yield
    use_counter("compact")


@pytest.mark.parametrize("name", NAMES)
def test_both_counters_give_identical_counts_on_a_varied_corpus(name: str) -> None:
    compact, fast = encoding(name), TiktokenEncoding(name)
    assert isinstance(compact, bpe.Encoding)
    differing = [text[:40] for text in corpus() if compact.count(text) != fast.count(text)]
    assert differing == []


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-4"])
def test_a_large_text_counts_the_same_piece_by_piece_with_either(
    compact_after: None, model: str
) -> None:
    text = (PROSE * 20)[: PIECE * 3 + 17] + "中文文本没有空格" * 300
    counts = []
    for counter in ("compact", "tiktoken", "compact"):
        use_counter(counter)
        counts.append(count_text(text, model))
    assert counts[0] == counts[1] == counts[2]


def test_switching_builds_the_chosen_counters_encodings_and_forgets_the_others(
    compact_after: None,
) -> None:
    assert tokenizer.counter_in_use() == "compact"
    assert isinstance(encoding("o200k_base"), bpe.Encoding)
    assert tokenizer.COUNTED_INLINE == 4 * 1024
    use_counter("tiktoken")
    assert tokenizer._ENCODINGS == {}  # nothing of the compact counter kept
    assert isinstance(encoding("o200k_base"), TiktokenEncoding)
    # tiktoken lets other threads run and counts 16 KB of prose in about 0.7 ms
    assert tokenizer.COUNTED_INLINE == 16 * 1024
    use_counter("tiktoken")  # the same again: its encodings stay
    assert isinstance(tokenizer._ENCODINGS["o200k_base"], TiktokenEncoding)
    use_counter("compact")
    assert isinstance(encoding("o200k_base"), bpe.Encoding)
    assert tokenizer.COUNTED_INLINE == 4 * 1024


def test_an_unknown_counter_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown token counter 'fast': compact, tiktoken"):
        use_counter("fast")
    assert tokenizer.counter_in_use() == "compact"
