"""Parse `@(expression)` and `@{ statements }` into the syntax tree (recursive descent).

Errors carry the offset in the whole expression source, so the linter can point at the exact
line and column in the policy file.
"""

from __future__ import annotations

from collections.abc import Callable

from gateway.expressions import ast as A
from gateway.expressions.lexer import Lexer, LexError, T, Token

BUILTIN_TYPES = frozenset(
    """bool byte char decimal double float int long object short string uint ulong void""".split()
)
_ASSIGN_OPS = ("=", "+=", "-=", "*=", "/=", "%=", "??=", "&=", "|=", "^=")
_BINARY = [
    ("??",),
    ("||",),
    ("&&",),
    ("|",),
    ("^",),
    ("&",),
    ("==", "!="),
    ("<", ">", "<=", ">=", "is", "as"),
    ("<<",),
    ("+", "-"),
    ("*", "/", "%"),
]
_CAST_FOLLOWERS = (T.IDENT, T.INT, T.REAL, T.STRING, T.CHAR, T.INTERPOLATED)


class ParseError(Exception):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def parse(source: str) -> A.Node:
    """Parse a whole expression (`@(...)` or `@{...}`); returns an expression or a Block."""
    if source.startswith("@(") and source.endswith(")"):
        parser = Parser(source[2:-1], 2)
        node = parser.expression()
        parser.expect_end()
        return node
    if source.startswith("@{") and source.endswith("}"):
        parser = Parser(source[2:-1], 2)
        statements = parser.statements_until_end()
        return A.Block(0, tuple(statements))
    raise ParseError("an expression is written @( expression ) or @{ statements }", 0)


class Parser:
    def __init__(self, source: str, base: int) -> None:
        try:
            self.tokens = Lexer(source, base).tokens()
        except LexError as error:
            raise ParseError(error.message, error.offset) from None
        self.pos = 0

    # -- token helpers ------------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.pos]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind is not T.EOF:
            self.pos += 1
        return token

    def accept(self, *ops: str) -> Token | None:
        if self.token.is_op(*ops) or self.token.is_keyword(*ops):
            return self.advance()
        return None

    def expect(self, op: str, what: str = "") -> Token:
        if self.token.is_op(op) or self.token.is_keyword(op):
            return self.advance()
        raise self.error(f"expected '{op}'{what}")

    def error(self, message: str, token: Token | None = None) -> ParseError:
        token = token or self.token
        found = "the end of the expression" if token.kind is T.EOF else f"'{token.text}'"
        return ParseError(f"{message}, found {found}", token.offset)

    def expect_end(self) -> None:
        if self.token.kind is not T.EOF:
            raise self.error("expected the end of the expression (a missing operator?)")

    def ident(self, what: str = "a name") -> str:
        if self.token.kind is not T.IDENT:
            raise self.error(f"expected {what}")
        return self.advance().text

    def speculate(self, attempt: Callable[[], A.TypeRef | None]) -> A.TypeRef | None:
        saved = self.pos
        try:
            result = attempt()
        except ParseError:
            result = None
        if result is None:
            self.pos = saved
        return result

    # -- types --------------------------------------------------------------------------------

    def type_ref(self) -> A.TypeRef:
        token = self.token
        if token.kind is T.KEYWORD and token.text in BUILTIN_TYPES:
            name = self.advance().text
        elif token.kind is T.IDENT:
            name = self.advance().text
            while self.token.is_op(".") and self.peek().kind is T.IDENT:
                self.advance()
                name += "." + self.advance().text
        else:
            raise self.error("expected a type")
        args: tuple[A.TypeRef, ...] = ()
        if self.token.is_op("<"):
            self.advance()
            found = [self.type_ref()]
            while self.accept(","):
                found.append(self.type_ref())
            self.expect(">")
            args = tuple(found)
        nullable = bool(self.accept("?"))
        array = 0
        while self.token.is_op("[") and self.peek().is_op("]"):
            self.advance()
            self.advance()
            array += 1
        return A.TypeRef(name, args, array, nullable)

    def type_args_before_call(self) -> tuple[A.TypeRef, ...] | None:
        """`<T, U>` right before `(`: a generic method call, not a comparison."""
        if not self.token.is_op("<"):
            return None

        def attempt() -> A.TypeRef | None:
            self.advance()
            found = [self.type_ref()]
            while self.accept(","):
                found.append(self.type_ref())
            if not self.token.is_op(">") or not self.peek().is_op("("):
                return None
            self.advance()
            return A.TypeRef("<args>", tuple(found))

        result = self.speculate(attempt)
        return result.args if result is not None else None

    # -- statements ---------------------------------------------------------------------------

    def statements_until_end(self) -> list[A.Node]:
        statements = []
        while self.token.kind is not T.EOF:
            statements.append(self.statement())
        return statements

    def block(self) -> A.Block:
        start = self.expect("{")
        statements = []
        while not self.token.is_op("}"):
            if self.token.kind is T.EOF:
                raise self.error("this block is not closed; add '}'", start)
            statements.append(self.statement())
        self.advance()
        return A.Block(start.offset, tuple(statements))

    def statement(self) -> A.Node:
        token = self.token
        if token.is_op("{"):
            return self.block()
        if token.is_op(";"):
            self.advance()
            return A.Block(token.offset, ())
        if token.kind is T.KEYWORD:
            handler = {
                "if": self.if_statement,
                "return": self.return_statement,
                "foreach": self.foreach_statement,
                "for": self.for_statement,
                "while": self.while_statement,
                "do": self.do_statement,
                "try": self.try_statement,
                "throw": self.throw_statement,
                "break": self.jump_statement,
                "continue": self.jump_statement,
                "switch": self.switch_statement,
            }.get(token.text)
            if handler is not None:
                return handler()
        if (
            token.kind is T.IDENT
            and token.text in ("checked", "unchecked")
            and self.peek().is_op("{")
        ):
            self.advance()
            return self.block()
        if token.kind is T.IDENT and token.text == "using" and self.peek().is_op("("):
            return self.using_statement()
        function = self.local_function()
        if function is not None:
            return function
        declaration = self.declaration()
        if declaration is not None:
            self.expect(";", " after the declaration")
            return declaration
        expression = self.expression()
        self.expect(";", " after the statement")
        return A.ExprStatement(token.offset, expression)

    def declaration(self) -> A.Declare | None:
        start = self.token
        is_var = start.is_keyword("var") or (start.kind is T.IDENT and start.text == "var")
        if is_var and self.peek().kind is T.IDENT:
            self.advance()
            return self.declarators(start, None)

        def attempt() -> A.TypeRef | None:
            type_ref = self.type_ref()
            if self.token.kind is T.IDENT and self.peek().is_op("=", ";", ","):
                return type_ref
            return None

        if start.kind in (T.IDENT, T.KEYWORD):
            type_ref = self.speculate(attempt)
            if type_ref is not None:
                return self.declarators(start, type_ref)
        return None

    def using_statement(self) -> A.Node:
        """`using (var x = ...) statement`: disposal means nothing here; the scope does."""
        start = self.advance()
        self.expect("(")
        resource = self.declaration() or A.ExprStatement(self.token.offset, self.expression())
        self.expect(")", " to close using")
        body = self.statement()
        return A.Block(start.offset, (resource, body))

    def local_function(self) -> A.LocalFunction | None:
        start = self.token

        def attempt() -> A.TypeRef | None:
            type_ref = self.type_ref()
            if self.token.kind is T.IDENT and self.peek().is_op("("):
                return type_ref
            return None

        if start.kind not in (T.IDENT, T.KEYWORD) or self.speculate(attempt) is None:
            return None
        name = self.advance().text
        self.expect("(")
        params: list[str] = []
        while not self.accept(")"):
            self.type_ref()
            params.append(self.ident("a parameter name"))
            if not self.accept(","):
                self.expect(")", " to close the parameters")
                break
        if not self.token.is_op("{"):
            raise self.error("expected '{' to start the function body")
        return A.LocalFunction(start.offset, name, tuple(params), self.block())

    def declarators(self, start: Token, type_ref: A.TypeRef | None) -> A.Declare:
        names: list[tuple[str, A.Node | None]] = []
        while True:
            name = self.ident("a variable name")
            value = self.expression() if self.accept("=") else None
            names.append((name, value))
            if not self.accept(","):
                return A.Declare(start.offset, type_ref, tuple(names))

    def if_statement(self) -> A.Node:
        start = self.advance()
        self.expect("(", " after 'if'")
        condition = self.expression()
        self.expect(")", " to close the condition")
        then = self.statement()
        otherwise = self.statement() if self.accept("else") else None
        return A.If(start.offset, condition, then, otherwise)

    def return_statement(self) -> A.Node:
        start = self.advance()
        value = None if self.token.is_op(";") else self.expression()
        self.expect(";", " after return")
        return A.Return(start.offset, value)

    def jump_statement(self) -> A.Node:
        start = self.advance()
        self.expect(";", f" after {start.text}")
        return A.Jump(start.offset, start.text)

    def throw_statement(self) -> A.Node:
        start = self.advance()
        value = None if self.token.is_op(";") else self.expression()
        self.expect(";", " after throw")
        return A.Throw(start.offset, value)

    def foreach_statement(self) -> A.Node:
        start = self.advance()
        self.expect("(", " after 'foreach'")
        if not self.accept("var"):
            self.type_ref()
        name = self.ident("the loop variable")
        self.expect("in", " in foreach")
        iterable = self.expression()
        self.expect(")", " to close foreach")
        return A.ForEach(start.offset, name, iterable, self.statement())

    def for_statement(self) -> A.Node:
        start = self.advance()
        self.expect("(", " after 'for'")
        init: list[A.Node] = []
        if not self.token.is_op(";"):
            declaration = self.declaration()
            init = [declaration] if declaration else self.expression_list(";")
        self.expect(";", " in for")
        condition = None if self.token.is_op(";") else self.expression()
        self.expect(";", " in for")
        update = [] if self.token.is_op(")") else self.expression_list(")")
        self.expect(")", " to close for")
        return A.For(start.offset, tuple(init), condition, tuple(update), self.statement())

    def expression_list(self, end: str) -> list[A.Node]:
        found = [self.expression()]
        while self.accept(","):
            found.append(self.expression())
        return found

    def while_statement(self) -> A.Node:
        start = self.advance()
        self.expect("(", " after 'while'")
        condition = self.expression()
        self.expect(")", " to close the condition")
        return A.While(start.offset, condition, self.statement())

    def do_statement(self) -> A.Node:
        start = self.advance()
        body = self.statement()
        self.expect("while", " after the do body")
        self.expect("(")
        condition = self.expression()
        self.expect(")")
        self.expect(";")
        return A.While(start.offset, condition, body, do_while=True)

    def try_statement(self) -> A.Node:
        start = self.advance()
        body = self.block()
        catch_name = None
        handler = None
        final = None
        while self.accept("catch"):
            if self.accept("("):
                self.type_ref()
                if self.token.kind is T.IDENT:
                    catch_name = self.advance().text
                self.expect(")")
            handler = handler or self.block()
        if self.accept("finally"):
            final = self.block()
        if handler is None and final is None:
            raise self.error("try needs a catch or finally block")
        return A.Try(start.offset, body, catch_name, handler, final)

    def switch_statement(self) -> A.Node:
        start = self.advance()
        self.expect("(")
        value = self.expression()
        self.expect(")")
        self.expect("{")
        cases = []
        while not self.accept("}"):
            labels: list[A.Node | None] = []
            while self.token.is_keyword("case", "default"):
                if self.advance().text == "case":
                    labels.append(self.expression())
                else:
                    labels.append(None)
                self.expect(":")
            if not labels:
                raise self.error("expected 'case' or 'default'")
            body = []
            while not self.token.is_keyword("case", "default") and not self.token.is_op("}"):
                if self.token.kind is T.EOF:
                    raise self.error("this switch is not closed; add '}'")
                body.append(self.statement())
            cases.append((tuple(labels), tuple(body)))
        return A.Switch(start.offset, value, tuple(cases))

    # -- expressions --------------------------------------------------------------------------

    def expression(self) -> A.Node:
        lambda_node = self.try_lambda()
        if lambda_node is not None:
            return lambda_node
        target = self.conditional()
        if self.token.kind is T.OP and self.token.text in _ASSIGN_OPS:
            op = self.advance()
            if not isinstance(target, A.Name | A.Member | A.Index):
                raise ParseError("only a variable, member or indexer can be assigned", op.offset)
            return A.Assign(op.offset, op.text, target, self.expression())
        return target

    def try_lambda(self) -> A.Node | None:
        token = self.token
        if token.kind is T.IDENT and self.peek().is_op("=>"):
            self.advance()
            self.advance()
            return A.Lambda(token.offset, (token.text,), self.lambda_body())
        if token.is_op("("):
            index = self.pos + 1
            params = []
            while self.tokens[index].kind is T.IDENT:
                params.append(self.tokens[index].text)
                if not self.tokens[index + 1].is_op(","):
                    index += 1
                    break
                index += 2
            if self.tokens[index].is_op(")") and self.tokens[index + 1].is_op("=>"):
                self.pos = index + 2
                return A.Lambda(token.offset, tuple(params), self.lambda_body())
        return None

    def lambda_body(self) -> A.Node:
        return self.block() if self.token.is_op("{") else self.expression()

    def conditional(self) -> A.Node:
        condition = self.binary(0)
        if self.token.is_op("?"):
            op = self.advance()
            then = self.expression()
            self.expect(":", " in the conditional (a ? b : c)")
            return A.Conditional(op.offset, condition, then, self.expression())
        return condition

    def binary(self, level: int) -> A.Node:
        if level == len(_BINARY):
            return self.unary()
        left = self.binary(level + 1)
        ops = _BINARY[level]
        while True:
            shift = self.right_shift() if "<<" in ops else None
            if shift is not None:
                left = A.Binary(shift.offset, ">>", left, self.binary(level + 1))
                continue
            if not (self.token.kind is T.OP and self.token.text in ops) and not (
                self.token.is_keyword(*ops)
            ):
                break
            op = self.advance()
            if op.text in ("is", "as"):
                left = self.type_test(op, left)
                continue
            if op.text == "??":  # right-associative
                return A.Binary(op.offset, op.text, left, self.binary(level))
            left = A.Binary(op.offset, op.text, left, self.binary(level + 1))
        return left

    def right_shift(self) -> Token | None:
        """`>>` arrives as two `>` tokens (so that `List<List<int>>` lexes); join them here."""
        first, second = self.token, self.peek()
        if first.is_op(">") and second.is_op(">") and second.offset == first.offset + 1:
            self.advance()
            self.advance()
            return first
        return None

    def type_test(self, op: Token, operand: A.Node) -> A.Node:
        if op.text == "is" and (self.token.is_keyword("null") or self.token.is_keyword("not")):
            negate = self.token.text == "not"
            if negate:
                self.advance()
            self.expect("null")
            test = A.Binary(
                op.offset, "!=" if negate else "==", operand, A.Literal(op.offset, None)
            )
            return test
        type_ref = self.type_ref()
        declares = None
        if op.text == "is" and self.token.kind is T.IDENT:
            declares = self.advance().text
        return A.TypeTest(op.offset, op.text, operand, type_ref, declares)

    def unary(self) -> A.Node:
        token = self.token
        if token.is_op("!", "-", "+", "~"):
            self.advance()
            return A.Unary(token.offset, token.text, self.unary())
        if token.is_op("++", "--"):
            self.advance()
            return A.Step(token.offset, token.text, self.unary(), prefix=True)
        if token.is_op("("):
            cast = self.try_cast()
            if cast is not None:
                return cast
        return self.postfix(self.primary())

    def try_cast(self) -> A.Node | None:
        start = self.token

        def attempt() -> A.TypeRef | None:
            self.advance()
            type_ref = self.type_ref()
            if not self.token.is_op(")"):
                return None
            follower = self.peek()
            builtin = type_ref.name in BUILTIN_TYPES
            starts_operand = follower.kind in _CAST_FOLLOWERS or follower.is_op("(")
            starts_operand = starts_operand or follower.is_keyword(
                "new", "this", "true", "false", "null"
            )
            if builtin and (starts_operand or follower.is_op("!", "-")):
                self.advance()
                return type_ref
            if not builtin and (starts_operand or follower.is_op("!")):
                self.advance()
                return type_ref
            return None

        type_ref = self.speculate(attempt)
        if type_ref is None:
            return None
        return A.Cast(start.offset, type_ref, self.unary())

    def postfix(self, node: A.Node) -> A.Node:
        while True:
            token = self.token
            if token.is_op(".", "?."):
                self.advance()
                name = self.ident("a member name")
                type_args = self.type_args_before_call() or ()
                node = A.Member(token.offset, node, name, token.text == "?.", type_args)
            elif token.is_op("("):
                node = A.Call(token.offset, node, self.arguments())
            elif token.is_op("[", "?["):
                self.advance()
                args = [self.expression()]
                while self.accept(","):
                    args.append(self.expression())
                self.expect("]", " to close the indexer")
                node = A.Index(token.offset, node, tuple(args), token.text == "?[")
            elif token.is_op("++", "--"):
                self.advance()
                node = A.Step(token.offset, token.text, node, prefix=False)
            else:
                return node

    def arguments(self) -> tuple[A.Argument, ...]:
        self.expect("(")
        found: list[A.Argument] = []
        if self.accept(")"):
            return ()
        while True:
            found.append(self.argument())
            if self.accept(")"):
                return tuple(found)
            self.expect(",", " between arguments (or ')' to close them)")

    def argument(self) -> A.Argument:
        token = self.token
        if token.kind is T.IDENT and self.peek().is_op(":"):
            self.advance()
            self.advance()
            return A.Argument(self.expression(), name=token.text)
        if token.is_keyword("out", "ref"):
            self.advance()
            if self.token.is_keyword("var") or self.token.text == "var":
                self.advance()
                name_token = self.token
                name = self.ident("a variable name")
                return A.Argument(A.Name(name_token.offset, name), out=True, declares=name)
            saved = self.pos
            declared = self.speculate(self.type_ref)
            if declared is not None and self.token.kind is T.IDENT:
                name_token = self.token
                name = self.advance().text
                return A.Argument(A.Name(name_token.offset, name), out=True, declares=name)
            self.pos = saved
            if self.token.kind is T.IDENT:
                name_token = self.advance()
                return A.Argument(A.Name(name_token.offset, name_token.text), out=True)
            raise self.error("expected a variable after 'out'")
        return A.Argument(self.expression())

    def primary(self) -> A.Node:
        token = self.token
        kind = token.kind
        if kind in (T.INT, T.REAL, T.STRING, T.CHAR):
            self.advance()
            return A.Literal(token.offset, token.value)
        if kind is T.INTERPOLATED:
            self.advance()
            return self.interpolated(token)
        if kind is T.IDENT:
            self.advance()
            type_args = self.type_args_before_call()
            name = A.Name(token.offset, token.text)
            if type_args:
                return A.Member(
                    token.offset, A.Name(token.offset, ""), token.text, False, type_args
                )
            return name
        if kind is T.KEYWORD:
            return self.keyword_primary(token)
        if token.is_op("("):
            self.advance()
            inner = self.expression()
            self.expect(")", " to close the parenthesis")
            return inner
        raise self.error("expected an expression")

    def keyword_primary(self, token: Token) -> A.Node:
        text = token.text
        if text in ("true", "false", "null"):
            self.advance()
            return A.Literal(token.offset, {"true": True, "false": False, "null": None}[text])
        if text == "new":
            return self.new_expression()
        if text == "typeof":
            self.advance()
            self.expect("(")
            type_ref = self.type_ref()
            self.expect(")")
            return A.TypeOf(token.offset, type_ref)
        if text == "default":
            self.advance()
            type_ref = None
            if self.accept("("):
                type_ref = self.type_ref()
                self.expect(")")
            return A.Default(token.offset, type_ref)
        if text in BUILTIN_TYPES:  # `string.IsNullOrEmpty(...)`, `int.Parse(...)`
            self.advance()
            return A.Name(token.offset, text)
        if text == "this":
            raise self.error("'this' has no meaning in a policy expression")
        raise self.error(f"'{text}' cannot start an expression")

    def new_expression(self) -> A.Node:
        start = self.advance()
        if self.token.is_op("["):  # new[] { ... }
            self.advance()
            self.expect("]")
            return A.New(start.offset, None, items=self.collection_items())
        if self.token.is_op("{"):  # anonymous object
            return A.New(start.offset, None, entries=self.object_entries())
        type_ref = self.new_type()
        size = None
        if isinstance(type_ref, tuple):
            type_ref, size = type_ref
        args: tuple[A.Argument, ...] = ()
        if self.token.is_op("("):
            args = self.arguments()
        elif not self.token.is_op("{") and type_ref.array == 0:
            raise self.error("expected '(' or '{' after the type in 'new'")
        items: tuple[A.Node, ...] = ()
        entries: tuple[tuple[A.Node | str, A.Node], ...] = ()
        if self.token.is_op("{"):
            if self.looks_like_entries():
                entries = self.object_entries()
            else:
                items = self.collection_items()
        return A.New(start.offset, type_ref, args, items, entries, size)

    def new_type(self) -> A.TypeRef | tuple[A.TypeRef, A.Node]:
        """The type after `new`; `new string[3]` gives the type and the size."""
        type_ref = self.type_ref()
        if self.token.is_op("[") and not self.peek().is_op("]"):
            self.advance()
            size = self.expression()
            self.expect("]")
            return A.TypeRef(type_ref.name, type_ref.args, type_ref.array + 1), size
        return type_ref

    def looks_like_entries(self) -> bool:
        after = self.peek()
        return after.is_op("[") or (after.kind is T.IDENT and self.peek(2).is_op("="))

    def collection_items(self) -> tuple[A.Node, ...]:
        self.expect("{")
        items: list[A.Node] = []
        while not self.accept("}"):
            if self.token.is_op("{"):  # `{ "key", value }` dictionary item
                start = self.advance()
                pair = [self.expression()]
                while self.accept(","):
                    pair.append(self.expression())
                self.expect("}")
                items.append(A.New(start.offset, None, items=tuple(pair)))
            else:
                items.append(self.expression())
            if not self.accept(","):
                self.expect("}", " to close the initializer")
                break
        return tuple(items)

    def object_entries(self) -> tuple[tuple[A.Node | str, A.Node], ...]:
        self.expect("{")
        entries: list[tuple[A.Node | str, A.Node]] = []
        while not self.accept("}"):
            key: A.Node | str
            if self.accept("["):
                key = self.expression()
                self.expect("]")
            else:
                key = self.ident("a member name")
            self.expect("=", " in the initializer")
            entries.append((key, self.expression()))
            if not self.accept(","):
                self.expect("}", " to close the initializer")
                break
        return tuple(entries)

    def interpolated(self, token: Token) -> A.Node:
        parts: list[object] = []
        for part in token.parts:
            if isinstance(part, str):
                parts.append(part)
                continue
            source, offset, spec = part  # type: ignore[misc]
            inner = Parser(source, offset)
            expression = inner.expression()
            inner.expect_end()
            parts.append((expression, spec))
        return A.Interpolated(token.offset, tuple(parts))
