"""Fact guard for the semantic cache: refuse a hit when two similar prompts differ in a fact.

Small embedders cannot tell "convert 100 USD to EUR" from "convert 100 EUR to USD": the shipped
MiniLM scores the pair at cosine 0.98, and static word-vector models, blind to word order, at 1.0.
`conflict(cached, asked)` names the first fact the two prompts differ in, or returns None. Pure,
dependency-free, microseconds, linear in prompt length. It leans one way on purpose: a false
conflict costs a cache miss, a missed one a wrong completion.

- quoted: "...", '...', curly quotes, backticks; a multiset, case-sensitive. A quote the other
  prompt has unquoted (whole words, any case) still matches.
- numbers: digits ("1,000" = "1000", "5.0" = "5", "10k", "3rd") and number words ("two hundred
  and five", "a dozen"), with the unit after ("5 km" = "five kilometres", "a pound" = "1 lb") or
  the name before ("Python 3"). Values agree as a multiset; units where both prompts give one;
  numbers of one unit keep their order ("2 adults and 3 children", "from 100 to 200") while
  numbers of different units may move ("10 years at 7%" = "7% for 10 years"). A lone "one"
  counts only if the other prompt has a 1 ("which one is better").
- negations: the count of cues (not, no, never, n't, without, except, -free, non-, ...); a cue
  before a hedge is not one ("I'm not sure how", "I don't know how to", "no worries").
- entities: listed names (countries, cities, languages, currencies, programming languages, days)
  in any case, capitalised words that do not start a sentence, CAPS and camelCase. Each must be
  in the other prompt, in any case ("Japan" ~ "Japanese"). Names in one clause keep their order
  (USD→EUR vs EUR→USD) unless joined by and/or/vs; "Japan's GDP" is "GDP of Japan"; clauses
  may move ("As a UK citizen, do I need a visa for Canada?"). Conversion units ("to miles") too.
- opposites: listed poles (ascending/descending, encrypt/decrypt, plus/minus, ...) that differ;
  and, under the same switch, a swapped direction: the words around to/into/than/over/from/
  with/in/before/after/then swapped ("list to string" vs "string to list", "dog heavier than
  cat" vs "cat heavier than dog").

Limits: English only (other languages get the number and quote checks). Facts that change
without a tell-tale word pass: lower-case common nouns ("dogs" vs "cats", "rice" vs "chicken").
No synonyms beyond the lists ("half" != "50%"); a negated idiom blocks a paraphrase ("sights I
should not miss"); versions are numbers ("3.10" = "3.1"). Pair it with a strict threshold.
"""

from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, fields
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from gateway.caching import guard_words as W

MAX_REASON = 120


@dataclass(frozen=True, slots=True)
class GuardChecks:
    numbers: bool = True
    quoted: bool = True
    negations: bool = True
    entities: bool = True
    opposites: bool = True  # also the swapped direction: "list to string" vs "string to list"


def conflict(cached: str, asked: str, checks: GuardChecks = GuardChecks()) -> str | None:
    """Why the completion cached for `cached` cannot serve `asked`, or None when nothing differs."""
    a, b = _facts(cached), _facts(asked)
    for name, check in _CHECKS:
        if getattr(checks, name) and (reason := check(a, b)):
            return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 3] + "..."
    return None


class _Tok(NamedTuple):
    kind: str  # num, word, sym, stop, comma, dash
    text: str  # surface form without a contraction ("France" for "France's")
    low: str  # lower case ("do" for "don't")
    initial: bool  # starts a sentence, line, bullet or quotation
    joined: bool  # no space before it
    nt: bool = False  # ended in "n't"
    poss: bool = False  # ended in "'s" or "s'"


class _Facts(NamedTuple):
    quoted: tuple[str, ...]
    unquoted: str  # lower case, quoted spans removed
    numbers: tuple[tuple[str, str, bool], ...]  # value, unit, soft
    negations: tuple[str, ...]
    names: dict[str, str]  # key -> display
    stems: dict[str, list[str]]  # first five letters -> names, for "Japan" ~ "Japanese"
    keys: frozenset[str]  # every token's key, to find a name written in any case
    stream: tuple[tuple[str, int, bool], ...]  # key, 0 other/1 name/2 and-or/3 break, possessive
    units: frozenset[str]  # units in a conversion, not bound to a number
    poles: dict[int, dict[int, str]]  # opposite group -> {pole: surface}
    links: frozenset[tuple[str, str, str]]  # (left, link, right)


_TOKEN = re.compile(  # words first: they are most tokens, and the engine tries in order
    r"(?P<word>(?i:c\+\+|[cf]#|w/o)|[^\W\d_]+(?:['\u2019.-][^\W\d_]+)*)"
    r"|(?P<num>(?:(?<![\w.)\]])[-\u2212](?=\.?\d))?(?:\d+(?:[.,]\d+)*|\.\d+))"
    r"(?P<suf>(?:bn|[kKMB]|st|nd|rd|th)(?![^\W\d_]))?"
    r"|(?P<stop>[.!?;:\n])|(?P<comma>,)"
    r"|(?P<sym>->|°[CFcf]?|[$€£¥%+\u00d7÷*/^=→&])|(?P<dash>[-\u2013\u2014])"
)
_QUOTED = re.compile(
    r"(?s:```(.+?)```)|`([^`\n]+)`|\"([^\"\n]+)\"|“([^”\n]+)”"
    r"|(?<!\w)\u2018((?:[^\u2019\n]|(?<=\w)\u2019(?=\w))+?)\u2019(?!\w)"
    r"|(?<!\w)'((?:[^'\n]|(?<=\w)'(?=\w))+?)'(?!\w)"
)
_NEW = tuple.__new__
_OPENERS = set("\"“”\u2018'`(*•#>[")  # a word after one of these starts a sentence of its own
_MULTIPLIERS = {"k": 1_000, "K": 1_000, "M": 1_000_000, "B": 10**9, "bn": 10**9}
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_CAMEL = re.compile(r"[a-z][A-Z]")  # iPhone, JavaScript, macOS


def _facts(text: str) -> _Facts:
    # The cached side of a lookup is analysed again and again; long prompts are not kept.
    return _memo(text) if len(text) <= 2000 else _analyse(text)


def _analyse(text: str) -> _Facts:
    toks = _tokens(text)
    numbers, used = _numbers(toks)
    names, stream, units = _entities(toks, used)
    quoted = (" ".join(next(g for g in m.groups() if g).split()) for m in _QUOTED.finditer(text))
    stems: dict[str, list[str]] = defaultdict(list)
    for key in names:
        stems[key[:5]].append(key)
    return _Facts(
        tuple(quoted), _QUOTED.sub("\0", text).lower(), tuple(numbers), tuple(_negations(toks)),
        names, dict(stems), frozenset(k for k, _, _ in stream), tuple(stream), frozenset(units),
        _opposites(toks), frozenset(_links(toks)),
    )  # fmt: skip


_memo = lru_cache(maxsize=1024)(_analyse)


def _tokens(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    end, initial = 0, True
    for m in _TOKEN.finditer(text):
        gap = text[end : m.start()]
        kind = "num" if m.lastgroup == "suf" else m.lastgroup or ""
        initial = initial or (gap not in ("", " ") and not _OPENERS.isdisjoint(gap))
        surface, low = m.group(), m.group().lower().replace("\u2019", "'")
        nt = poss = False
        if kind == "word" and low.endswith("n't"):
            low, surface, nt = low[:-3], surface[:-3], True
        elif kind == "word" and low.endswith(W.SUFFIXES):
            cut = low.rindex("'")
            low, surface, poss = low[:cut], surface[:cut], low.endswith("'s")
        poss = poss or (kind == "word" and text.startswith("'", m.end()) and low[-1] == "s")
        parts = low.split("-") if "-" in low else ()
        if parts and any(p in W.NUMBER_WORDS for p in parts):  # "twenty-five", "five-day"
            for k, part in enumerate(parts):
                if k:
                    toks.append(_Tok("dash", "-", "-", False, True))
                toks.append(
                    _Tok("word", part, part, initial and not k, bool(k) or (not gap and bool(toks)))
                )
        else:
            # tuple.__new__ skips NamedTuple's Python-level __new__: a third of the time here
            toks.append(_NEW(_Tok, (kind, surface, low, initial, not gap and bool(toks), nt, poss)))
        # A bullet or a number that starts a line passes the sentence start on to the next word.
        initial = kind == "stop" or (initial and kind in ("dash", "sym", "num"))
        end = m.end()
    return toks


def _numbers(toks: list[_Tok]) -> tuple[list[tuple[str, str, bool]], set[int]]:
    """(value, unit, soft) in order, and the indexes of the tokens they were read from."""
    out: list[tuple[str, str, bool]] = []
    used: set[int] = set()
    i, n = 0, len(toks)
    while i < n:
        t, start, soft = toks[i], i, False
        nxt = toks[i + 1].low if i + 1 < n else ""
        if t.kind == "num":
            values, i = _digits(t.text), i + 1
            if nxt in W.SCALES and len(values) == 1:  # "2.5 million"
                values, i = [values[0] * W.SCALES[nxt]], i + 1
        elif t.low in ("a", "an") and nxt in W.UNITS:  # "a pound", "once a day"
            values, i, soft = [Decimal(1)], i + 1, True
        elif t.kind == "word" and (
            t.low in W.NUMBER_WORDS
            or t.low in W.SCALES
            or (t.low in ("a", "an") and nxt in ("dozen", *W.SCALES))
        ):
            value, i = _number_words(toks, i)
            values, soft = [value], (i - start == 1 and t.low == "one")
        else:
            i += 1
            continue
        unit, i = _bound_unit(toks, i)
        if not unit and start and _named(toks[start - 1]):
            unit = "@" + toks[start - 1].low  # a version or a model: "Python 3", "Windows 11"
        used.update(range(start, i))
        out.extend((_format(v), unit, soft) for v in values)
    return out, used


def _digits(text: str) -> list[Decimal]:
    body = text.lstrip("-\u2212")
    sign, suffix = (-1 if body != text else 1), ""
    while not body[-1].isdigit():
        body, suffix = body[:-1], body[-1] + suffix
    if _THOUSANDS.fullmatch(body):
        parts = [body.replace(",", "")]
    elif body.count(".") > 1:  # a version or an address: one value per part
        parts = body.replace(",", ".").split(".")
    else:
        parts = body.split(",")  # "1,2,3" is a list
    return [sign * Decimal(p) * _MULTIPLIERS.get(suffix, 1) for p in parts if p]


def _number_words(toks: list[_Tok], i: int) -> tuple[Decimal, int]:
    """Read "two hundred and fifty-three" from toks[i]; return the value and the next index."""
    total = current = 0
    if toks[i].low in ("a", "an"):  # "a hundred", "a dozen"
        current, i = 1, i + 1
    while i < len(toks):
        w, nxt = toks[i].low, toks[i + 1].low if i + 1 < len(toks) else ""
        if w in ("and", "-") and nxt in W.NUMBER_WORDS and current:
            pass  # "two hundred and five", "twenty-five"
        elif w in W.NUMBER_WORDS and toks[i].kind == "word":
            current += W.NUMBER_WORDS[w]
            if w in W.ORDINALS:
                return Decimal(total + current), i + 1
        elif w in ("hundred", "dozen"):
            current = max(current, 1) * (100 if w == "hundred" else 12)
        elif w in W.SCALES:
            total, current = total + max(current, 1) * W.SCALES[w], 0
        else:
            break
        i += 1
    return Decimal(total + current), i


def _bound_unit(toks: list[_Tok], i: int) -> tuple[str, int]:
    """The unit right after a number ("5 km", "3-day", "100 degrees Celsius", "15 per cent")."""
    j, n = i, len(toks)
    if j + 1 < n and toks[j].kind == "dash" and toks[j].joined and toks[j + 1].joined:
        j += 1
    degrees = j < n and toks[j].low in ("degree", "degrees", "°")
    j += degrees
    if j >= n or toks[j].kind not in ("word", "sym"):
        return ("°", j) if degrees else ("", i)
    if j + 1 < n and toks[j].low == "per" and toks[j + 1].low == "cent":
        return "%", j + 2
    unit = W.UNITS.get(toks[j].low) or ("%" if toks[j].low in ("%", "percent", "pct") else "")
    return (unit, j + 1) if unit else (("°", j) if degrees else ("", i))


def _named(t: _Tok) -> bool:
    """A word that names something: "Python", "PEP", "iPhone", "War" mid-sentence."""
    if t.kind != "word" or t.low in W.STOP:
        return False
    known = t.low in W.ENTITIES and t.low not in W.AMBIGUOUS
    return known or (t.text != t.low and not (t.initial and t.text[0].isupper()))


def _format(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def _negations(toks: list[_Tok]) -> list[str]:
    cues: list[str] = []
    for i, t in enumerate(toks):
        negative = (
            t.nt or t.low in W.NEGATIONS or t.low.endswith("-free") or t.low.startswith("non-")
        )
        if t.kind != "word" or not negative:
            continue
        j = i + 1
        while j < len(toks) and toks[j].low in ("really", "quite", "entirely", "totally", "be"):
            j += 1
        if j < len(toks) and toks[j].low in (*W.HEDGES, "only"):
            continue  # "not sure", "don't know how", "no worries", "not only"
        cues.append(t.text.lower() + ("n't" if t.nt else ""))
    if "neither" in cues:  # "neither X nor Y" is one negation, like "not X or Y"
        cues = [c for c in cues if c != "nor"]
    return cues


def _entities(
    toks: list[_Tok], used: set[int]
) -> tuple[dict[str, str], list[tuple[str, int, bool]], set[str]]:
    """Names found ({key: display}), the token stream for order and presence, free units."""
    words = [t for t in toks if t.kind == "word" and len(t.text) > 1]
    shouting = len(words) >= 3 and sum(t.text.isupper() for t in words) >= 0.7 * len(words)
    title = len(words) >= 4 and sum(t.text[0].isupper() for t in words) >= 0.7 * len(words)
    names: dict[str, str] = {}
    stream: list[tuple[str, int, bool]] = []
    units: set[str] = set()
    prev = ""  # the previous word other than an article, for units in a conversion
    i, n = 0, len(toks)
    while i < n:
        t, width = toks[i], 1
        key, display, flag = t.low.replace("-", ""), t.text, 0
        if i in used:
            key = ""
        elif t.kind in ("stop", "comma"):
            flag = 3
        elif t.low in ("and", "or", "vs", "versus", "&", "between"):
            flag = 2
        elif t.kind == "sym" and t.text in W.ENTITIES:  # $ € £ ¥
            display = W.ENTITIES[t.text]
            key, flag = display.lower(), 1
        elif t.kind == "word":
            pair = f"{t.low} {toks[i + 1].low}" if i + 1 < n else ""
            width = 2 if pair in W.ENTITIES else 1
            alias = W.ENTITIES.get(pair if width == 2 else t.low)
            upper = t.text.isupper() and len(t.text) > 1 and not shouting
            capital = t.text[0].isupper() and not t.initial
            how_many = prev in ("many", "much") and pair.partition(" ")[2] in W.HOW_MANY
            if alias and (t.low not in W.AMBIGUOUS or width == 2 or upper or capital):
                key, display, flag = alias.lower(), alias, 1
            elif t.low in W.UNITS and (prev in W.CONVERSION or how_many):
                units.add(W.UNITS[t.low])  # "... to miles", "how many cups is 200 g"
            elif t.low in W.STOP or t.low in W.NUMBER_WORDS or t.low in W.AMBIGUOUS:
                pass
            elif upper or _CAMEL.search(t.text):
                flag = 1
            elif capital and not (title or shouting):
                # A single capital letter is a name only when it stands alone ("vitamin C").
                alone = len(t.text) > 1 or not (t.joined or (i + 1 < n and toks[i + 1].joined))
                flag = int(alone and t.text not in ("I", "A"))
            if t.low not in ("a", "an", "the"):
                prev = t.low
        if flag == 1:
            names.setdefault(key, display)
        stream.append((key, flag, toks[i + width - 1].poss))
        i += width
    return names, stream, units


def _opposites(toks: list[_Tok]) -> dict[int, dict[int, str]]:
    lows = [
        W.OPERATORS.get(t.low, t.low)
        if 0 < i < len(toks) - 1 and toks[i - 1].kind == toks[i + 1].kind == "num"
        else t.low
        for i, t in enumerate(toks)
    ]
    found: dict[int, dict[int, str]] = defaultdict(dict)
    i = 0
    while i < len(lows):
        pair = f"{lows[i]} {lows[i + 1]}" if i + 1 < len(lows) else ""
        phrase = pair if pair in W.POLES else lows[i]  # "turn off", "lower case"
        for group, pole in W.POLES.get(phrase, ()):
            found[group].setdefault(pole, phrase)
        i += 2 if phrase == pair else 1
    return dict(found)


def _stem(word: str) -> str:
    """Crude: "strings" and "string", "merged" and "merge" meet; nothing more is needed here."""
    for suffix, shortest in (("ing", 4), ("ed", 4), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= shortest and word[-2:] != "ss":
            return word[: -len(suffix)]
    return word


def _links(toks: list[_Tok]) -> set[tuple[str, str, str]]:
    """(left, link, right) around each link word: up to two content words left, one right."""
    items: list[tuple[str, str]] = []  # ("c", stem) content, ("l", link), ("b", "") break, other
    for i, t in enumerate(toks):
        if t.low in W.LINKS or (t.low == "of" and i and toks[i - 1].low == "instead"):
            items.append(("l", W.LINK_NAMES.get(t.low, t.low)))
        elif t.kind == "stop":
            items.append(("b", ""))
        elif t.kind == "word" and len(t.low) > 1 and t.low not in W.STOP:
            items.append(("c", _stem(t.low)))
        else:
            items.append(("", ""))
    pairs: set[tuple[str, str, str]] = set()
    for k, (kind, link) in enumerate(items):
        if kind != "l":
            continue
        sides: list[list[str]] = [[], []]
        for side, span, limit in ((0, range(k - 1, k - 5, -1), 2), (1, range(k + 1, k + 4), 1)):
            for j in span:
                if (
                    not 0 <= j < len(items)
                    or items[j][0] in ("l", "b")
                    or len(sides[side]) == limit
                ):
                    break
                if items[j][0] == "c":
                    sides[side].append(items[j][1])
        pairs.update((x, link, y) for x in sides[0] for y in sides[1] if x != y)
    return pairs


def _show(items: list[str] | tuple[str, ...], quote: bool = False) -> str:
    shown = [(f"'{s[:30]}'" if quote else s[:30]) for s in items[:3]]
    return (", ".join(shown) + ("..." if len(items) > 3 else "")) if items else "none"


def _check_quoted(a: _Facts, b: _Facts) -> str | None:
    ca, cb = Counter(a.quoted), Counter(b.quoted)
    only_a = [q for q in ca - cb if not _unquoted_in(b, q)]
    only_b = [q for q in cb - ca if not _unquoted_in(a, q)]
    if only_a or only_b:
        return f"quoted text differs: {_show(only_a, True)} vs {_show(only_b, True)}"
    return None


def _unquoted_in(facts: _Facts, quote: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(quote.lower())}(?!\w)", facts.unquoted) is not None


def _check_numbers(a: _Facts, b: _Facts) -> str | None:
    va, vb = _kept(a.numbers, b.numbers), _kept(b.numbers, a.numbers)
    ca, cb = Counter(v for v, _ in va), Counter(v for v, _ in vb)
    if ca != cb:
        return _differ(_extra(va, cb), _extra(vb, ca))
    for value in ca:  # a unit may be left out, but "5 km" is not "5 mi"
        ua, ub = ({u for v, u in side if v == value and u} for side in (va, vb))
        if ua and ub and ua != ub:
            return _differ([(value, min(ua))], [(value, min(ub))])
    for unit in {u for _, u in va}:  # numbers of one unit keep their order
        sa, sb = ([n for n in side if n[1] == unit] for side in (va, vb))
        if sa != sb and Counter(sa) == Counter(sb):
            return _differ(sa, sb)
    return None


def _extra(numbers: list[tuple[str, str]], other: Counter[str]) -> list[tuple[str, str]]:
    """The numbers, in order, that the other prompt's values do not account for."""
    left, out = Counter(other), []
    for number in numbers:
        if left[number[0]]:
            left[number[0]] -= 1
        else:
            out.append(number)
    return out


def _differ(sa: list[tuple[str, str]], sb: list[tuple[str, str]]) -> str:
    return f"numbers differ: {_show([_unit(*n) for n in sa])} vs {_show([_unit(*n) for n in sb])}"


def _kept(mine: tuple[tuple[str, str, bool], ...], other: tuple) -> list[tuple[str, str]]:
    """The numbers that count: a soft "one" only where the other prompt has a 1."""
    other_has_one = any(v == "1" for v, _, _ in other)
    return [(v, u) for v, u, soft in mine if not soft or other_has_one]


def _unit(value: str, unit: str) -> str:
    if unit.startswith("@"):
        return f"{unit[1:]} {value}"
    return value + unit if unit in ("", "%", "°", "°C", "°F") else f"{value} {unit}"


def _check_negations(a: _Facts, b: _Facts) -> str | None:
    if len(a.negations) == len(b.negations):
        return None
    return f"negation differs: {_show(a.negations, True)} vs {_show(b.negations, True)}"


def _check_entities(a: _Facts, b: _Facts) -> str | None:
    only_a = [d for k, d in a.names.items() if not _has_name(b, k)]
    only_b = [d for k, d in b.names.items() if not _has_name(a, k)]
    if only_a or only_b:
        return f"entities differ: {_show(only_a)} vs {_show(only_b)}"
    names = a.names | b.names
    pb = _ordered(b.stream, names)
    for x, y in sorted(_ordered(a.stream, names)):
        if (y, x) in pb:
            return f"entities differ: {names[x]}→{names[y]} vs {names[y]}→{names[x]}"
    if a.units != b.units:
        return f"units differ: {_show(sorted(a.units))} vs {_show(sorted(b.units))}"
    return None


def _has_name(facts: _Facts, key: str) -> bool:
    """The name is in the prompt in any case, or a name of the same stem is ("Japanese")."""
    if key in facts.keys:
        return True
    for other in facts.stems.get(key[:5], [])[:8] if len(key) >= 5 else ():  # bounded work
        common = len(os.path.commonprefix([key, other]))  # noqa: RUF071 - words, not paths
        if common >= 5 and common >= 0.8 * min(len(key), len(other)):
            return True
    return False


def _ordered(stream: tuple[tuple[str, int, bool], ...], names: dict) -> set[tuple[str, str]]:
    """Names that follow each other in one clause, not joined by and/or/vs: their order counts."""
    pairs: set[tuple[str, str]] = set()
    last, last_poss, joined = "", False, False
    for key, flag, poss in stream:
        if flag == 3:
            last = ""
        elif flag == 2:
            joined = True
        elif key in names:
            if last and not joined and last != key:
                pairs.add((key, last) if last_poss else (last, key))  # "Japan's GDP" = GDP of Japan
            last, last_poss, joined = key, poss, False
    return {(x, y) for x, y in pairs if (y, x) not in pairs}


def _check_opposites(a: _Facts, b: _Facts) -> str | None:
    pa, pb = a.poles, b.poles
    for group in sorted(pa.keys() & pb.keys()):
        if pa[group].keys() != pb[group].keys():
            only_a = [w for p, w in pa[group].items() if p not in pb[group]]
            only_b = [w for p, w in pb[group].items() if p not in pa[group]]
            return f"opposites differ: {_show(only_a, True)} vs {_show(only_b, True)}"
    return None


def _check_direction(a: _Facts, b: _Facts) -> str | None:
    for x, link, y in sorted(a.links):
        if (y, link, x) in b.links and (y, link, x) not in a.links and (x, link, y) not in b.links:
            return f"direction differs: {x} {link} {y} vs {y} {link} {x}"
    return None


# The switch for each check, in GuardChecks' order. A swapped direction is an opposite told by
# word order rather than by a word (import/export, upload/download), so one switch serves both.
_CHECKS = [(f.name, globals()[f"_check_{f.name}"]) for f in fields(GuardChecks)]
_CHECKS.append(("opposites", _check_direction))
