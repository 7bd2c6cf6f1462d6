"""docs/observability.md's example gateway.yaml and policy load as written."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.load import inspect_directory
from tests.conftest import REPO


def test_the_llm_message_logging_example_loads(tmp_path: Path) -> None:
    page = (REPO / "docs" / "observability.md").read_text(encoding="utf-8")
    section = page.split("## LLM message logging", 1)[1]
    yaml_text = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    xml_text = re.search(r"```xml\n(.*?)```", section, re.DOTALL)
    assert yaml_text is not None and xml_text is not None
    (tmp_path / "gateway.yaml").write_text(yaml_text.group(1))
    (tmp_path / "apis").mkdir()
    (tmp_path / "apis" / "chat.xml").write_text(xml_text.group(1))
    inspection = inspect_directory(tmp_path, runtime_errors=False)
    found = [(d.severity.value, d.rule) for d in inspection.report.sorted()]
    # Only what this machine lacks: the secrets' environment variables.
    assert set(found) <= {("warning", "unset-secret")}, inspection.report.sorted()
    config = inspection.config
    assert config is not None and config.apis["chat"].llm_messages is not None
