"""Find policy expressions in raw text before anything else reads it.

APIM accepts `@(...)` and `@{...}` written raw inside XML attributes and text, with `"`, `&&`,
`<` and generics such as `As<JObject>` unescaped. So the loader finds every expression first:
an `@(` or `@{` that does not follow a letter or digit starts one, and the bracket that closes
the opening one ends it. Brackets inside C# string literals (`"..."`, verbatim `@"..."`,
interpolated `$"..{hole}.."`, `$@"..."`) and char literals do not count.

In XML text the quotes of those literals may themselves be written as `&quot;`/`&apos;`; the
scanner reads an entity as the character it stands for, and skips XML comments and CDATA.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

_ENTITIES = {"&quot;": '"', "&apos;": "'", "&lt;": "<", "&gt;": ">", "&amp;": "&"}
_ENTITY = re.compile(r"&(?:quot|apos|lt|gt|amp|#[0-9]+|#x[0-9a-fA-F]+);")
_OPENERS = {"(": ")", "[": "]", "{": "}"}
# An unclosed comment or CDATA runs to the end of the text.
_MARKUP_REGION = re.compile(r"<!--.*?(?:-->|\Z)|<!\[CDATA\[.*?(?:\]\]>|\Z)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Span:
    """`text[start:end]` is one expression; `end` is None when it never closes."""

    start: int
    end: int | None


class _Reader:
    """Reads characters of an already-decoded text: plain string indexing, nothing more."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos

    def peek(self, ahead: int = 0) -> str:
        at = self.pos + ahead
        return self.text[at] if at < len(self.text) else ""

    def next(self) -> str:
        """The next character, or "" past the end (a text may end inside a literal, after a
        backslash: `@("abc\\`)."""
        char = self.peek()
        self.pos += 1
        return char

    def at_end(self) -> bool:
        return self.pos >= len(self.text)


def _decode_with_origins(text: str) -> tuple[str, list[int]]:
    """`text` with entities decoded, and for each decoded character its offset in `text`."""
    if "&" not in text:
        return text, list(range(len(text) + 1))
    chars: list[str] = []
    origins: list[int] = []
    last = 0
    for match in _ENTITY.finditer(text):
        chars.append(text[last : match.start()])
        origins.extend(range(last, match.start()))
        chars.append(decode_entity(match.group()))
        origins.extend([match.start()] * len(chars[-1]))
        last = match.end()
    chars.append(text[last:])
    origins.extend(range(last, len(text) + 1))
    return "".join(chars), origins


def decode_entity(entity: str) -> str:
    """The character an XML entity stands for; an impossible code point stays as written."""
    if entity in _ENTITIES:
        return _ENTITIES[entity]
    code = int(entity[3:-1], 16) if entity.startswith("&#x") else int(entity[2:-1])
    return chr(code) if 0 < code <= 0x10FFFF else entity


def is_expression_start(text: str, pos: int) -> bool:
    if not text.startswith(("@(", "@{"), pos):
        return False
    return pos == 0 or not text[pos - 1].isalnum()


def find_expression_end(text: str, start: int) -> int | None:
    """The end (exclusive) of the expression starting at `text[start] == '@'`, or None."""
    reader = _Reader(text, start + 1)
    stack = [_OPENERS[reader.next()]]
    while not reader.at_end():
        char = reader.peek()
        if _starts_literal(reader):
            if not _skip_literal(reader):
                return None
            continue
        if char == "/" and reader.peek(1) in ("/", "*"):
            _skip_comment(reader)
            continue
        reader.next()
        if char in _OPENERS:
            stack.append(_OPENERS[char])
        elif char in ")]}":
            if char != stack[-1]:
                # A stray closer (unbalanced code): keep scanning; the expression parser
                # reports it with its position once the span is known.
                continue
            stack.pop()
            if not stack:
                return reader.pos
    return None


def _skip_comment(reader: _Reader) -> None:
    """Skip a `// line` or `/* block */` comment: apostrophes in prose are not char literals."""
    reader.next()
    block = reader.next() == "*"
    while not reader.at_end():
        char = reader.next()
        if not block and char == "\n":
            return
        if block and char == "*" and reader.peek() == "/":
            reader.next()
            return


def _starts_literal(reader: _Reader) -> bool:
    char = reader.peek()
    if char in ('"', "'"):
        return True
    if char in ("@", "$"):
        following = reader.peek(1)
        if following == '"':
            return True
        if following in ("@", "$") and following != char:
            return reader.peek(2) == '"'
    return False


def _skip_literal(reader: _Reader) -> bool:
    """Skip one string or char literal at the reader's position; False if it never ends."""
    prefix = ""
    while reader.peek() in ("@", "$") and len(prefix) < 2:
        prefix += reader.next()
    quote = reader.next()
    if quote not in "\"'":
        return True  # a lone '@' or '$' that does not start a literal
    verbatim = "@" in prefix
    interpolated = "$" in prefix
    while not reader.at_end():
        char = reader.next()
        if char == "\\" and not verbatim:
            reader.next()
        elif char == quote:
            if verbatim and reader.peek() == quote:
                reader.next()
                continue
            return True
        elif interpolated and char == "{":
            if reader.peek() == "{":
                reader.next()
                continue
            if not _skip_hole(reader):
                return False
        elif char == "\n" and not verbatim:
            return False
    return False


def _skip_hole(reader: _Reader) -> bool:
    """Skip an interpolation hole `{...}` whose opening brace was just read."""
    depth = 1
    while not reader.at_end():
        char = reader.peek()
        if _starts_literal(reader):
            if not _skip_literal(reader):
                return False
            continue
        reader.next()
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return True
    return False


def scan_expressions(text: str, *, xml: bool = False) -> list[Span]:
    """Every expression in `text`, in order. In XML mode comments and CDATA are skipped."""
    decoded, origins = _decode_with_origins(text) if xml else (text, None)
    skipped = _markup_regions(text) if xml else []
    spans: list[Span] = []
    pos = 0
    while True:
        pos = decoded.find("@", pos)
        if pos < 0:
            return spans
        source_pos = origins[pos] if origins is not None else pos
        region = _region_at(skipped, source_pos)
        if region is not None:
            pos = _first_at_or_after(origins, region) if origins is not None else region
            continue
        if is_expression_start(decoded, pos):
            end = find_expression_end(decoded, pos)
            source_end = None if end is None else (origins[end] if origins is not None else end)
            spans.append(Span(source_pos, source_end))
            if end is None:
                return spans
            pos = end
        else:
            pos += 1


def _markup_regions(text: str) -> list[tuple[int, int]]:
    """(start, end) of every XML comment and CDATA section, in order."""
    return [(m.start(), m.end()) for m in _MARKUP_REGION.finditer(text)]


def _region_at(regions: list[tuple[int, int]], at: int) -> int | None:
    """The end of the region containing `at`, if any."""
    index = bisect_right(regions, (at, 1 << 62)) - 1
    if index >= 0 and regions[index][0] <= at < regions[index][1]:
        return regions[index][1]
    return None


def _first_at_or_after(origins: list[int], source_offset: int) -> int:
    return bisect_left(origins, source_offset)


def is_whole_expression(text: str) -> bool:
    """True when `text`, stripped, is exactly one expression (no literal text around it)."""
    stripped = text.strip()
    if not is_expression_start(stripped, 0):
        return False
    return find_expression_end(stripped, 0) == len(stripped)
