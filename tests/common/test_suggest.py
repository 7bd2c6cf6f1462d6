"""gateway.common.suggest: "did you mean" for unknown names, and what it costs."""

from __future__ import annotations

import sys
from types import FrameType

from gateway.common.suggest import edit_distance, nearest

NAMES = ["rate-limit", "rate-limit-by-key", "quota", "set-header"]


def test_the_nearest_name_within_a_third_of_its_length() -> None:
    assert nearest("rate-limt", NAMES) == "rate-limit"
    assert nearest("Quota", NAMES) == "quota"
    assert nearest("set-body", NAMES) is None
    assert edit_distance("ab", "ba") == 1


def test_a_long_unknown_name_is_not_compared_letter_by_letter() -> None:
    # Found by fuzzing (tests/fuzz/corpus/policy_yaml): an unknown statement or key of some
    # thousands of characters was compared with every known name at quadratic cost (a
    # policy file of such names took seconds per name to lint). A name whose length alone puts
    # it further than a suggestion may be needs no comparison.
    compared: list[str] = []

    def watch(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code is edit_distance.__code__:
            compared.append(frame.f_locals["b"])

    sys.setprofile(watch)
    try:
        found = nearest("rate-limit" + "K" * 300, NAMES)
    finally:
        sys.setprofile(None)
    assert (found, compared) == (None, [])
