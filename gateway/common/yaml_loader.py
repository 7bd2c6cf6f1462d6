"""The YAML loader every reader of YAML uses (gateway.yaml, policy YAML, OpenAPI documents).

Aliases are bounded. Composing a document makes an alias the same node as its anchor, so
parsing stays cheap; a reader that walks the tree, though, walks an aliased node once per
reference, and nested aliases multiply: an 816-byte "billion laughs" file walks to some 10^9
nodes (50 s and 2.2 GB before this guard). `compose` counts, once per distinct node, how many
nodes the tree has once aliases are expanded, and refuses a document whose aliases add more
than `MAX_ALIASED_NODES` (or refer to themselves), at the node that goes over, saying how to
fix it. Anchors for repeated parts (a gateway.yaml's backends sharing settings) stay far below.
"""

from __future__ import annotations

import yaml

# libyaml's parser when PyYAML was built with it (10x faster); both keep line and column.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Nodes that aliases may add to a document beyond those written in it.
MAX_ALIASED_NODES = 100_000


class AliasesTooLarge(yaml.MarkedYAMLError):
    """A document whose aliases expand beyond the bound, or refer to themselves."""


def compose(text: str) -> yaml.Node | None:
    """`text`'s node tree; yaml.YAMLError (with a mark) when it cannot be read or its aliases
    expand too far."""
    root = yaml.compose(text, Loader=LOADER)
    if root is not None:
        check_aliases(root)
    return root


def safe_load(text: str) -> object:
    """`yaml.safe_load`, with aliases bounded as `compose` bounds them."""
    loader = LOADER(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        check_aliases(root)
        return loader.construct_document(root)
    finally:
        loader.dispose()


def check_aliases(root: yaml.Node) -> None:
    """AliasesTooLarge when the expanded tree under `root` has more than MAX_ALIASED_NODES
    nodes beyond its distinct ones, or a node contains itself."""
    sizes: dict[int, int] = {}  # distinct node -> its expanded size
    limit = MAX_ALIASED_NODES + _distinct(root)
    # Post-order without recursion (a deep document must not exhaust the stack): a node is
    # sized once all its children are.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    open_nodes: set[int] = set()
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if not children_done:
            if key in open_nodes:
                raise _refused(node, "an alias refers to a node that contains it")
            open_nodes.add(key)
            stack.append((node, True))
            for child in children:
                if id(child) in open_nodes:
                    raise _refused(child, "an alias refers to a node that contains it")
                if id(child) not in sizes:
                    stack.append((child, False))
            continue
        open_nodes.discard(key)
        size = 1 + sum(sizes[id(child)] for child in children)
        if size > limit:
            raise _refused(
                node,
                f"its aliases expand this node to more than {MAX_ALIASED_NODES} nodes (a "
                "'billion laughs'); write the repeated part out, or nest fewer aliases",
            )
        sizes[key] = size


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _distinct(root: yaml.Node) -> int:
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(_children(node))
    return len(seen)


def _refused(node: yaml.Node, problem: str) -> AliasesTooLarge:
    return AliasesTooLarge(problem=problem, problem_mark=node.start_mark)
