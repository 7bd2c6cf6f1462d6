"""docs/admin.md is held to the code: its table lists exactly the admin API's routes, and its
gateway.yaml example loads."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.config.loader import load_gateway_config
from gateway.proxy.admin_api import admin_api_routes
from tests.conftest import REPO

DOC = (REPO / "docs" / "admin.md").read_text(encoding="utf-8")


def test_the_table_lists_every_route() -> None:
    documented = set(re.findall(r"^\| `(GET|POST|PATCH|DELETE) (/-/api/[^`?]+)", DOC, re.M))
    documented = {
        (method, path.replace("/suspend", "/{action}"))
        for method, path in documented
        if not path.endswith(("/reactivate", "/cancel"))
    }
    served = set()
    for route in admin_api_routes(None, lambda: None):  # type: ignore[arg-type]
        for method in route.methods or ():
            if method != "HEAD":
                served.add((method, route.path))
    assert documented == served


def test_the_example_loads(tmp_path: Path) -> None:
    example = DOC.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "gateway.yaml").write_text(example + "apis:\n  llm: {path: llm, style: openai}\n")
    config, diagnostics = load_gateway_config(tmp_path / "gateway.yaml")
    assert config is not None and not [d for d in diagnostics if d.is_error]
    assert config.admin.admin_key is not None
    assert config.admin.refresh == 0.25
