"""`new T(...)` where it departed from C#: `new string(c, n)` and `new Guid(...)`."""

from __future__ import annotations

import re

from tests.conftest import REPO
from tests.expressions.evaluators import outcomes, same_outcome

GUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

CORRELATION_SNIPPET = (
    REPO
    / "tests/data/apim-corpus/Azure__api-management-policy-snippets"
    / "examples__Add-correlation-id-to-inbound-request.policy.xml"
)


def test_new_string_repeats_a_char_as_in_csharp() -> None:
    assert same_outcome("@(new string('a', 3))") == ("value", "aaa")
    assert same_outcome("@(new string(new[] { 'o', 'k' }))") == ("value", "ok")
    kind, _ = same_outcome("@(new string('a', -1))")
    assert kind == "error"


def test_new_guid_from_bytes_reads_dotnets_byte_order() -> None:
    # .NET: new Guid(Encoding.UTF8.GetBytes("0123456789abcdef")).ToString()
    source = '@(new Guid(Encoding.UTF8.GetBytes("0123456789abcdef")).ToString())'
    assert same_outcome(source) == ("value", "33323130-3534-3736-3839-616263646566")


def test_new_guid_from_a_hash_makes_a_stable_correlation_id() -> None:
    source = (
        '@(new Guid(SHA256.Create().ComputeHash(Encoding.UTF8.GetBytes("x"))'
        ".Take(16).ToArray()).ToString())"
    )
    # SHA-256("x") begins 2d711642 b726 b044 0162 7ca9fbac32f5.
    assert same_outcome(source) == ("value", "4216712d-26b7-44b0-0162-7ca9fbac32f5")


def test_a_guid_round_trips_through_its_bytes() -> None:
    guid = "00112233-4455-6677-8899-aabbccddeeff"
    source = f'@(new Guid(new Guid("{guid}").ToByteArray()).ToString("N"))'
    assert same_outcome(source) == ("value", guid.replace("-", ""))
    kind, _ = same_outcome("@(new Guid(new byte[3]))")
    assert kind == "error"


def test_the_apim_correlation_id_snippet_runs() -> None:
    # Random bytes from Guid.NewGuid(), then six from DateTime.Now.Ticks: a COMB Guid.
    text = CORRELATION_SNIPPET.read_text(encoding="utf-8")
    source = text[text.index("@{") : text.index("</value>")].strip()
    fixed = source.replace("DateTime.Now", "new DateTime(2024, 1, 2)")
    ticks = 638397504000000000  # new DateTime(2024, 1, 2).Ticks
    tail = ticks.to_bytes(8, "little")[:6].hex()
    for kind, value in outcomes(fixed).values():
        assert kind == "value"
        assert re.fullmatch(GUID, str(value)) and str(value).endswith(tail)
