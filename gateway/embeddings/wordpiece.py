"""Pure-Python BERT (uncased) WordPiece tokenizer.

It reproduces what Hugging Face `tokenizers` does with all-MiniLM-L6-v2's `tokenizer.json`
(BertNormalizer + BertPreTokenizer + WordPiece), so the shipped model sees exactly the ids it
was trained on, without pulling `tokenizers` (and the Hugging Face hub stack behind it) into
the gateway. The order of the normalisation steps follows `tokenizers`, not the older Python
`BertTokenizer`, where the two differ: control characters are dropped, whitespace becomes a
space, CJK ideographs are padded with spaces, accents are stripped (NFD, drop Mn) and only
then is the text lower-cased, one character at a time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, CLS, SEP, MASK)

# `tokenizers` matches added tokens on the raw text before normalising it (they are declared
# with normalized=false), so a literal "[SEP]" in a prompt becomes the special id, not five
# pieces. We do the same so that vectors stay identical to the reference model's.
_SPECIAL_RE = re.compile("|".join(re.escape(t) for t in SPECIAL_TOKENS))

# ASCII fast path: after cleaning, an ASCII word is split into runs of non-punctuation and
# single punctuation characters. BERT counts every non-alphanumeric printable ASCII character
# ($, +, <, =, >, ^, `, | included, although Unicode calls them symbols) as punctuation.
_ASCII_PUNCT = "!-/:-@\\[-`{-~"
_ASCII_PIECES_RE = re.compile(f"[^\\s{_ASCII_PUNCT}]+|[{_ASCII_PUNCT}]")
# ASCII control characters other than tab/newline/carriage return are dropped by clean_text.
_ASCII_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Unicode White_Space characters (what Rust's char::is_whitespace accepts) that are not also
# control characters: those are mapped to a space. Control characters that are White_Space
# (U+0085, \x0b, \x0c) are removed first, because tokenizers filters before it maps.
_UNICODE_SPACES = frozenset(
    " \t\n\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_KEEP_CONTROLS = frozenset("\t\n\r")
# Dropped by clean_text: control, format (zero-width space/joiners, BOM, soft hyphen),
# surrogate and private-use characters. Unassigned code points (Cn) are kept, as tokenizers
# keeps them (checked against it); they usually end up as [UNK].
_DROPPED_CATEGORIES = frozenset(("Cc", "Cf", "Cs", "Co"))

MAX_INPUT_CHARS_PER_WORD = 100
_CACHE_LIMIT = 1 << 16
# The most of a text's end `encode_tail` tokenises (characters).
LONGEST_TAIL = 1 << 20


def _is_cjk(cp: int) -> bool:
    # The ranges of `tokenizers`' is_chinese_char (CJK Unified Ideographs and extensions,
    # compatibility ideographs). Hangul, kana and CJK punctuation are not in them.
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B920 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def _is_punct(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _normalize_unicode(text: str) -> str:
    """BertNormalizer for text with non-ASCII characters: clean, pad CJK, strip accents, lower."""
    out: list[str] = []
    for ch in text:
        cp = ord(ch)
        if ch in _UNICODE_SPACES:
            out.append(" ")
            continue
        if cp == 0 or cp == 0xFFFD:
            continue
        if ch not in _KEEP_CONTROLS and unicodedata.category(ch) in _DROPPED_CATEGORIES:
            continue
        if _is_cjk(cp):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    decomposed = unicodedata.normalize("NFD", "".join(out))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    # Per character on purpose: str.lower() applies the Greek final-sigma rule, which
    # tokenizers does not (it maps each char on its own), so "ΟΔΟΣ" must become "οδοσ".
    return "".join(map(str.lower, stripped))


def _split_punct_unicode(word: str) -> list[str]:
    pieces: list[str] = []
    current: list[str] = []
    for ch in word:
        if _is_punct(ch):
            if current:
                pieces.append("".join(current))
                current = []
            pieces.append(ch)
        else:
            current.append(ch)
    if current:
        pieces.append("".join(current))
    return pieces


def pre_tokenize(text: str) -> list[str]:
    """Normalise `text` (no special tokens in it) and split it into words and punctuation."""
    if text.isascii():
        # One regex pass in C: the common case (English prompts, code) never loops in Python.
        return _ASCII_PIECES_RE.findall(_ASCII_CONTROL_RE.sub("", text).lower())
    words: list[str] = []
    for word in _normalize_unicode(text).split(" "):
        if not word:
            continue
        if word.isascii():
            words.extend(_ASCII_PIECES_RE.findall(word))
        else:
            words.extend(_split_punct_unicode(word))
    return words


class WordPiece:
    """Greedy longest-match-first WordPiece over a BERT vocabulary (one token per line)."""

    def __init__(self, vocab: Iterable[str]) -> None:
        self.vocab: dict[str, int] = {}
        for index, token in enumerate(vocab):
            self.vocab.setdefault(token, index)
        self.unk_id = self.vocab[UNK]
        self.cls_id = self.vocab[CLS]
        self.sep_id = self.vocab[SEP]
        self.pad_id = self.vocab[PAD]
        self._special_ids = {t: self.vocab[t] for t in SPECIAL_TOKENS}
        # Prompts repeat words a lot, so a word's pieces are cached and the greedy search runs
        # once per distinct word. The cache is bounded and simply dropped when full; dict
        # get/set are atomic under the GIL, so threads can share it (a lost entry only costs
        # a recomputation).
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def from_file(cls, path: str | Path) -> WordPiece:
        return cls.from_text(Path(path).read_text(encoding="utf-8"))

    @classmethod
    def from_text(cls, text: str) -> WordPiece:
        # vocab.txt is one token per line, and a token's id is its line number. Split on "\n"
        # only: str.splitlines() also splits on \x1c-\x1e, \x85 and U+2028, which would shift
        # every id after a token containing one.
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return cls(line.removesuffix("\r") for line in lines)

    def clear_cache(self) -> None:
        """Forget cached words (for benchmarks that want the cost of unseen text)."""
        self._cache.clear()

    def _word_ids(self, word: str) -> list[int]:
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        ids = self._wordpiece(word)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[word] = ids
        return ids

    def _wordpiece(self, word: str) -> list[int]:
        if len(word) > MAX_INPUT_CHARS_PER_WORD:
            return [self.unk_id]
        vocab = self.vocab
        ids: list[int] = []
        start = 0
        n = len(word)
        while start < n:
            end = n
            found = -1
            while start < end:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = vocab.get(piece, -1)
                if found >= 0:
                    break
                end -= 1
            if found < 0:
                # One unmatched piece makes the whole word [UNK], as in BERT.
                return [self.unk_id]
            ids.append(found)
            start = end
        return ids

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, without [CLS]/[SEP]."""
        ids: list[int] = []
        pos = 0
        for match in _SPECIAL_RE.finditer(text):
            self._encode_plain(text[pos : match.start()], ids)
            ids.append(self._special_ids[match.group()])
            pos = match.end()
        self._encode_plain(text[pos:], ids)
        return ids

    def _encode_plain(self, text: str, out: list[int]) -> None:
        if not text:
            return
        for word in pre_tokenize(text):
            out.extend(self._word_ids(word))

    def encode_tail(self, text: str, max_tokens: int) -> list[int]:
        """The last `max_tokens` ids of `encode(text)`, without tokenising all of a huge text.

        A gateway sees prompts of hundreds of kilobytes (pasted documents, RAG context) and we
        only keep the tail, so we tokenise a growing suffix instead, cut anywhere. Tokenising
        never looks across a word's end, so only the suffix's first word can come out
        otherwise than in the whole text (it may be a piece of a word), and a word makes at
        most `MAX_INPUT_CHARS_PER_WORD` ids: past that many more than `max_tokens`, the
        suffix's last ids are exactly the whole text's. (Cut only at whitespace, as before,
        a text with none, 15 MB of `a,b,c`, was tokenised whole: seconds of Python.) A text
        whose last `LONGEST_TAIL` characters make fewer ids (a few giant words) is tokenised
        from there: its ids can differ from the whole text's in that part's first word only.
        """
        if max_tokens <= 0:
            return []
        enough = max_tokens + MAX_INPUT_CHARS_PER_WORD
        window = max(enough * 8, 256)
        while window < min(len(text), LONGEST_TAIL):
            ids = self.encode(text[len(text) - window :])
            if len(ids) >= enough:
                return ids[-max_tokens:]
            window *= 4
        return self.encode(text[-LONGEST_TAIL:])[-max_tokens:]

    def tokens(self, ids: Iterable[int]) -> list[str]:
        inverse = {i: t for t, i in self.vocab.items()}
        return [inverse.get(i, UNK) for i in ids]
