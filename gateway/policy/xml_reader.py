"""Read policy XML, as APIM writes it, into the policy tree.

APIM policy XML is often not well-formed: expressions are written raw inside attributes and
text. So reading happens in three passes over the text:

1. find every expression (`gateway.expressions.scan`) and protect it: its characters are
   replaced by private-use characters of the same count (newlines kept), so the text becomes
   well-formed and every other character keeps its line and column;
2. parse with lxml, hardened: no DTD, no entity expansion, no network;
3. walk lxml's elements together with our own scan of the start tags (lxml knows lines but
   not columns, and nothing about attribute positions), restoring each protected expression.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

from lxml import etree

from gateway.common.diagnostics import Location, Report
from gateway.expressions.scan import Span, decode_entity, is_whole_expression, scan_expressions
from gateway.policy.tree import Attribute, Document, Node, Value

# Private-use ranges: the first character of protected expression i is the range's first
# plus i, every further character its last. The marks come from the first range the text does
# not use itself, so that no character of the author's is taken for a mark.
_MARK_RANGES = ((0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD))
_ENTITY = re.compile(r"&(?:quot|apos|lt|gt|amp|#[0-9]+|#x[0-9a-fA-F]+);")

_MARKUP = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>|<!DOCTYPE[^>]*>"
    r"|</(?P<end>[^\s>]+)\s*>"
    r"""|<(?P<start>[^\s/>!?]+)(?P<attrs>(?:[^>"']|"[^"]*"|'[^']*')*?)(?P<empty>/?)>""",
    re.DOTALL,
)
_ATTRIBUTE = re.compile(r"""([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


@dataclass
class _Tag:
    name: str
    offset: int
    attributes: list[tuple[str, int, int]]  # name, name offset, value offset
    inner_start: int
    inner_end: int | None = None
    children: list[_Tag] = field(default_factory=list)


class _Source:
    """The original text, its protected twin, and offset -> line/column conversion."""

    def __init__(self, path: str, text: str, spans: list[Span]) -> None:
        self.path = path
        self.text = text
        self.spans = spans
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        unused = (r for r in _MARK_RANGES if not re.search(f"[{chr(r[0])}-{chr(r[1])}]", text))
        self._base, last_mark = next(unused, _MARK_RANGES[0])
        fill = chr(last_mark)
        self._mark_run = re.compile(f"([{chr(self._base)}-{chr(last_mark - 1)}])[{fill}\\s]*")
        pieces: list[str] = []
        last = 0
        for index, span in enumerate(spans):
            assert span.end is not None
            pieces.append(text[last : span.start])
            body = text[span.start + 1 : span.end]
            mark = chr(self._base + index) if self._base + index < last_mark else fill
            pieces.append(mark + re.sub(r"[^\n]", fill, body))
            last = span.end
        pieces.append(text[last:])
        self.protected = "".join(pieces)

    def location(self, offset: int) -> Location:
        line = bisect_right(self._line_starts, offset)
        return Location(self.path, line, offset - self._line_starts[line - 1] + 1)

    def restore(self, value: str, offset: int | None) -> Value:
        """Turn a value read by lxml back into the author's text.

        `offset` is where the value starts in the source, when known. A value that is exactly
        one protected expression becomes an expression Value holding the decoded source.
        """
        location = self.location(offset) if offset is not None else Location(self.path)
        marks = list(self._mark_run.finditer(value))
        if not marks:
            # Text in CDATA needed no protection, yet may be a whole expression.
            if is_whole_expression(value):
                return Value(value.strip(), location, is_expression=True)
            return Value(value, location)
        span = self._span(marks[0].group(1))
        if len(marks) == 1 and marks[0].group() == value.strip() and value.strip() and span:
            source = _decode(self.text[span.start : span.end])
            return Value(source, self.location(span.start), is_expression=True)
        restored = self._mark_run.sub(self._restored, value)
        return Value(restored, location)

    def _span(self, mark: str) -> Span | None:
        """The protected expression `mark` stands for; None for the author's own character
        (only when the text uses every range the marks may come from)."""
        index = ord(mark) - self._base
        return self.spans[index] if index < len(self.spans) else None

    def _restored(self, run: re.Match[str]) -> str:
        span = self._span(run.group(1))
        if span is None:
            return run.group()
        trailing = run.group()[len(run.group().rstrip()) :]
        return _decode(self.text[span.start : span.end]) + trailing


def _decode(text: str) -> str:
    return _ENTITY.sub(lambda m: decode_entity(m.group()), text)


def read_xml(
    text: str, path: str, report: Report, *, raw_markup_tags: frozenset[str] = frozenset()
) -> Document | None:
    """Parse policy XML. Problems go to `report`; returns None when nothing usable was read.

    Elements named in `raw_markup_tags` (such as `set-body`) keep literal child markup as
    their text: `<set-body><Envelope>...</Envelope></set-body>` is a body, not policy.
    """
    text = text.removeprefix("\ufeff")
    spans = scan_expressions(text, xml=True)
    for span in spans:
        if span.end is None:
            start = _Source(path, text, []).location(span.start)
            report.error(
                start,
                "expression-unterminated",
                "this expression never closes: check that its brackets balance and that its "
                "string and char literals are closed",
            )
            return None
    source = _Source(path, text, spans)
    if re.search(r"<!DOCTYPE", source.protected):
        offset = source.protected.index("<!DOCTYPE")
        report.error(
            source.location(offset),
            "xml-doctype",
            "DOCTYPE declarations are not allowed in policy files; remove it",
        )
        return None
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
        huge_tree=False,
    )
    try:
        root = etree.fromstring(source.protected.encode("utf-8"), parser)
    except etree.XMLSyntaxError as error:
        _report_syntax(error, parser, path, report, source.protected)
        return None
    tags = _scan_tags(source.protected)
    if tags is None:
        report.error(Location(path), "xml-syntax", "could not locate elements in this file")
        return None
    node = _build(root, tags, source, raw_markup_tags, report)
    return Document(path, node)


def _second_occurrence(text: str, path: str, line: int, column: int, name: str) -> Location | None:
    """Where the start tag that lxml complains about gives `name` for the second time."""
    lines = text.split("\n")
    offset = sum(len(lines[i]) + 1 for i in range(min(line - 1, len(lines)))) + column - 1
    tag_start = text.rfind("<", 0, offset)
    pattern = re.compile(rf"(?<![\w:-]){re.escape(name)}\s*=")
    matches = list(pattern.finditer(text, max(tag_start, 0), offset + 1))
    if len(matches) < 2:
        return None
    at = matches[1].start()
    line_start = text.rfind("\n", 0, at) + 1
    return Location(path, text.count("\n", 0, at) + 1, at - line_start + 1)


def _report_syntax(
    error: etree.XMLSyntaxError, parser: etree.XMLParser, path: str, report: Report, text: str
) -> None:
    entries = [e for e in parser.error_log if e.level_name in ("ERROR", "FATAL")]
    if not entries:
        line, column = error.position
        report.error(Location(path, line, max(column, 1)), "xml-syntax", str(error.msg))
        return
    first = entries[0]
    message = first.message.strip()
    where = Location(path, first.line, max(first.column, 1))
    redefined = re.match(r"Attribute (\S+) redefined", message)
    if redefined:
        where = (
            _second_occurrence(text, path, first.line, first.column, redefined.group(1)) or where
        )
        report.error(
            where,
            "duplicate-attribute",
            f"the attribute '{redefined.group(1)}' is given twice on one element; keep one",
        )
        return
    report.error(where, "xml-syntax", f"{message}{_syntax_hint(message)}")


def _syntax_hint(message: str) -> str:
    if "mismatch" in message:
        return "; close elements in the reverse order they were opened"
    if "xmlParseEntityRef" in message or "EntityRef" in message:
        return "; write a literal '&' as '&amp;' outside expressions"
    if "StartTag: invalid element name" in message:
        return "; write a literal '<' as '&lt;' outside expressions"
    if "Premature end of data" in message or "EndTag" in message:
        return "; an element is not closed"
    return ""


def _scan_tags(protected: str) -> list[_Tag] | None:
    """Start tags in document order, each with its attribute offsets and inner extent."""
    ordered: list[_Tag] = []
    stack: list[_Tag] = []
    for match in _MARKUP.finditer(protected):
        if match.group("start"):
            attrs_text = match.group("attrs")
            base = match.start("attrs")
            attributes = [
                (a.group(1), base + a.start(1), base + a.start(a.lastindex or 2))
                for a in _ATTRIBUTE.finditer(attrs_text)
            ]
            tag = _Tag(match.group("start"), match.start(), attributes, match.end())
            ordered.append(tag)
            if match.group("empty"):
                continue
            stack.append(tag)
        elif match.group("end"):
            if not stack:
                return None
            stack.pop().inner_end = match.start()
    return ordered


def _build(
    element: etree._Element,
    tags: list[_Tag],
    source: _Source,
    raw_markup_tags: frozenset[str],
    report: Report,
) -> Node:
    iterator = iter(tags)

    def build(el: etree._Element) -> Node:
        tag = next(iterator)
        node = Node(str(el.tag), source.location(tag.offset))
        offsets = {name: (name_at, value_at) for name, name_at, value_at in tag.attributes}
        for name, raw in el.attrib.items():
            name_at, value_at = offsets.get(str(name), (tag.offset, None))
            node.attributes[str(name)] = Attribute(
                str(name), source.restore(str(raw), value_at), source.location(name_at)
            )
        elements = [child for child in el if isinstance(child.tag, str)]
        if node.tag in raw_markup_tags and elements and tag.inner_end is not None:
            for _ in el.iterdescendants():
                next(iterator)
            inner = source.text[tag.inner_start : tag.inner_end].strip()
            node.text = Value(inner, source.location(tag.inner_start))
            return node
        text_parts = [(el.text or "", tag.inner_start)]
        for child in elements:
            node.children.append(build(child))
            text_parts.append((child.tail or "", None))
        _set_text(node, text_parts, source)
        return node

    return build(element)


def _set_text(node: Node, parts: list[tuple[str, int | None]], source: _Source) -> None:
    meaningful = [(text, at) for text, at in parts if text.strip()]
    if not meaningful:
        return
    joined = "".join(text for text, _ in meaningful).strip()
    first_text, first_at = meaningful[0]
    offset = None
    if first_at is not None:
        offset = first_at + (len(first_text) - len(first_text.lstrip()))
    node.text = source.restore(joined, offset)
