"""docs/sizing.md's table of what the Redis counter store sends matches gateway/stores/redis.py.

The table lists each store operation, the command it sends (`EVALSHA` of a named Lua script, or
a plain command) and the commands inside the script. A new operation, script or command in
the store fails here until the table says so: the sizing figures cannot drift silently.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from gateway.stores import redis as redis_store
from tests.conftest import REPO

DOC = REPO / "docs" / "sizing.md"
SECTION = "### What the Redis store sends"
TICKED = re.compile(r"`([^`]+)`")


def doc_rows() -> list[list[str]]:
    """The cells of the table that follows SECTION (header and rule left out)."""
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text, f"docs/sizing.md has no '{SECTION}' section"
    lines = text.split(SECTION, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return table[2:]


def documented() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """{operation: what it sends}, {script: commands inside}, as the doc says.

    What an operation sends is "EVALSHA NAME" for a script, else the command's name."""
    sends: dict[str, set[str]] = {}
    scripts: dict[str, set[str]] = {}
    for operations, sent, inside in doc_rows():
        script = re.search(r"`EVALSHA` of `(\w+)`", sent)
        if script:
            what = f"EVALSHA {script.group(1)}"
            scripts[script.group(1)] = {w for w in TICKED.findall(inside) if w.isupper()}
        else:
            what = TICKED.findall(sent)[0]
        for operation in TICKED.findall(operations):
            sends.setdefault(operation, set()).add(what)
    return sends, scripts


def lua_scripts(module: ast.Module) -> dict[str, set[str]]:
    """Module constants holding Lua: {name: the commands its redis.call()s run}."""
    found = {}
    for node in module.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            value = node.value.value
            if isinstance(value, str) and "redis.call" in value:
                name = node.targets[0]
                assert isinstance(name, ast.Name)
                found[name.id] = set(re.findall(r"redis\.call\(\s*'(\w+)'", value))
    return found


def code_sends(module: ast.Module) -> dict[str, set[str]]:
    """Each public operation of RedisCounters: the commands and scripts it sends, following
    its calls to the class's other methods."""
    cls = next(
        node
        for node in module.body
        if isinstance(node, ast.ClassDef) and node.name == "RedisCounters"
    )
    methods = {
        node.name: node
        for node in cls.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    assigned = [  # self.NAME = CALL(...) in __init__
        (target.attr, call)
        for node in ast.walk(methods["__init__"])
        if isinstance(node, ast.Assign) and isinstance(call := node.value, ast.Call)
        for target in node.targets
        if isinstance(target, ast.Attribute)
    ]
    registered = {  # self._script = LeanScript(client, SCRIPT, ...) or register_script(SCRIPT)
        name: script.id
        for name, call in assigned
        if _callee(call) in ("LeanScript", "register_script")
        for script in call.args
        if isinstance(script, ast.Name) and script.id.isupper()
    }
    behind = {  # self._behind = WriteBehind(self._write): its additions go out through _write
        name: call.args[0].attr
        for name, call in assigned
        if _callee(call) == "WriteBehind" and isinstance(call.args[0], ast.Attribute)
    }

    def sent_by(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        sent: set[str] = set()
        for node in ast.walk(methods[name]):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            if isinstance(owner, ast.Attribute) and owner.attr in behind:  # self._behind.add
                sent |= sent_by(behind[owner.attr], seen | {name})
                continue
            if not (isinstance(owner, ast.Name) and owner.id == "self"):
                continue
            called = node.func.attr
            if called in registered:
                sent.add(f"EVALSHA {registered[called]}")
            elif called == "_call":
                first = node.args[0]
                assert isinstance(first, ast.Constant), "a command name must be a literal"
                sent.add(first.value)
            elif called in methods and called not in seen:
                sent |= sent_by(called, seen | {name})
        return sent

    public = [name for name in methods if not name.startswith("_") and name != "close"]
    return {name: sent_by(name) for name in public}


def _callee(call: ast.Call) -> str:
    """The name a call calls: `LeanScript(...)` -> LeanScript, `x.register_script(...)` ->
    register_script."""
    function = call.func
    if isinstance(function, ast.Attribute):
        return function.attr
    return function.id if isinstance(function, ast.Name) else ""


def store_module() -> ast.Module:
    return ast.parse(Path(redis_store.__file__).read_text(encoding="utf-8"))


def test_the_doc_lists_every_operation_with_what_it_sends() -> None:
    module = store_module()
    sends, _ = documented()
    assert sends == code_sends(module)


def test_the_doc_lists_every_script_with_the_commands_inside() -> None:
    module = store_module()
    _, scripts = documented()
    assert scripts == lua_scripts(module)


def test_the_reader_sees_the_current_table() -> None:
    # Guards the two tests above against a table they no longer find or parse.
    sends, scripts = documented()
    assert sends["consume"] == {"EVALSHA SCRIPT"} and sends["held"] == {"PTTL"}
    assert sends["apply"] == sends["add_later"] == {"EVALSHA SCRIPT"}
    assert scripts["SCRIPT"] == {"GET", "INCRBY", "PEXPIRE"}
