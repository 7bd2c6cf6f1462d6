"""Scope merging with <base/>, exactly as APIM defines it, and fragment inclusion."""

from __future__ import annotations

from gateway.common.diagnostics import Report
from gateway.policy.scopes import DEFAULT_GLOBAL_PATH, inline_fragments, merge
from gateway.policy.tree import Node
from gateway.policy.xml_reader import read_xml


def doc(text: str, path: str = "p.xml") -> Node:
    document = read_xml(text, path, Report())
    assert document is not None
    return document.root


def section(root: Node, name: str) -> list[str]:
    found = root.child(name)
    assert found is not None
    return [
        node.attr_text("name") or node.attr_text("fragment-id") or node.tag
        for node in found.children
    ]


def variables(*names: str) -> str:
    return "".join(f'<set-variable name="{n}" value="1" />' for n in names)


GLOBAL = doc(
    f"<policies><inbound>{variables('g1')}</inbound><backend><forward-request /></backend>"
    f"<outbound>{variables('g-out')}</outbound><on-error>{variables('g-err')}</on-error></policies>",
    "global.xml",
)
PRODUCT = doc(f"<policies><inbound><base />{variables('p1')}</inbound></policies>", "product.xml")


def test_base_marks_where_the_outer_scope_runs() -> None:
    api = doc(f"<policies><inbound>{variables('a1')}<base />{variables('a2')}</inbound></policies>")
    merged = merge([GLOBAL, PRODUCT, api, None])
    assert section(merged, "inbound") == ["a1", "g1", "p1", "a2"]


def test_section_without_base_replaces_the_outer_scopes() -> None:
    api = doc(f"<policies><inbound>{variables('a1')}</inbound><backend /></policies>")
    merged = merge([GLOBAL, PRODUCT, api, None])
    assert section(merged, "inbound") == ["a1"]
    assert section(merged, "backend") == []  # no base, no forward-request: never called


def test_missing_section_or_missing_file_inherits_unchanged() -> None:
    api = doc(f"<policies><inbound><base />{variables('a1')}</inbound></policies>")
    merged = merge([GLOBAL, None, api, None])
    assert section(merged, "outbound") == ["g-out"]
    assert section(merged, "on-error") == ["g-err"]
    assert section(merged, "backend") == ["forward-request"]


def test_operation_scope_is_innermost() -> None:
    api = doc(f"<policies><inbound><base />{variables('a1')}</inbound></policies>")
    operation = doc(f"<policies><inbound>{variables('o1')}<base /></inbound></policies>")
    merged = merge([GLOBAL, PRODUCT, api, operation])
    assert section(merged, "inbound") == ["o1", "g1", "p1", "a1"]


def test_inner_scope_omitting_base_drops_product_and_global_but_not_other_sections() -> None:
    operation = doc(f"<policies><outbound>{variables('o-out')}</outbound></policies>")
    merged = merge([GLOBAL, PRODUCT, None, operation])
    assert section(merged, "outbound") == ["o-out"]
    assert section(merged, "inbound") == ["g1", "p1"]


def test_no_global_file_means_apims_default_forward_request() -> None:
    merged = merge([None, None, doc("<policies><inbound><base /></inbound></policies>"), None])
    backend = merged.child("backend")
    assert backend is not None
    [forward] = backend.children
    assert forward.tag == "forward-request"
    assert forward.location.path == DEFAULT_GLOBAL_PATH


def test_base_only_expands_once_even_if_repeated() -> None:
    api = doc("<policies><inbound><base /><base /></inbound></policies>")
    assert section(merge([GLOBAL, None, api, None]), "inbound") == ["g1"]


def test_fragments_are_inlined_where_included_also_inside_choose() -> None:
    fragment = doc(f"<fragment>{variables('f1', 'f2')}</fragment>", "fragments/f.xml")
    api = doc(
        '<policies><inbound><include-fragment fragment-id="f" /><choose><when condition="@(true)">'
        '<include-fragment fragment-id="f" /></when></choose>'
        '<include-fragment fragment-id="missing" /></inbound></policies>'
    )
    merged = inline_fragments(merge([None, None, api, None]), {"f": fragment})
    assert section(merged, "inbound") == ["f1", "f2", "choose", "missing"]
    inbound = merged.child("inbound")
    assert inbound is not None
    when = inbound.children[2].children[0]
    assert [c.attr_text("name") for c in when.children] == ["f1", "f2"]
    # origins are kept: explain shows the fragment's file and line
    assert inbound.children[0].location.path == "fragments/f.xml"
    # the source documents are not modified
    assert api.children[0].children[0].tag == "include-fragment"
