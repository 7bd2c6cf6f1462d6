"""The syntax tree of a policy expression. Every node knows its offset in the source."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TypeRef:
    """A type as written: `string`, `JObject`, `Dictionary<string, object>`, `int[]`."""

    name: str
    args: tuple[TypeRef, ...] = ()
    array: int = 0
    nullable: bool = False

    def __str__(self) -> str:
        text = self.name + (f"<{', '.join(map(str, self.args))}>" if self.args else "")
        return text + ("?" if self.nullable else "") + "[]" * self.array


@dataclass(frozen=True, slots=True)
class Node:
    offset: int


# -- expressions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: object


@dataclass(frozen=True, slots=True)
class Interpolated(Node):
    parts: tuple[object, ...]  # str literals and (Expr, format spec) holes, in order


@dataclass(frozen=True, slots=True)
class Name(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Member(Node):
    target: Node
    name: str
    null_conditional: bool = False
    type_args: tuple[TypeRef, ...] = ()


@dataclass(frozen=True, slots=True)
class Argument:
    value: Node
    name: str | None = None  # named argument: `preserveContent: true`
    out: bool = False  # `out x`, `out var x`, `out int x`
    declares: str | None = None  # the variable an `out var x` declares


@dataclass(frozen=True, slots=True)
class Call(Node):
    target: Node  # Member or Name
    args: tuple[Argument, ...]


@dataclass(frozen=True, slots=True)
class Index(Node):
    target: Node
    args: tuple[Node, ...]
    null_conditional: bool = False


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(frozen=True, slots=True)
class Step(Node):
    """`x++`, `++x`, `x--`, `--x`."""

    op: str
    target: Node
    prefix: bool


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True, slots=True)
class Cast(Node):
    type: TypeRef
    operand: Node


@dataclass(frozen=True, slots=True)
class TypeTest(Node):
    """`x is T`, `x is T name`, `x as T`."""

    op: str
    operand: Node
    type: TypeRef
    declares: str | None = None


@dataclass(frozen=True, slots=True)
class Assign(Node):
    op: str  # "=", "+=", ...
    target: Node
    value: Node


@dataclass(frozen=True, slots=True)
class Lambda(Node):
    params: tuple[str, ...]
    body: Node  # an expression or a Block


@dataclass(frozen=True, slots=True)
class New(Node):
    type: TypeRef | None  # None: `new[] {...}` or an anonymous object
    args: tuple[Argument, ...] = ()
    # Collection initializer items, or (key, value) pairs for `{ ["k"] = v }` / `{ k = v }`.
    items: tuple[Node, ...] = ()
    entries: tuple[tuple[Node | str, Node], ...] = ()
    array_size: Node | None = None


@dataclass(frozen=True, slots=True)
class TypeOf(Node):
    type: TypeRef


@dataclass(frozen=True, slots=True)
class Default(Node):
    type: TypeRef | None


# -- statements -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Block(Node):
    statements: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Declare(Node):
    type: TypeRef | None  # None: `var`
    names: tuple[tuple[str, Node | None], ...]


@dataclass(frozen=True, slots=True)
class LocalFunction(Node):
    """`int Twice(int x) { return x * 2; }` declared inside a block."""

    name: str
    params: tuple[str, ...]
    body: Block


@dataclass(frozen=True, slots=True)
class ExprStatement(Node):
    expression: Node


@dataclass(frozen=True, slots=True)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node | None


@dataclass(frozen=True, slots=True)
class While(Node):
    condition: Node
    body: Node
    do_while: bool = False


@dataclass(frozen=True, slots=True)
class For(Node):
    init: tuple[Node, ...]
    condition: Node | None
    update: tuple[Node, ...]
    body: Node


@dataclass(frozen=True, slots=True)
class ForEach(Node):
    name: str
    iterable: Node
    body: Node


@dataclass(frozen=True, slots=True)
class Return(Node):
    value: Node | None


@dataclass(frozen=True, slots=True)
class Jump(Node):
    kind: str  # "break" | "continue"


@dataclass(frozen=True, slots=True)
class Throw(Node):
    value: Node | None


@dataclass(frozen=True, slots=True)
class Try(Node):
    body: Block
    catch_name: str | None
    handler: Block | None
    final: Block | None = None


@dataclass(frozen=True, slots=True)
class Switch(Node):
    value: Node
    cases: tuple[tuple[tuple[Node | None, ...], tuple[Node, ...]], ...] = field(default=())


# -- walking ----------------------------------------------------------------------------------


def children(node: Node) -> Iterator[Node]:
    """The nodes directly inside `node`, in field order (arguments' values, the holes of an
    interpolated string, switch labels and statements included)."""
    for name in node.__slots__:
        yield from _nodes_in(getattr(node, name, None))


def _nodes_in(value: object) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, Argument):
        yield value.value
    elif isinstance(value, tuple):
        for item in value:
            yield from _nodes_in(item)


def walk(node: Node) -> Iterator[Node]:
    """`node` and every node under it."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))


def qualified_name(node: Node) -> str:
    """`System.Text.Encoding` for the member chain that spells it; "" for anything else."""
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Member) and not node.null_conditional:
        inner = qualified_name(node.target)
        return f"{inner}.{node.name}" if inner else ""
    return ""
