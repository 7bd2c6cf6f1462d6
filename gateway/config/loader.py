"""`load_gateway_config`: gateway.yaml -> typed `GatewayConfig` plus every diagnostic.

Never raises for bad input: the document is checked against the shapes (`reader`), built
(`build`), given the operations its OpenAPI files declare, and cross-checked (`checks`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from gateway.common.diagnostics import Diagnostic, Location, Report
from gateway.config.build import build
from gateway.config.checks import check_config
from gateway.config.openapi import OpenApiError, import_operations
from gateway.config.reader import ReadResult, read_document
from gateway.config.settings import GatewayConfig
from gateway.config.shapes import shape_of


def load_gateway_config(path: Path) -> tuple[GatewayConfig | None, list[Diagnostic]]:
    report = Report()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not UTF-8 text"
        report.error(Location(str(path)), "unreadable-file", f"cannot read gateway.yaml: {reason}")
        return None, report.sorted()
    shape = shape_of(GatewayConfig)
    result = read_document(text, str(path), shape, report)
    if result is None:
        return None, report.sorted()
    config: GatewayConfig = build(shape, result.data, path.parent, result.locations)
    _import_openapi(config, path.parent, result, report)
    check_config(config, result.locations, report, str(path))
    return config, report.sorted()


def _import_openapi(config: GatewayConfig, base: Path, result: ReadResult, report: Report) -> None:
    """Give each API that names an OpenAPI file the operations the file declares."""
    for api in list(config.apis.values()):
        if api.openapi is None:
            continue
        where = result.locations.get(("apis", api.id, "openapi"), Location(str(base)))
        if api.style != "http":
            report.error(where, "invalid-value", "only style: http APIs import operations")
            continue
        try:
            imported = import_operations(base / api.openapi)
        except OpenApiError as error:
            report.error(where, "invalid-openapi", str(error))
            continue
        config.apis[api.id] = replace(api, operations=api.operations + imported)
