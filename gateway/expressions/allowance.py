"""What one evaluation may spend besides steps: memory made by sized calls, and time in
regular expressions.

The step budget bounds how many nodes run, not what one node costs: `"x".PadLeft(n)` is one
step whatever `n` is, and one `Regex.IsMatch` may backtrack for minutes. So every call that
makes a string, byte array or list whose size an argument or the input decides charges that
size here before making it, and every regular expression runs with the time this evaluation
has left. Both builds of closures and the interpreter call the same library functions, so
they charge the same amounts and fail at the same call with the same error.

The tally is per thread (an evaluation never awaits, so it runs whole on one thread) and
`start` resets it when an evaluation begins (`under_contract`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from gateway.expressions.values import ExpressionError, to_text

# Characters, bytes or list items (each counted as 8: a pointer) one evaluation may make
# through sized calls: 32 MiB fits several copies of the largest body the gateway reads.
MAX_ALLOCATION = 32 * 1024 * 1024
# Seconds all the regular expressions of one evaluation may run, together (a linear pattern
# scans megabytes in that time; a backtracking one is cut off instead of stalling the loop).
REGEX_SECONDS = 0.1
# The longest pattern an expression may use (a pattern from a header could ask the engine
# to compile something huge; the longest in the APIM corpus is under 200 characters).
MAX_PATTERN = 4096
# Below this many characters a string `+` is not charged: at most one step each, so the step
# budget already bounds them, and the commonest concatenations stay free of bookkeeping.
CHARGE_FROM = 1024

ALLOCATION_SPENT = (
    f"the expression would make more than {MAX_ALLOCATION} characters, bytes or items "
    "(its allocation budget is spent)"
)
REGEX_TIMED_OUT = (
    f"the regular expression ran longer than the {REGEX_SECONDS}s an expression may spend "
    "in regular expressions (RegexMatchTimeoutException)"
)


class _Tally(threading.local):
    def __init__(self) -> None:
        self.allocated = 0
        self.regex_left = REGEX_SECONDS


_TALLY = _Tally()


def start() -> None:
    """An evaluation begins: nothing allocated, the whole regex time left."""
    tally = _TALLY
    tally.allocated = 0
    tally.regex_left = REGEX_SECONDS


def allocate(size: int) -> None:
    """Charge `size` characters, bytes or items (list items as 8) before making them."""
    tally = _TALLY
    tally.allocated += max(size, 0)
    if tally.allocated > MAX_ALLOCATION:
        raise ExpressionError(ALLOCATION_SPENT)


def allocate_items(count: int) -> None:
    allocate(8 * count)


def regex_time_left() -> float:
    """The seconds the next regular expression may run (an error when none are left)."""
    left = _TALLY.regex_left
    if left <= 0:
        raise ExpressionError(REGEX_TIMED_OUT)
    return left


def spent_regex_time(seconds: float) -> None:
    _TALLY.regex_left -= seconds


def joined(pieces: list[str], separator: str = "") -> str:
    """`separator.join(pieces)`, charged first when it is long (string interpolation, Join,
    Concat)."""
    size = sum(map(len, pieces)) + len(separator) * (len(pieces) - 1)
    if size > CHARGE_FROM:
        allocate(size)
    return separator.join(pieces)


def texts(values: Iterable[object]) -> list[str]:
    """Each value's `ToString()`, a text made anew (a JSON value's, a number's) charged as it
    is made: one large JSON value repeated in a list must not be printed many times first."""
    found = []
    for value in values:
        text = to_text(value)
        if text is not value and len(text) > CHARGE_FROM:
            allocate(len(text))
        found.append(text)
    return found


def charged(text: str) -> str:
    """`text`, charged when long: for what is at most a few times values already charged
    (string interpolation), where measuring first would cost more than it saves."""
    if len(text) > CHARGE_FROM:
        allocate(len(text))
    return text
