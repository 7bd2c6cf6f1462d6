"""How often the shipped embedder plus the near-miss guard serve the right answer.

The labelled pairs (tests/data/semantic_pairs.jsonl) are paraphrases (should hit), near
misses that differ in one number, entity, negation, direction, opposite or quoted text
(must not hit) and unrelated prompts (must not hit). A pair "hits" when the distance of its
two prompts' embeddings (1 - cosine, APIM's score) is at most the threshold and the guard
finds no differing fact, exactly as `llm-semantic-cache-lookup` decides.

    pytest tests/caching/test_semantic_quality.py -s     # prints the table in the README
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np

from gateway.caching.guard import conflict

PAIRS = Path(__file__).resolve().parent.parent / "data" / "semantic_pairs.jsonl"
THRESHOLDS = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30)
RECOMMENDED = 0.20  # docs/caching.md and the README recommend it for the shipped embedder


@cache
def measured() -> tuple[list[dict[str, str]], np.ndarray, list[bool]]:
    """The pairs, their distances and whether the guard lets each through (computed once)."""
    from gateway.embeddings.minilm import MiniLM

    pairs = [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line]
    model = MiniLM.load()
    texts = sorted({p["a"] for p in pairs} | {p["b"] for p in pairs})
    vectors = dict(zip(texts, model.embed_many(texts), strict=True))
    distances = np.array([1.0 - float(vectors[p["a"]] @ vectors[p["b"]]) for p in pairs])
    allowed = [conflict(p["a"], p["b"]) is None for p in pairs]
    return pairs, distances, allowed


def rates(threshold: float, guarded: bool) -> dict[str, float]:
    pairs, distances, allowed = measured()
    found: dict[str, list[bool]] = {"paraphrase": [], "near-miss": [], "unrelated": []}
    for pair, distance, passes in zip(pairs, distances, allowed, strict=True):
        found[pair["label"]].append(bool(distance <= threshold and (passes or not guarded)))
    return {label: sum(hits) / len(hits) for label, hits in found.items()}


def test_the_pair_set_is_large_and_balanced() -> None:
    pairs, _, _ = measured()
    labels = [p["label"] for p in pairs]
    assert len(pairs) >= 100
    assert labels.count("paraphrase") >= 70 and labels.count("near-miss") >= 70
    kinds = {p["kind"] for p in pairs if p["label"] == "near-miss"}
    assert kinds == {"number", "entity", "negation", "direction", "opposite", "quoted"}


def test_the_recommended_threshold_serves_paraphrases_and_no_near_miss() -> None:
    print(
        "\n| score-threshold | paraphrases hit | near misses hit (no guard) | "
        "near misses hit (guard) | unrelated hit |"
    )
    print("| ---: | ---: | ---: | ---: | ---: |")
    for threshold in THRESHOLDS:
        guarded, bare = rates(threshold, True), rates(threshold, False)
        print(
            f"| {threshold:.2f} | {guarded['paraphrase']:.0%} | {bare['near-miss']:.0%} | "
            f"{guarded['near-miss']:.0%} | {guarded['unrelated']:.0%} |"
        )
    chosen, unguarded = rates(RECOMMENDED, True), rates(RECOMMENDED, False)
    assert chosen["near-miss"] == 0.0 and chosen["unrelated"] == 0.0
    assert unguarded["near-miss"] > 0.5  # what the guard is for: the embedder alone fails
    assert chosen["paraphrase"] >= 0.6
