"""The ledger against a provider's export: per UTC day and model, the prompt and completion
tokens and the dollars each side counts, and every difference between them.

Only the ledger's calls answered by a backend of the export's provider count (gateway.yaml
says each backend's provider), over the days the export covers. A measure the export does not
have (a usage export has no dollars) is not compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from gateway.ledger.databases import Database
from gateway.ledger.exports import Export, Totals
from gateway.ledger.queries import Row, totals

COMPARED = ("prompt_tokens", "completion_tokens", "cost")


async def reconcile(
    database: Database, exports: Sequence[Export], providers: Mapping[str, str]
) -> tuple[int, list[Row]]:
    """(how many day-and-model pairs were compared, one row per difference)."""
    provider = _one_provider(exports)
    theirs = _merged(exports)
    if not theirs:
        return 0, []
    days = sorted(day for day, _ in theirs)
    since = datetime.fromisoformat(days[0]).replace(tzinfo=UTC)
    until = datetime.fromisoformat(days[-1]).replace(tzinfo=UTC) + timedelta(days=1)
    ours: dict[tuple[str, str], dict[str, Decimal]] = {}
    for row in await totals(
        database, ["day", "model", "backend"], since.timestamp(), until.timestamp()
    ):
        if providers.get(str(row["backend"])) != provider:
            continue
        sums = ours.setdefault((str(row["day"]), str(row["model"])), {})
        for measure in COMPARED:
            sums[measure] = sums.get(measure, Decimal(0)) + Decimal(str(row[measure]))
    differences: list[Row] = []
    pairs = sorted(set(theirs) | set(ours))
    for day, model in pairs:
        given = theirs.get((day, model), Totals())
        counted = ours.get((day, model), {})
        for measure in COMPARED:
            reported = getattr(given, measure)
            if reported is None and (day, model) in theirs:
                continue  # this export does not say
            provider_value = Decimal(reported or 0)
            ledger_value = counted.get(measure, Decimal(0))
            if provider_value != ledger_value:
                differences.append(
                    {
                        "day": day,
                        "model": model,
                        "measure": measure,
                        "ledger": _text(ledger_value),
                        "provider": _text(provider_value),
                        "difference": _text(ledger_value - provider_value),
                    }
                )
    return len(pairs), differences


def _one_provider(exports: Sequence[Export]) -> str:
    providers = {export.provider for export in exports}
    if len(providers) != 1:
        raise ValueError(f"the exports are of several providers: {', '.join(sorted(providers))}")
    return providers.pop()


def _merged(exports: Sequence[Export]) -> dict[tuple[str, str], Totals]:
    """A usage export's tokens and a cost export's dollars, together."""
    merged: dict[tuple[str, str], Totals] = {}
    for export in exports:
        for key, figures in export.totals.items():
            into = merged.setdefault(key, Totals())
            for measure in COMPARED:
                value = getattr(figures, measure)
                if value is not None:
                    setattr(into, measure, (getattr(into, measure) or 0) + value)
    return merged


def _text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"
