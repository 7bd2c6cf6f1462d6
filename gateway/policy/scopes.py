"""Merge scopes into one effective document, APIM's way.

Scopes nest global -> product -> API -> operation. In each section the narrower scope's
`<base/>` is replaced by the effective content of the same section one scope out; a section
without `<base/>` replaces everything broader. A scope that has no file, or a file without
that section, inherits the section unchanged. With no global file at all, the global scope is
APIM's default: `<backend><forward-request/></backend>`.

`<include-fragment>` is replaced by the fragment's statements wherever it stands (also inside
`<choose>` and `<retry>`), so an effective document holds statements only. Nodes are shared,
never copied, unless a fragment changes their children, or they are a fragment's statements:
each include puts in its own shallow copies, which know where they were included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from gateway.common.diagnostics import Location
from gateway.policy.spec import Section
from gateway.policy.tree import Node

SECTIONS = tuple(s.value for s in Section)
DEFAULT_GLOBAL_PATH = "<built-in default global policy>"


def default_global() -> Node:
    where = Location(DEFAULT_GLOBAL_PATH, 1, 1)
    backend = Node("backend", where, children=[Node("forward-request", where)])
    sections = [Node(s, where) for s in SECTIONS]
    sections[1] = backend
    return Node("policies", where, children=sections)


def merge(chain: Sequence[Node | None]) -> Node:
    """The effective `<policies>` for documents ordered from broadest to narrowest.

    `chain[0]` is the global document (None: APIM's default). Later entries may be None when a
    scope has no policy file.
    """
    broadest = chain[0] if chain and chain[0] is not None else default_global()
    content: dict[str, list[Node]] = {s: _section_body(broadest, s, []) for s in SECTIONS}
    for document in chain[1:]:
        if document is None:
            continue
        for section in SECTIONS:
            content[section] = _section_body(document, section, content[section])
    where = broadest.location
    return Node(
        "policies",
        where,
        children=[
            Node(s, _section_location(chain, s) or where, children=content[s]) for s in SECTIONS
        ],
    )


def _section_body(document: Node, section: str, outer: list[Node]) -> list[Node]:
    element = document.child(section)
    if element is None:
        return outer
    body: list[Node] = []
    based = False
    for statement in element.children:
        if statement.tag == "base":
            if not based:  # a repeated <base/> is a lint error; run the outer content once
                body.extend(outer)
                based = True
            continue
        body.append(statement)
    return body


def _section_location(chain: Sequence[Node | None], section: str) -> Location | None:
    for document in reversed(chain):
        if document is not None and document.child(section) is not None:
            found = document.child(section)
            return found.location if found else None
    return None


def inline_fragments(
    root: Node, fragments: Mapping[str, Node], included: dict[int, list[Node]] | None = None
) -> Node:
    """`root` with every `<include-fragment>` replaced by the fragment's statements.

    The statements put in are copies with `included_at` set to the include: the scope of the
    document there is theirs (LastError.Scope). `included` keeps each include's copies across
    calls, so that every effective document with that include shares them (and the compiler
    compiles them once). Unknown fragment ids are left in place for the reference checks to
    report; a fragment is not expanded inside itself or another fragment (APIM forbids nesting).
    """
    children = _inline(root.children, fragments, {} if included is None else included)
    return root if children is root.children else replace(root, children=children)


def _inline(
    nodes: list[Node], fragments: Mapping[str, Node], included: dict[int, list[Node]]
) -> list[Node]:
    result: list[Node] = []
    changed = False
    for node in nodes:
        if node.tag == "include-fragment":
            fragment_id = node.attr_text("fragment-id")
            fragment = fragments.get(fragment_id or "")
            if fragment is not None:
                if id(node) not in included:
                    included[id(node)] = [
                        replace(statement, included_at=node.location)
                        for statement in fragment.children
                    ]
                result.extend(included[id(node)])
                changed = True
                continue
        inlined = inline_fragments(node, fragments, included) if node.children else node
        changed = changed or inlined is not node
        result.append(inlined)
    return result if changed else nodes
