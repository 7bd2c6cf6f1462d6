"""Patterns known to backtrack catastrophically, found in an expression's literal patterns so
that the linter can warn before a request finds them (the time limit of regex.py stops them
at run time, failing the request).

The shapes: a repeated group that holds a repetition (`(a+)+`, `(a*)*`, `(.*a){10}`), and a
repeated group whose alternatives can match the same text (`(a|a)+`, `(a|ab)*`). Each makes
the number of ways to match a string grow exponentially with its length, and a failing match
tries them all. The check reads the pattern, not the language it means, so it is a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gateway.expressions import ast as A

_REGEX_METHODS = frozenset({"IsMatch", "Match", "Matches", "Replace", "Split"})
# A quantifier that repeats: `*`, `+`, `{n,}` and `{n,m}` with m > 1 (not `?` or `{1}`).
_REPEAT = re.compile(r"[*+]|\{(\d*),(\d*)\}|\{(\d+)\}")


@dataclass
class _Group:
    start: int
    body: int = 0  # where its content begins
    repeats_inside: bool = False
    alternatives: list[str] = field(default_factory=list)
    current: int = 0  # where the alternative being read began


def backtracking_risk(pattern: str) -> str | None:
    """Why `pattern` may backtrack catastrophically, or None when no known shape is in it."""
    stack: list[_Group] = [_Group(-1)]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _class_end(pattern, i)
            continue
        if char == "(":
            body = _group_body(pattern, i)
            stack.append(_Group(i, body=body, current=body))
            i = stack[-1].current
            continue
        if char == "|":
            stack[-1].alternatives.append(pattern[stack[-1].current : i])
            stack[-1].current = i + 1
        elif char == ")" and len(stack) > 1:
            group = stack.pop()
            group.alternatives.append(pattern[group.current : i])
            end = _repeat_end(pattern, i + 1)
            if end is not None:
                quoted = pattern[group.start : end]
                if group.repeats_inside and not _separated(pattern[group.body : i]):
                    return f"'{quoted}' repeats a group that itself repeats (nested quantifiers)"
                if _overlapping(group.alternatives):
                    return f"'{quoted}' repeats alternatives that can match the same text"
            if group.repeats_inside or end is not None:
                stack[-1].repeats_inside = True
            i = end if end is not None else i + 1
            continue
        elif _repeat_end(pattern, i) is not None and i > 0:
            stack[-1].repeats_inside = True
            i = _repeat_end(pattern, i) or i + 1
            continue
        i += 1
    return None


# One atom of a pattern: an escape, a character class, a group (nested ones whole), a char.
_ATOM = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]])*\]|.", re.DOTALL)


def _separated(body: str) -> bool:
    """True when each repetition must end with a character no repeated atom of the body can
    match (`(\\d+,)*`: the comma): then there is one way to split the text, not exponentially
    many."""
    repeated: list[str] = []
    required: list[str] = []
    i = 0
    while i < len(body):
        if body[i] == "(":
            end = _group_end(body, i)
        else:
            atom = _ATOM.match(body, i)
            end = atom.end() if atom else i + 1
        atom_text = body[i:end]
        after = _repeat_end(body, end)
        optional = body[end : end + 1] == "?" and after is None
        if after is not None:
            repeated.append(atom_text)
            end = after
        elif optional:
            repeated.append(atom_text)  # may be there or not: no boundary
            end += 1
        elif re.fullmatch(r"\\[^\w]|[^\\.()\[\]|^$*+?{}]", atom_text):
            required.append(atom_text[-1])
        i = end
    return any(all(not _may_match(atom, char) for atom in repeated) for char in required)


def _may_match(atom: str, char: str) -> bool:
    try:
        return re.fullmatch(atom, char) is not None
    except re.error:  # an atom that does not compile alone (a backreference): assume it may
        return True


def _group_end(pattern: str, at: int) -> int:
    depth, i = 0, at
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "[":
            i = _class_end(pattern, i)
            continue
        depth += {"(": 1, ")": -1}.get(pattern[i], 0)
        i += 1
        if depth == 0:
            break
    return i


def _group_body(pattern: str, at: int) -> int:
    """Where a group's content begins: after `(`, `(?:`, `(?<name>`, `(?P<name>`, ..."""
    if not pattern.startswith("(?", at):
        return at + 1
    named = re.match(r"\(\?P?<(?![=!])\w+>|\(\?'\w+'", pattern[at:])
    if named:
        return at + named.end()
    flags = re.match(r"\(\?[a-zA-Z-]*:|\(\?(?:<?[=!]|>)", pattern[at:])
    return at + (flags.end() if flags else 2)


def _class_end(pattern: str, at: int) -> int:
    i = at + 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i + 1


def _repeat_end(pattern: str, at: int) -> int | None:
    """The end of a repeating quantifier at `at` (with a lazy or possessive mark), or None."""
    found = _REPEAT.match(pattern, at)
    if found is None:
        return None
    exact = found.group(3)
    if exact is not None and int(exact) < 2:
        return None
    upper = found.group(2)
    if found.group(0).startswith("{") and exact is None and upper and int(upper) < 2:
        return None
    end = found.end()
    return end + 1 if pattern[end : end + 1] in ("?", "+") else end


def _overlapping(alternatives: list[str]) -> bool:
    """Two alternatives that may match the same text: one a prefix of the other (`a|a`,
    `a|ab`), compared as written (a character class or escape is not expanded)."""
    if len(alternatives) < 2:
        return False
    for i, first in enumerate(alternatives):
        for second in alternatives[i + 1 :]:
            if first.startswith(second) or second.startswith(first):
                return True
    return False


def literal_patterns(tree: A.Node) -> list[tuple[str, int]]:
    """Each pattern written as a string literal in a Regex call or `new Regex(...)`, with
    its offset."""
    found = []
    for node in A.walk(tree):
        pattern = None
        if isinstance(node, A.Call) and isinstance(node.target, A.Member):
            receiver = A.qualified_name(node.target.target)
            if (
                receiver is not None
                and receiver.split(".")[-1] == "Regex"
                and node.target.name in _REGEX_METHODS
                and len(node.args) > 1
            ):
                pattern = node.args[1].value
        elif (
            isinstance(node, A.New)
            and node.type is not None
            and node.args
            and node.type.name.split(".")[-1] == "Regex"
        ):
            pattern = node.args[0].value
        if isinstance(pattern, A.Literal) and isinstance(pattern.value, str):
            found.append((pattern.value, pattern.offset))
    return found
