"""Literal values written the same way in gateway.yaml and in policies: durations and booleans."""

from __future__ import annotations

import re

_ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> float | None:
    """Seconds from `30`, `1.5` or ISO 8601 `PT30S`/`P1D`; None when neither."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    match = _ISO_DURATION.match(text)
    if not match or text in ("P", "PT"):
        return None
    units = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
    return sum(float(match.group(k) or 0) * factor for k, factor in units.items())


def parse_bool(text: str) -> bool | None:
    """`true`/`false` in any case (APIM also accepts `True`/`False`); None when neither."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return None
