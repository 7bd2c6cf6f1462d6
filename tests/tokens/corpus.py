"""The texts both counters are compared on (with tiktoken, the oracle, and with each other):
prose, code, JSON, unicode of many scripts, emoji, long runs of whitespace and of one letter,
IDs, special tokens' text and random mixtures."""

from __future__ import annotations

import json
import random

from tests.conftest import REPO

NAMES = ["o200k_base", "cl100k_base"]
PROSE = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
CODE = (REPO / "gateway" / "tokens" / "tokenizer.py").read_text(encoding="utf-8")


def corpus() -> list[str]:
    rng = random.Random(16)
    alphabet = [*"abcXYZ 0129.,;:!?'\"-_/\\()[]{}<>@#$%^&*=+|~`\n\r\t", "  ", "\n\n", "\r\n"]
    alphabet += [*"éüßſÅﬁ", "e\u0301", "\u200b", "\u00a0", "\u3000", "ǅ", "ʰ", "٣", "Ⅻ"]
    alphabet += [*"中文日本語한국어русскийΕλληνικάעבריתالعربيةहिन्दीไทย", "😀", "👍🏽", "🇫🇷"]
    alphabet += ["don't ", "'s", "'RE", "'Ll", "I'M ", "1,000.50", "0x1F", "<|endoftext|>"]
    texts = [PROSE[i : i + 2000] for i in range(0, 40_000, 2000)]
    texts += [
        CODE,
        json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": CODE}]}),
    ]
    texts += [
        "",
        " ",
        " " * 5000,  # one long piece: merged through the heap
        "\n" * 300 + "x",
        "\t \t \n  \r\n   " * 100,
        "a" * 3000,
        "中文文本没有空格" * 400,  # letters without spaces: one long piece
        "😀" * 500,
        " ".join(f"{rng.getrandbits(128):032x}" for _ in range(200)),  # IDs
        "\ud800 a lone surrogate \udfff",  # replaced as tiktoken replaces it
        "<|endoftext|><|endofprompt|> special tokens' text, counted as text",
        "Ünïcödé façade naïve café — \u201cquotes\u201d \u2018single\u2019 … «guillemets»",
    ]
    for _ in range(400):
        texts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 300))))
    return texts
