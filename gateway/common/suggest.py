""" "Did you mean ...?": the nearest known name by edit distance."""

from __future__ import annotations

from collections.abc import Iterable


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent transpositions counted as one edit."""
    previous_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            cost = 0 if char_a == char_b else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                best = min(best, previous_previous[j - 2] + 1)
            current.append(best)
        previous_previous, previous = previous, current
    return previous[-1]


def nearest(name: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate, if it is close enough to be what the author meant."""
    lowered = name.lower()
    limit = max(2, len(name) // 3)
    best: tuple[int, str] | None = None
    for candidate in candidates:
        # The lengths alone put a candidate this far apart: it cannot be suggested, and the
        # comparison (quadratic) of a name of thousands of characters is never made.
        other = candidate.lower()
        if abs(len(other) - len(lowered)) > limit:
            continue
        distance = edit_distance(lowered, other)
        if best is None or distance < best[0]:
            best = (distance, candidate)
    return best[1] if best is not None and best[0] <= limit else None
