"""The semantic cache's fact guard: each check, its switches, and the labelled pair set."""

from __future__ import annotations

import itertools
import json
import time
from collections import Counter
from dataclasses import fields, replace
from pathlib import Path

import pytest

from gateway.caching.guard import MAX_REASON, GuardChecks, conflict

PAIRS_FILE = Path(__file__).resolve().parent.parent / "data" / "semantic_pairs.jsonl"
PAIRS = [
    json.loads(line) for line in PAIRS_FILE.read_text(encoding="utf-8").splitlines() if line.strip()
]
NEAR_MISSES = [p for p in PAIRS if p["label"] == "near-miss"]
PARAPHRASES = [p for p in PAIRS if p["label"] == "paraphrase"]
ALL = GuardChecks()
NONE = GuardChecks(**{f.name: False for f in fields(GuardChecks)})
# Which switches may catch each kind of near miss: a swapped direction shows as swapped names or
# numbers as often as swapped words (the direction check runs under the `opposites` switch).
CATCHERS = {
    "number": {"numbers"},
    "entity": {"entities"},
    "negation": {"negations"},
    "quoted": {"quoted"},
    "opposite": {"opposites"},
    "direction": {"opposites", "entities", "numbers"},
}


def only(*names: str) -> GuardChecks:
    return replace(NONE, **dict.fromkeys(names, True))


def both_ways(a: str, b: str, checks: GuardChecks = ALL) -> tuple[str | None, str | None]:
    return conflict(a, b, checks), conflict(b, a, checks)


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ("Convert 100 USD to EUR", "Convert 200 USD to EUR", "numbers differ: 100 vs 200"),
        ("What is 2+2?", "What is 2+3?", "numbers differ: 2 vs 3"),
        ("range from 100 to 200", "range from 200 to 100", "numbers differ: 100, 200 vs 200, 100"),
        (
            "Book a room for 2 adults and 3 children",
            "Book a room for 3 adults and 2 children",
            "numbers differ: 2, 3 vs 3, 2",
        ),
        ("walk 5 km", "walk 5 miles", "numbers differ: 5 km vs 5 mi"),
        ("what is 5% of 80", "what is 5 of 80", None),  # a unit may be left out...
        ("increase it by 5%", "increase it by 5 percent", None),
        ("one cup of flour", "two cups of flour", "numbers differ: none vs 2 cup"),
        ("What is -5 squared?", "What is 5 squared?", "numbers differ: -5 vs 5"),
        (
            "Python 3.12 release notes",
            "Python 3.11 release notes",
            "numbers differ: python 3.12 vs python 3.11",
        ),
    ],
)
def test_numbers_conflict(a: str, b: str, reason: str | None) -> None:
    assert conflict(a, b, only("numbers")) == reason


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What is 2+2?", "What is two plus two?"),
        ("convert 1,000 to binary", "convert 1000 to binary"),
        ("Is 5.0 a whole number?", "Is 5 a whole number?"),
        ("Walk 10k steps a day", "walk 10,000 steps a day"),
        ("What is 253 in binary?", "What is two hundred and fifty-three in binary?"),
        ("Buy a dozen eggs", "buy 12 eggs"),
        ("Is $5 a good tip?", "is 5 dollars a good tip?"),
        ("15% of 80", "fifteen per cent of 80"),
        ("Convert 30 degrees Celsius to Fahrenheit", "convert 30°C to Fahrenheit"),
        ("How many ounces are in a pound?", "How many oz in 1 lb?"),
        ("Which one is better, tea or coffee?", "Which is better, tea or coffee?"),  # a lone "one"
        (
            "How much will $10,000 grow in 10 years at 7%?",
            "At 7% a year, what will $10,000 be worth after 10 years?",
        ),
        ("Plan a 3-day trip to Rome", "plan 3 days in Rome"),
        ("Merge two dicts in Python 3", "Python 3: merge two dictionaries"),
        ("Explain recursion like I'm five", "Explain recursion to a 5 year old"),
    ],
)
def test_numbers_agree(a: str, b: str) -> None:
    assert both_ways(a, b, only("numbers")) == (None, None)


# --- quoted ----------------------------------------------------------------------------------


def test_quoted_conflict_and_reason() -> None:
    reason = conflict('Translate "good morning" to Spanish', 'Translate "good night" to Spanish')
    assert reason == "quoted text differs: 'good morning' vs 'good night'"
    assert conflict("What does `git stash` do?", "What does `git reset` do?", only("quoted"))
    assert conflict("Is 'Data' plural?", "Is 'data' plural?", only("quoted"))  # case-sensitive
    assert conflict(
        "Search for \u2018Invoice March\u2019",
        "Search for \u2018Invoice April\u2019",
        only("quoted"),
    )
    assert conflict('translate "hello"', 'translate "hello world"', only("quoted"))


def test_quoted_agree() -> None:
    checks = only("quoted")
    assert conflict("Write 'hello' in French", 'Write "hello" in French', checks) is None
    assert (
        conflict(
            "Translate 'thank you' to Japanese", "How do you say thank you in Japanese?", checks
        )
        is None
    )
    # Apostrophes are not quotes.
    assert conflict("I don't know what it's for", "what's it for? I don't know", checks) is None
    assert conflict("Fix `print 'hi'`", "Fix `print 'hi'` please", checks) is None


# --- negations -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        (
            "Can I take ibuprofen with alcohol?",
            "Can I take ibuprofen without alcohol?",
            "negation differs: none vs 'without'",
        ),
        (
            "Why does my code throw?",
            "Why doesn't my code throw?",
            "negation differs: none vs 'doesn't'",
        ),
        ("I can log in", "I cannot log in", "negation differs: none vs 'cannot'"),
        (
            "a chocolate cake recipe",
            "a gluten-free chocolate cake recipe",
            "negation differs: none vs 'gluten-free'",
        ),
        (
            "vegetarian dishes",
            "non-vegetarian dishes",
            "negation differs: none vs 'non-vegetarian'",
        ),
        ("users who have a manager", "users who have no manager", "negation differs: none vs 'no'"),
        (
            "Select all users except admins",
            "Select all users including admins",
            "negation differs: 'except' vs none",
        ),
    ],
)
def test_negations_conflict(a: str, b: str, reason: str) -> None:
    assert conflict(a, b, only("negations")) == reason


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "Do you know a good pizza place?",
            "Any pizza place you'd recommend?",
        ),  # "know" is not "no"
        ("Can you tell me how to bake bread?", "How do I bake bread?"),
        ("I can't log in", "I cannot log in"),
        ("I don't want sugar", "I do not want sugar"),
        ("I'm not sure how to reverse a list", "How do I reverse a list?"),  # hedges
        ("I don't know how to centre a div", "How do I centre a div?"),
        ("No worries, but how do I exit vim?", "How do I exit vim?"),
        ("Neither Python nor Java", "Not Python or Java"),
        ("sugar-free cookies", "cookies without sugar"),
    ],
)
def test_negations_agree(a: str, b: str) -> None:
    assert both_ways(a, b, only("negations")) == (None, None)


# --- entities --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ("convert 100 USD to EUR", "convert 100 EUR to USD", "entities differ: USD→EUR vs EUR→USD"),
        (
            "What is the capital of France?",
            "What is the capital of Germany?",
            "entities differ: France vs Germany",
        ),
        (
            "write a hello world in python",
            "write a hello world in java",
            "entities differ: Python vs Java",
        ),
        (
            "Paris hotels near the river",
            "hotels in Lyon near the river",
            "entities differ: Paris vs Lyon",
        ),
        (
            "Should a Python developer learn Java?",
            "Should a Java developer learn Python?",
            "entities differ: Python→Java vs Java→Python",
        ),
        (
            "symptoms of vitamin D deficiency",
            "symptoms of vitamin C deficiency",
            "entities differ: D vs C",
        ),
        (
            "How do I install it on Windows?",
            "How do I install it on macOS?",
            "entities differ: Windows vs macOS",
        ),
        (
            "Explain the causes of World War I",
            "Explain the causes of World War II",
            "entities differ: none vs II",
        ),
        ("convert 5 miles to km", "convert 5 miles to feet", "units differ: km vs ft"),
    ],
)
def test_entities_conflict(a: str, b: str, reason: str) -> None:
    assert conflict(a, b, only("entities")) == reason


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("What's the capital of France?", "what is the capital of france"),  # case, contraction
        ("Paris: best museums?", "best museums in paris"),  # a known name at a sentence start
        ("Compare Python and Java", "Compare Java and Python"),  # joined by "and": unordered
        (
            "Do I need a visa for Canada as a UK citizen?",
            "As a UK citizen, do I need a visa for Canada?",
        ),
        ("What is the GDP of Japan?", "Japan's GDP?"),
        ("Convert 100 USD to EUR", "How much is $100 in euros?"),
        ("How much should I tip in the United States?", "Normal tip in the US?"),
        (
            "Write A Blog Post About Remote Work",
            "write a blog post about remote work",
        ),  # title case
        ("WHAT IS THE BOILING POINT OF WATER?", "What's the boiling point of water?"),  # shouting
        ("How do I change my Wi-Fi password?", "Change the password of my WiFi"),
        ("Explain the Pythagorean theorem", "What is Pythagoras' theorem?"),
        (
            "How do I convert a string to an int in Java?",
            "In Java, how do I turn a String into an int?",
        ),
    ],
)
def test_entities_agree(a: str, b: str) -> None:
    assert both_ways(a, b, only("entities")) == (None, None)


# --- opposites -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        ("sort ascending", "sort descending", "opposites differ: 'ascending' vs 'descending'"),
        (
            "How do I encrypt a file?",
            "How do I decrypt a file?",
            "opposites differ: 'encrypt' vs 'decrypt'",
        ),
        ("max of a list", "minimum of a list", "opposites differ: 'max' vs 'minimum'"),
        ("What is 2+2?", "What is 2*2?", "opposites differ: 'plus' vs 'times'"),
        (
            "How do I turn on dark mode?",
            "How do I turn off dark mode?",
            "opposites differ: 'turn on' vs 'turn off'",
        ),
        (
            "convert to uppercase",
            "convert to lower case",
            "opposites differ: 'uppercase' vs 'lower case'",
        ),
        ("at least 5 items", "at most 5 items", "opposites differ: 'at least' vs 'at most'"),
    ],
)
def test_opposites_conflict(a: str, b: str, reason: str) -> None:
    assert conflict(a, b, only("opposites")) == reason


def test_opposites_agree() -> None:
    checks = only("opposites")
    assert (
        conflict("Sort the list in ascending order", "sort the list", checks) is None
    )  # one side only
    assert conflict("find the min and max", "find the max and min", checks) is None
    assert conflict("What is 2+2?", "What is two plus two?", checks) is None
    assert (
        conflict("turn off dark mode on my phone", "disable dark mode on my phone", checks) is None
    )


# --- direction (under the opposites switch) -------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "reason"),
    [
        (
            "convert a list to a string",
            "convert a string to a list",
            "direction differs: list to string vs string to list",
        ),
        (
            "Is a dog heavier than a cat?",
            "Is a cat heavier than a dog?",
            "direction differs: dog than cat vs cat than dog",
        ),
        (
            "Replace tabs with spaces",
            "Replace spaces with tabs",
            "direction differs: tab with space vs space with tab",
        ),
        (
            "How many cups are in a gallon?",
            "How many gallons are in a cup?",
            "direction differs: cup in gallon vs gallon in cup",
        ),
    ],
)
def test_direction_conflict(a: str, b: str, reason: str) -> None:
    assert conflict(a, b, only("opposites")) == reason


def test_direction_agree() -> None:
    checks = only("opposites")
    assert conflict("turn a list into a string", "convert list to string", checks) is None
    assert conflict("I want to learn Python", "I'd like to learn Python", checks) is None
    assert conflict("what to eat before a run", "a good meal before running", checks) is None


# --- switches, reasons, speed ----------------------------------------------------------------


SWITCHED = [
    ("numbers", "Convert 100 USD to EUR", "Convert 200 USD to EUR"),
    ("quoted", 'Translate "cat"', 'Translate "dog"'),
    ("negations", "recipes with mushrooms", "recipes without mushrooms"),
    ("entities", "capital of France", "capital of Germany"),
    ("opposites", "sort ascending", "sort descending"),
    ("opposites", "convert a list to a string", "convert a string to a list"),
]


@pytest.mark.parametrize(("name", "a", "b"), SWITCHED)
def test_each_check_can_be_turned_off(name: str, a: str, b: str) -> None:
    assert conflict(a, b) is not None
    assert conflict(a, b, only(name)) is not None
    assert conflict(a, b, GuardChecks(**{name: False})) is None
    assert conflict(a, b, NONE) is None


def test_the_switches_are_the_documented_five() -> None:
    # gateway/statements/llm_semantic_cache_lookup.py builds GuardChecks from these names.
    assert [f.name for f in fields(GuardChecks)] == [
        "numbers",
        "quoted",
        "negations",
        "entities",
        "opposites",
    ]


def test_identical_and_empty_prompts() -> None:
    for text in ("", "   ", "Convert 100 USD to EUR", "¿Dónde está la estación?", "```\ncode\n```"):
        assert conflict(text, text) is None


def test_reasons_are_short() -> None:
    many = " ".join(f"item {n}" for n in range(200))
    other = " ".join(f"item {n}" for n in range(1, 201))
    names = " ".join(["Paris London Tokyo Berlin Madrid Rome Vienna Prague Oslo Lisbon"] * 5)
    quotes = " ".join(f'"{"x" * 80} {n}"' for n in range(10))
    for a, b in [
        (many, other),
        (names, "none here"),
        (quotes, "nothing quoted"),
        ("x" * 500, "'" + "y" * 500 + "'"),
    ]:
        reason = conflict(a, b)
        assert reason and len(reason) <= MAX_REASON, reason


def test_time_is_linear_in_length() -> None:
    words = "The quick brown Fox from Paris jumps over 3 lazy dogs, not 4, to 'Berlin' before noon.".split()
    for size in (200, 20_000):
        text = " ".join(words[n % len(words)] for n in range(size))
        start = time.perf_counter()
        conflict(text, text + " again")
        per_word = (time.perf_counter() - start) / size
        assert per_word < 0.0002, f"{per_word * 1e6:.0f} µs per word at {size} words"

    # 4,000 different names on each side, all of one stem: the name check must stay linear.
    def names(first: str) -> str:
        letters = "abcdefghijklmnopqrst"
        return " ".join(
            f"we saw Stemm{''.join(c)}" for c in itertools.product(first, letters, letters)
        )

    distinct_names, others = names("abcdefghij"), names("klmnopqrst")
    for pathological in (
        "'a " * 20_000,
        '"x ' * 20_000,
        "```" + "y " * 20_000,
        "- " * 20_000,
        distinct_names,
    ):
        start = time.perf_counter()
        conflict(pathological, others)
        assert time.perf_counter() - start < 5


# --- the labelled pair set -------------------------------------------------------------------


def test_pair_set_shape() -> None:
    labels = Counter(p["label"] for p in PAIRS)
    kinds = Counter(p["kind"] for p in NEAR_MISSES)
    assert len(PAIRS) >= 160
    assert labels["paraphrase"] >= 70 and labels["near-miss"] >= 70 and labels["unrelated"] >= 20
    assert set(labels) == {"paraphrase", "near-miss", "unrelated"}
    assert set(kinds) == set(CATCHERS) and min(kinds.values()) >= 10
    pairs = [frozenset((p["a"], p["b"])) for p in PAIRS]
    assert len(pairs) == len(set(pairs)), "duplicate pairs"
    assert all(p["a"] != p["b"] and p["a"].strip() and p["b"].strip() for p in PAIRS)
    assert len({p["kind"] for p in PARAPHRASES}) >= 8  # varied domains


@pytest.mark.parametrize("pair", NEAR_MISSES, ids=lambda p: f"{p['kind']}:{p['a'][:40]}")
def test_every_near_miss_is_caught(pair: dict[str, str]) -> None:
    a, b = pair["a"], pair["b"]
    assert all(both_ways(a, b)), f"missed {pair}"
    # ...and by a check meant for its kind, not by luck.
    assert all(both_ways(a, b, only(*CATCHERS[pair["kind"]]))), f"missed by its own check: {pair}"


def test_paraphrases_pass() -> None:
    blocked = [
        (p["a"], p["b"], reason)
        for p in PARAPHRASES
        for reason in [conflict(p["a"], p["b"]) or conflict(p["b"], p["a"])]
        if reason
    ]
    for a, b, reason in blocked:
        print(f"blocked paraphrase: {a!r} / {b!r}: {reason}")
    passed = 1 - len(blocked) / len(PARAPHRASES)
    print(
        f"paraphrases passed: {len(PARAPHRASES) - len(blocked)}/{len(PARAPHRASES)} ({passed:.1%})"
    )
    assert passed >= 0.95
