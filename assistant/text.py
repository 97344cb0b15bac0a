"""Dutch text helpers shared by every stage: normalising, tokenising with stemming, and the one
number parser (`parse_numbers`), which tells a figure from a year and from a label such as
"beroepsniveau 2" or "55-plussers" using the word lists of the language file.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH

if TYPE_CHECKING:
    from .lexicon import Lexicon

STOPWORDS_BASE = frozenset(STOPWORDS_DUTCH)
_WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)
_stemmer = Stemmer.Stemmer("dutch")

_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?(?![\d])")
YEAR = re.compile(r"\b(19[5-9]\d|20[0-9]\d)\b")
_AFTER = re.compile(r"\s*(%|[a-zà-ÿ€-]+(?:\s+[a-zà-ÿ]+)?)?", re.IGNORECASE)


def normalize(text: str) -> str:
    """NFC, typographic quotes to plain, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(normalize(text))]


def tokens(text: str, stopwords: frozenset[str] = STOPWORDS_BASE, compounds: bool = True) -> list[str]:
    """Stemmed tokens for BM25: stopwords out; a hyphenated word also yields its parts
    (and itself too unless `compounds` is False)."""
    out: list[str] = []
    for w in words(text):
        parts = ([w] if compounds or "-" not in w else []) + (w.split("-") if "-" in w else [])
        for p in parts:
            if p and p not in stopwords and (len(p) > 1 or p.isdigit()):
                out.append(stem(p))
    return out


def content_terms(text: str, stopwords: frozenset[str] = STOPWORDS_BASE) -> set[str]:
    """Stemmed content words of a text (numbers excluded, hyphenated words as their parts)."""
    return {t for t in tokens(text, stopwords, compounds=False) if not t.isdigit()}


def years(text: str) -> set[int]:
    return {int(y) for y in YEAR.findall(text)}


# ------------------------------------------------------------------ numbers

NumberKind = Literal["count", "percent", "amount"]


@dataclass(frozen=True)
class NumberMention:
    """A number in a text: its value, what kind of figure it is, and whether it is a year or a label."""

    raw: str  # as written, with its unit ("12.500", "71,4%", "12,5 duizend")
    value: float
    start: int
    end: int
    kind: NumberKind = "count"
    year: bool = False
    label: bool = False  # "beroepsniveau 2", "55-plussers", "27 jaar", "31 oktober"

    @property
    def figure(self) -> bool:
        """A stated figure: not a year, not a label."""
        return not self.year and not self.label

    @property
    def canonical(self) -> str:
        """ "12.500" -> "12500", "71,4%" -> "71.4%", "12,5 duizend" -> "12500" (what numeric checks compare)."""
        text = f"{self.value:f}".rstrip("0").rstrip(".")
        return text + ("%" if self.kind == "percent" else "")


def parse_numbers(text: str, lexicon: "Lexicon") -> list[NumberMention]:
    """Every number of a text, with Dutch formatting (12.500; 71,4%; 12,5 duizend; 3x) and the
    language file's label, scale and unit words."""
    words_cfg, periods = lexicon.data.numbers, lexicon.data.periods
    label_before = set(words_cfg.label_before)
    label_after = set(words_cfg.label_after) | {m for m in periods.months} | set(periods.month_abbreviations)
    percent, amount, scales = set(words_cfg.percent), set(words_cfg.amount), words_cfg.scales
    out: list[NumberMention] = []
    ages = set(words_cfg.age_words)
    age_before = re.compile(r"(?:^|\s)(?:" + "|".join(re.escape(w) for w in words_cfg.age_before) + r")\s*$", re.I)
    spelled = _spelled(words_cfg.words)
    for w in spelled.finditer(text):  # "vijf jaar", "bijna de helft": numbers written as words
        key = w.group(0).lower()
        share = key.startswith(("de ", "een ")) or key == "driekwart"
        out.append(
            NumberMention(w.group(0), float(words_cfg.words[key]), w.start(), w.end(), "percent" if share else "count")
        )
    ratios = [(r.start(), r.end(), r) for r in _RATIO.finditer(text)]
    for start, end, r in ratios:  # "6 op de 10": a share
        a, b = float(r.group(1)), float(r.group(2))
        if b:
            out.append(NumberMention(r.group(0), a * 100 / b, start, end, "percent"))
    for m in _NUMBER.finditer(text):
        if any(start <= m.start() < end for start, end, _ in ratios):
            continue
        whole, decimals = m.group(1), m.group(2)
        value = float(whole.replace(".", "") + (f".{decimals}" if decimals else ""))
        end = m.end()
        after = _AFTER.match(text, end)
        follow = (after.group(1) or "").lower() if after else ""
        first = follow.split()[0] if follow else ""
        kind: NumberKind = "count"
        if follow.startswith("%") or first in percent:
            kind = "percent"
            end = after.start(1) + (1 if follow.startswith("%") else len(first))
        elif first in scales:
            value *= scales[first]
            end = after.start(1) + len(first)
        before = text[max(0, m.start() - 30) : m.start()]
        prev_word = re.findall(r"([\w€]+)[\s-]*$", before)
        prev = prev_word[0].lower() if prev_word else ""
        if prev in amount or before.rstrip().endswith("€"):
            kind = "amount"
        is_year = (
            decimals is None and "." not in whole and len(whole) == 4 and 1950 <= value <= 2099 and kind == "count"
        )
        age = first in ages and age_before.search(text[max(0, m.start() - 20) : m.start()]) is not None
        label = not is_year and (
            prev in label_before
            or first.lstrip("-") in label_after
            or age
            or _range_before_label(text, end, label_after | ages)
            or (bool(out) and out[-1].label and _JOINED.fullmatch(text[out[-1].end : m.start()]) is not None)
        )
        out.append(NumberMention(text[m.start() : end], value, m.start(), end, kind, is_year, bool(label)))
    return sorted(out, key=lambda n: n.start)


@lru_cache(maxsize=8)
def _spelled_cached(key: tuple) -> re.Pattern:
    alternatives = sorted((w for w, _ in key), key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(w) for w in alternatives) + r")(?![\w-])", re.I)


def _spelled(words: dict[str, float]) -> re.Pattern:
    return _spelled_cached(tuple(sorted(words.items())))


_RATIO = re.compile(r"(?<![\w.,])(\d+) op (?:de )?(\d+)(?![\d.,])")
_JOINED = re.compile(r"\s*(?:en|of|tot|t/m|-|–|,)\s*")  # "beroepsniveau 1 en 2": the second is a label too


_RANGE_TAIL = re.compile(r"\s*(?:tot(?: en met)?|t/m|en|-|–)\s*\d+\s*(\w+)", re.IGNORECASE)


def _range_before_label(text: str, end: int, label_after: set[str]) -> bool:
    """The first number of "15 tot 75 jaar", "tussen 15 en 27 jaar": a label like the second."""
    m = _RANGE_TAIL.match(text, end)
    return bool(m and m.group(1).lower() in label_after)


def numbers(text: str, lexicon: "Lexicon | None" = None) -> set[str]:
    """Numbers in canonical form, as the numeric checks compare them (labels and years included).

    Without a lexicon only digits are read: "12.500" -> "12500", "71,4%" -> "71.4%".
    """
    if lexicon is not None:
        return {n.canonical for n in parse_numbers(text, lexicon)}
    found, plain = set(), normalize(text)
    for m in _NUMBER.finditer(plain):
        value = m.group(1).replace(".", "") + (f".{m.group(2)}" if m.group(2) else "")
        percent = re.match(r"\s*(?:%|procent\b)", plain[m.end() :]) is not None
        found.add(value + ("%" if percent else ""))
    return found


def has_figure(text: str, lexicon: "Lexicon") -> bool:
    """A stated figure: a number that is neither a year nor a label."""
    return any(n.figure for n in parse_numbers(text, lexicon))
