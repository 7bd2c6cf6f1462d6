"""The shipped int8 all-MiniLM-L6-v2 against the fp32 model.

reference_fp32.npz holds the texts and vectors that tools/convert_minilm.py computed with a
float64 forward pass over the original fp32 safetensors (exact erf GELU, tail truncation as
MiniLM). That reference was itself checked once against sentence-transformers 6.2.0 + torch
2.13.0 on the same files: max absolute difference 2.7e-7 on every text under 256 tokens.
ST_PAIRS below are cosines that sentence-transformers produced for those pairs.
"""

from __future__ import annotations

import socket
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from gateway.embeddings import MiniLM

HERE = Path(__file__).parent

# (a, b, cosine from sentence-transformers with the fp32 model)
ST_PARAPHRASES = [
    ("How do I reset my password?", "What are the steps to change my password?", 0.8228),
    ("What is the capital of France?", "Which city is the capital of France?", 0.9416),
    (
        "Summarize this article in three sentences.",
        "Give me a three-sentence summary of this article.",
        0.8887,
    ),
    (
        "How do I reverse a string in Python?",
        "What's the way to reverse a string in Python?",
        0.9891,
    ),
    ("What's the weather like in Tokyo today?", "How is the weather in Tokyo today?", 0.9700),
]
ST_UNRELATED = [
    ("How do I reset my password?", "What is the capital of France?", 0.0747),
    (
        "Summarize this article in three sentences.",
        "What's the weather like in Tokyo today?",
        0.1037,
    ),
    ("How do I reverse a string in Python?", "Is it safe to take ibuprofen with alcohol?", 0.0114),
    ("Translate hello to French", "Convert 100 USD to EUR", 0.1621),
    ("Sort this list in ascending order", "Which city is the capital of France?", 0.0653),
]
# Look alike, need different answers: no embedder separates these (see the design notes).
ST_HARD_NEGATIVES = [
    ("Translate hello to French", "Translate hello to German", 0.7610),
    ("Convert 100 USD to EUR", "Convert 100 EUR to USD", 0.9801),
    ("What is the capital of France?", "What is the capital of Germany?", 0.6632),
    ("Sort this list in ascending order", "Sort this list in descending order", 0.9471),
    (
        "Is it safe to take ibuprofen with alcohol?",
        "Is it safe to take ibuprofen without alcohol?",
        0.9564,
    ),
]


@pytest.fixture(scope="module")
def model() -> MiniLM:
    return MiniLM.load()


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_identity(model: MiniLM) -> None:
    assert model.name == "minilm-l6-v2-int8"
    assert model.dimension == 384


def test_vectors_are_unit_norm_float32_384(model: MiniLM) -> None:
    for text in ["How do I reset my password?", "", "北京", "😀" * 3]:
        v = model.embed(text)
        assert v.dtype == np.float32
        assert v.shape == (384,)
        assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-5
        assert np.isfinite(v).all()


def test_deterministic_and_batch_consistent(model: MiniLM) -> None:
    texts = ["first prompt", "a somewhat longer second prompt about caching", "", "third"]
    a = model.embed(texts[1])
    assert np.array_equal(a, model.embed(texts[1]))
    many = model.embed_many(texts)
    assert many.shape == (4, 384) and many.dtype == np.float32
    # Batches pad to the longest text; padding must not change any vector beyond rounding.
    for row, text in zip(many, texts, strict=True):
        assert np.abs(row - model.embed(text)).max() < 1e-5
    assert np.array_equal(many, model.embed_many(texts))


def test_embed_many_edge_cases(model: MiniLM) -> None:
    assert model.embed_many([]).shape == (0, 384)
    with pytest.raises(TypeError):
        model.embed_many("not a list")  # type: ignore[arg-type]


def test_int8_matches_fp32_reference(model: MiniLM) -> None:
    ref = np.load(HERE / "reference_fp32.npz")
    texts = [str(t) for t in ref["texts"]]
    got = model.embed_many(texts)
    cosines = (got * ref["vectors"]).sum(axis=1)
    worst = int(cosines.argmin())
    assert cosines.min() >= 0.9995, (texts[worst][:40], float(cosines[worst]))


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    ST_PARAPHRASES + ST_UNRELATED + ST_HARD_NEGATIVES,
    ids=[f"{kind}{i}" for kind in ("para", "unrel", "hard") for i in range(5)],
)
def test_cosines_match_sentence_transformers(
    model: MiniLM, a: str, b: str, expected: float
) -> None:
    assert cosine(model.embed(a), model.embed(b)) == pytest.approx(expected, abs=0.003)


def test_paraphrases_score_far_above_unrelated(model: MiniLM) -> None:
    para = [cosine(model.embed(a), model.embed(b)) for a, b, _ in ST_PARAPHRASES]
    unrelated = [cosine(model.embed(a), model.embed(b)) for a, b, _ in ST_UNRELATED]
    assert min(para) > 0.8
    assert max(unrelated) < 0.2
    assert min(para) - max(unrelated) > 0.6


def long_prompt(head: str, tail: str) -> str:
    context = " ".join(
        f"Paragraph {i} of the shared {head} context says nothing new." for i in range(80)
    )
    return f"{context}\n\nQuestion: {tail}"


def test_long_text_is_embedded_from_its_tail(model: MiniLM) -> None:
    a = long_prompt("policy", "How do I reset my password?")
    b = long_prompt("policy", "What is the capital of France?")
    assert len(model.tokenizer.encode(a)) > 600
    ids = model.token_ids(a)
    assert len(ids) == 256
    assert ids[0] == model.tokenizer.cls_id and ids[-1] == model.tokenizer.sep_id
    assert ids[1:-1] == model.tokenizer.encode(a)[-254:]
    # Same long head, different questions at the end: different vectors.
    assert cosine(model.embed(a), model.embed(b)) < 0.95
    # Different heads beyond the 254-wordpiece window, same tail: the very same vector.
    c = "An entirely different opening sentence. " * 50 + a
    assert np.array_equal(model.embed(a), model.embed(c))


def test_loads_offline_from_package_data(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("MiniLM.load tried to open a socket")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    MiniLM.load().embed("offline")
    data = resources.files("gateway.embeddings").joinpath("data")
    for name in ("minilm-l6-v2-int8.npz", "vocab.txt", "LICENSE", "NOTICE"):
        assert data.joinpath(name).is_file(), name
    assert "Apache License" in data.joinpath("LICENSE").read_text(encoding="utf-8")
