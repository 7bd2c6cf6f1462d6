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
from dataclasses import dataclass

_ENTITIES = {"&quot;": '"', "&apos;": "'", "&lt;": "<", "&gt;": ">", "&amp;": "&"}
_ENTITY = re.compile(r"&(?:quot|apos|lt|gt|amp|#[0-9]+|#x[0-9a-fA-F]+);")
_OPENERS = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True, slots=True)
class Span:
    """`text[start:end]` is one expression; `end` is None when it never closes."""

    start: int
    end: int | None


class _Reader:
    """Reads characters of `text`, decoding XML entities when asked."""

    def __init__(self, text: str, pos: int, xml: bool) -> None:
        self.text = text
        self.pos = pos
        self.xml = xml

    def peek(self, ahead: int = 0) -> str:
        pos = self.pos
        for _ in range(ahead):
            if pos >= len(self.text):
                return ""
            pos += self._width(pos)
        if pos >= len(self.text):
            return ""
        return self._char(pos)

    def next(self) -> str:
        char = self._char(self.pos)
        self.pos += self._width(self.pos)
        return char

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def _char(self, pos: int) -> str:
        if self.xml and self.text[pos] == "&":
            match = _ENTITY.match(self.text, pos)
            if match:
                return decode_entity(match.group())
        return self.text[pos]

    def _width(self, pos: int) -> int:
        if self.xml and self.text[pos] == "&":
            match = _ENTITY.match(self.text, pos)
            if match:
                return match.end() - pos
        return 1


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


def find_expression_end(text: str, start: int, *, xml: bool = False) -> int | None:
    """The end (exclusive) of the expression starting at `text[start] == '@'`, or None."""
    reader = _Reader(text, start + 1, xml)
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
    spans: list[Span] = []
    pos = 0
    while True:
        pos = text.find("@", pos)
        if pos < 0:
            return spans
        if xml:
            skipped = _skip_markup_declaration(text, pos)
            if skipped is not None:
                pos = skipped
                continue
        if is_expression_start(text, pos):
            end = find_expression_end(text, pos, xml=xml)
            spans.append(Span(pos, end))
            if end is None:
                return spans
            pos = end
        else:
            pos += 1


def _skip_markup_declaration(text: str, at: int) -> int | None:
    """If `at` lies inside an XML comment or CDATA section, the position after it."""
    for opener, closer in (("<!--", "-->"), ("<![CDATA[", "]]>")):
        begin = text.rfind(opener, 0, at)
        if begin < 0:
            continue
        close = text.find(closer, begin + len(opener))
        if close < 0 or close + len(closer) > at:
            return len(text) if close < 0 else close + len(closer)
    return None


def is_whole_expression(text: str) -> bool:
    """True when `text`, stripped, is exactly one expression (no literal text around it)."""
    stripped = text.strip()
    if not is_expression_start(stripped, 0):
        return False
    return find_expression_end(stripped, 0) == len(stripped)
