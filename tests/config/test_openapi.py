"""Operations imported from an OpenAPI file, as APIM's import makes them."""

from __future__ import annotations

from pathlib import Path

from gateway.config.apis import Example
from gateway.config.loader import load_gateway_config

SPEC = """
openapi: 3.0.1
info: {title: Shop, version: "1"}
paths:
  /items/{id}:
    get:
      operationId: get-item
      summary: One item
      responses:
        "200":
          content:
            application/json:
              example: {id: 1, name: lamp}
            text/plain:
              examples:
                short: {value: lamp}
        "404": {description: no such item}
  /items:
    post:
      responses:
        "201": {description: created}
"""


def write(root: Path, gateway_yaml: str, spec: str | None = SPEC) -> Path:
    if spec is not None:
        (root / "shop.yaml").write_text(spec)
    path = root / "gateway.yaml"
    path.write_text(gateway_yaml)
    return path


def test_operations_and_examples_come_from_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "apis:\n  shop: {path: shop, openapi: shop.yaml}\n")
    config, diagnostics = load_gateway_config(path)
    assert diagnostics == [] and config is not None
    operations = {op.id: op for op in config.apis["shop"].operations}
    assert set(operations) == {"get-item", "post-items"}  # an ID made up where none is given
    item = operations["get-item"]
    assert (item.method, item.url_template, item.name) == ("GET", "/items/{id}", "One item")
    assert item.examples == (
        Example(body='{"id": 1, "name": "lamp"}', status=200, content_type="application/json"),
        Example(body="lamp", status=200, content_type="text/plain"),
    )


def test_a_missing_file_is_an_error_at_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, "apis:\n  shop: {path: shop, openapi: nowhere.yaml}\n", spec=None)
    _, diagnostics = load_gateway_config(path)
    assert [(d.rule, d.location.line) for d in diagnostics] == [("invalid-openapi", 2)]
    assert "cannot read" in diagnostics[0].message and "nowhere.yaml" in diagnostics[0].message


def test_not_an_openapi_document(tmp_path: Path) -> None:
    path = write(tmp_path, "apis:\n  shop: {path: shop, openapi: shop.yaml}\n", spec="a: 1\n")
    _, diagnostics = load_gateway_config(path)
    assert "has no 'paths'" in diagnostics[0].message


def test_only_http_apis_import(tmp_path: Path) -> None:
    path = write(tmp_path, "apis:\n  llm: {path: llm, style: openai, openapi: shop.yaml}\n")
    _, diagnostics = load_gateway_config(path)
    assert [d.rule for d in diagnostics] == ["invalid-value"]
