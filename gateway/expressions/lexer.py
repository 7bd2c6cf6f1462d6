"""Tokens of the C# subset that policy expressions are written in."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from gateway.expressions.values import Long


class T(Enum):
    IDENT = "identifier"
    KEYWORD = "keyword"
    INT = "integer"
    REAL = "number"
    STRING = "string"
    INTERPOLATED = "interpolated string"
    CHAR = "char"
    OP = "operator"
    EOF = "end of expression"


KEYWORDS = frozenset(
    """as break case catch char continue decimal default do double else false finally float for
    foreach if in is long new null object out ref return string switch this throw true try
    typeof var while bool byte int short uint ulong void""".split()
)

# Longest first, so that `??=` wins over `??` and `?`.
OPERATORS = sorted(
    """?? ??= ?. ?[ => == != <= >= && || ++ -- += -= *= /= %= &= |= ^= << + - * / % ! ~ < > = ?
    : ; , . ( ) [ ] { } & | ^""".split(),
    key=len,
    reverse=True,
)


class LexError(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Token:
    kind: T
    text: str
    offset: int
    value: object = None
    # For interpolated strings: literal parts and (source, offset) of each hole, alternating.
    parts: tuple[object, ...] = field(default=())

    def is_op(self, *ops: str) -> bool:
        return self.kind is T.OP and self.text in ops

    def is_keyword(self, *words: str) -> bool:
        return self.kind is T.KEYWORD and self.text in words


_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "0": "\0",
    "\\": "\\",
    '"': '"',
    "'": "'",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
}


class Lexer:
    def __init__(self, source: str, base: int = 0) -> None:
        self.source = source
        self.pos = 0
        self.base = base  # offset of `source` inside the whole expression, for messages

    def error(self, message: str, at: int | None = None) -> LexError:
        return LexError(message, self.base + (self.pos if at is None else at))

    def tokens(self) -> list[Token]:
        result = []
        while True:
            token = self.next()
            result.append(token)
            if token.kind is T.EOF:
                return result

    def next(self) -> Token:
        self._skip_space()
        src, start = self.source, self.pos
        if start >= len(src):
            return Token(T.EOF, "", self.base + start)
        char = src[start]
        if char == "$" or (char == "@" and src.startswith(('@$"', '@"'), start)):
            return self._string_like()
        if char == '"':
            return self._string(start, verbatim=False)
        if char == "'":
            return self._char()
        if char.isdigit() or (char == "." and src[start + 1 : start + 2].isdigit()):
            return self._number()
        if char.isalpha() or char == "_" or (char == "@" and src[start + 1 : start + 2].isalpha()):
            return self._word()
        for op in OPERATORS:
            if src.startswith(op, start):
                self.pos += len(op)
                return Token(T.OP, op, self.base + start)
        raise self.error(f"unexpected character '{char}'")

    def _skip_space(self) -> None:
        src = self.source
        while self.pos < len(src):
            if src[self.pos].isspace():
                self.pos += 1
            elif src.startswith("//", self.pos):
                end = src.find("\n", self.pos)
                self.pos = len(src) if end < 0 else end + 1
            elif src.startswith("/*", self.pos):
                end = src.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("this comment never ends; close it with */")
                self.pos = end + 2
            else:
                return

    def _word(self) -> Token:
        start = self.pos
        if self.source[start] == "@":
            self.pos += 1
        while self.pos < len(self.source) and (
            self.source[self.pos].isalnum() or self.source[self.pos] == "_"
        ):
            self.pos += 1
        text = self.source[start : self.pos]
        if text.startswith("@"):
            return Token(T.IDENT, text[1:], self.base + start)
        return Token(T.KEYWORD if text in KEYWORDS else T.IDENT, text, self.base + start)

    def _number(self) -> Token:
        src, start = self.source, self.pos
        if src.startswith(("0x", "0X"), start):
            self.pos += 2
            while self.pos < len(src) and (src[self.pos] in "0123456789abcdefABCDEF_"):
                self.pos += 1
            digits = src[start + 2 : self.pos].replace("_", "")
            if not digits:
                raise self.error("'0x' needs hex digits after it", start)
            value = int(digits, 16)
            self._suffix("ulUL")
            return Token(T.INT, src[start : self.pos], self.base + start, value)
        while self.pos < len(src) and (src[self.pos].isdigit() or src[self.pos] == "_"):
            self.pos += 1
        real = False
        if src[self.pos : self.pos + 1] == "." and src[self.pos + 1 : self.pos + 2].isdigit():
            real = True
            self.pos += 1
            while self.pos < len(src) and src[self.pos].isdigit():
                self.pos += 1
        if src[self.pos : self.pos + 1] in ("e", "E"):
            real = True
            self.pos += 1
            if src[self.pos : self.pos + 1] in ("+", "-"):
                self.pos += 1
            while self.pos < len(src) and src[self.pos].isdigit():
                self.pos += 1
        digits = src[start : self.pos].replace("_", "")
        suffix = self._suffix("dDfFmMlLuU")
        text = src[start : self.pos]
        if real or suffix in ("d", "f", "m"):
            try:
                number = float(digits)
            except ValueError:
                raise self.error(f"'{text}' is not a number", start) from None
            return Token(T.REAL, text, self.base + start, number)
        value = Long(digits) if "l" in suffix else int(digits)
        return Token(T.INT, text, self.base + start, value)

    def _suffix(self, allowed: str) -> str:
        suffix = ""
        while self.pos < len(self.source) and self.source[self.pos] in allowed:
            suffix += self.source[self.pos].lower()
            self.pos += 1
        return suffix

    def _char(self) -> Token:
        start = self.pos
        self.pos += 1
        if self.source[self.pos : self.pos + 1] == "\\":
            value = self._escape()
        elif self.pos < len(self.source):
            value = self.source[self.pos]
            self.pos += 1
        else:
            raise self.error("this char literal never ends", start)
        if self.source[self.pos : self.pos + 1] != "'":
            raise self.error('a char literal holds one character; use "..." for a string', start)
        self.pos += 1
        return Token(T.CHAR, self.source[start : self.pos], self.base + start, value)

    def _escape(self) -> str:
        self.pos += 1  # the backslash
        char = self.source[self.pos : self.pos + 1]
        if char == "u":
            code = self.source[self.pos + 1 : self.pos + 5]
            self.pos += 5
            try:
                return chr(int(code, 16))
            except ValueError:
                raise self.error(f"'\\u{code}' is not a valid escape") from None
        if char in _ESCAPES:
            self.pos += 1
            return _ESCAPES[char]
        raise self.error(f"'\\{char}' is not a valid escape; write '\\\\' for a backslash")

    def _string(self, start: int, *, verbatim: bool) -> Token:
        src = self.source
        self.pos = start + (2 if verbatim else 1)
        chars: list[str] = []
        while self.pos < len(src):
            char = src[self.pos]
            if char == '"':
                if verbatim and src[self.pos + 1 : self.pos + 2] == '"':
                    chars.append('"')
                    self.pos += 2
                    continue
                self.pos += 1
                return Token(T.STRING, src[start : self.pos], self.base + start, "".join(chars))
            if char == "\\" and not verbatim:
                chars.append(self._escape())
                continue
            if char == "\n" and not verbatim:
                break
            chars.append(char)
            self.pos += 1
        raise self.error('this string never ends; close it with "', start)

    def _string_like(self) -> Token:
        src, start = self.source, self.pos
        prefix = ""
        while src[self.pos : self.pos + 1] in ("$", "@") and len(prefix) < 2:  # may end the text
            prefix += src[self.pos]
            self.pos += 1
        if src[self.pos : self.pos + 1] != '"':
            raise self.error(f"unexpected '{prefix}'", start)
        if "$" not in prefix:
            return self._string(start, verbatim=True)
        return self._interpolated(start, verbatim="@" in prefix)

    def _interpolated(self, start: int, *, verbatim: bool) -> Token:
        src = self.source
        self.pos += 1  # the opening quote
        parts: list[object] = []
        literal: list[str] = []
        while self.pos < len(src):
            char = src[self.pos]
            if char == '"':
                if verbatim and src[self.pos + 1 : self.pos + 2] == '"':
                    literal.append('"')
                    self.pos += 2
                    continue
                self.pos += 1
                parts.append("".join(literal))
                return Token(
                    T.INTERPOLATED, src[start : self.pos], self.base + start, parts=tuple(parts)
                )
            if char == "\\" and not verbatim:
                literal.append(self._escape())
            elif char in "{}" and src[self.pos + 1 : self.pos + 2] == char:
                literal.append(char)
                self.pos += 2
            elif char == "{":
                parts.append("".join(literal))
                literal = []
                parts.append(self._hole())
            else:
                literal.append(char)
                self.pos += 1
        raise self.error('this interpolated string never ends; close it with "', start)

    def _hole(self) -> tuple[str, int, str]:
        """An interpolation hole: (expression source, its offset, format spec)."""
        src = self.source
        self.pos += 1
        begin = self.pos
        depth = 0
        while self.pos < len(src):
            char = src[self.pos]
            if char in "\"'" or (
                char in "@$" and src[self.pos + 1 : self.pos + 2] in ('"', "@", "$")
            ):
                inner = Lexer(src, self.base)
                inner.pos = self.pos
                inner.next()
                self.pos = inner.pos
                continue
            if char in "([{":
                depth += 1
            elif char in ")]" or (char == "}" and depth > 0):
                depth -= 1
            elif char == "}" or (char == ":" and depth == 0):
                expression = src[begin : self.pos]
                spec = ""
                if char == ":":
                    close = src.find("}", self.pos)
                    if close < 0:
                        break
                    spec = src[self.pos + 1 : close]
                    self.pos = close
                self.pos += 1
                return (expression, self.base + begin, spec)
            self.pos += 1
        raise self.error("this interpolation hole never closes; add }", begin - 1)
