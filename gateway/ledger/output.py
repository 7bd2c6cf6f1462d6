"""Rows printed as an aligned text table, JSON or CSV (`aigw usage`, `aigw reconcile`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

from gateway.ledger.queries import Row

FORMATS = ("text", "json", "csv")


def render(rows: Sequence[Row], columns: Sequence[str], form: str = "text") -> str:
    if form == "json":
        return json.dumps(list(rows), indent=2) + "\n"
    if form == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue()
    table = [list(columns)] + [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    numeric = [all(_is_number(line[i]) for line in table[1:]) for i in range(len(columns))]
    lines = [
        "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(line, widths, numeric, strict=True)
        ).rstrip()
        for line in table
    ]
    return "\n".join(lines) + "\n"


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def _is_number(text: str) -> bool:
    return text.lstrip("-").replace(".", "", 1).isdigit()
