"""docs/deploy.md stays true to the chart and the image it describes."""

from __future__ import annotations

import re

import yaml

from tests.conftest import REPO
from tests.deploy.chart import CHART

DOC = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")


def leaf_values(tree: dict, prefix: str = "") -> set[str]:
    """values.yaml's settable names: `image.tag`, `ports.traffic`, `gateway` (a map of yours)."""
    names = set()
    for name, value in tree.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict) and value and path not in ("resources",):
            names |= leaf_values(value, path + ".")
        else:
            names.add(path)
    return names


def test_every_chart_value_is_in_the_values_table() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    table = DOC.split("### Values", 1)[1].split("\n## ", 1)[0]
    documented = set()
    for cell in re.findall(r"^\| ([^|]+) \|", table, re.MULTILINE):
        names = re.findall(r"`([\w.]+)`", cell)
        for name in names:  # `a.b`, `.c` in one cell: a.b and a.c
            documented.add(name if not name.startswith(".") else names[0].rsplit(".", 1)[0] + name)
    missing = sorted(leaf_values(values) - documented)
    assert missing == [], f"values.yaml names these and docs/deploy.md does not: {missing}"


def test_the_doc_quotes_the_image_as_it_is() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    assert "USER 10001:10001" in dockerfile and "uid/gid 10001" in DOC
    assert 'VOLUME ["/tmp", "/var/lib/aigw"]' in dockerfile
    assert "`/tmp` (`TMPDIR`" in DOC and "`/var/lib/aigw`" in DOC
    for example in ("ci/mock-values.yaml", "ci/fleet-values.yaml"):
        assert example in DOC and (CHART / example).is_file()
