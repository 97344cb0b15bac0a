"""Dutch text helpers shared by retrieval, the composer, the guard and the evals:
tokenising with stemming, stopwords, and number/year extraction with Dutch formatting.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH

# Question words and fillers that say nothing about the subject of a question.
_EXTRA_STOPWORDS = {
    "welk",
    "welke",
    "wanneer",
    "waar",
    "waarom",
    "hoeveel",
    "hoeveelheid",
    "waardoor",
    "waarmee",
    "wat",
    "hoe",
    "eigenlijk",
    "precies",
    "ongeveer",
    "volgens",
    "rapport",
    "regio",
    "beeld",
    "bron",
    "bronnen",
    "graag",
    "kun",
    "kunt",
    "jij",
    "jou",
    "jouw",
    "jullie",
    "we",
    "wij",
    "onze",
    "zijn",
    "gaan",
    "gaat",
    "worden",
    "wordt",
    "zullen",
    "zou",
    "zouden",
    "hebben",
    "heeft",
    "had",
    "waren",
    "was",
    "is",
    "er",
    "nou",
    "even",
    "mij",
    "ik",
    "daarvan",
    "hiervan",
    "daarbij",
    "welk",
    "dan",
    "dus",
    "nog",
    "al",
    "ook",
    "veel",
    "meer",
    "minder",
    "groot",
    "grootte",
    "aantal",
    "aandeel",
    "procent",
    "percentage",
    "de",
    "het",
    "een",
    "zo",
    "bij",
    "sinds",
    "via",
    "per",
    "wel",
    "weer",
    "eens",
    "staan",
    "stonden",
    "staat",
    "komen",
    "komt",
    "kom",
    "zit",
    "zitten",
    # adverbs and fillers that carry no subject
    "vooral",
    "meestal",
    "inmiddels",
    "momenteel",
    "tegenwoordig",
    "huidige",
    "huidig",
    "nu",
    "zeer",
    "erg",
    "heel",
    "echt",
    "vaak",
    "soms",
    "alleen",
    "daarna",
    "daarvoor",
    "vervolgens",
    "juist",
    "eerder",
    "later",
    "vlak",
    "weleens",
    "ooit",
    "tussen",
    "daarmee",
    "eind",
    "begin",
    "medio",
    "halverwege",
    "waarbij",
    "welke",
    "scoort",
    "hierover",
    "daarover",
    "zoal",
    "zoals",
    "bijvoorbeeld",
    "mensen",
    "welk",
    "soort",
    "the",
    "what",
    "is",
    "of",
    "in",
    "how",
    "many",
    "does",
    "do",
    "a",
    "an",
    "and",
    "to",
    "for",
}
STOPWORDS = frozenset(STOPWORDS_DUTCH) | _EXTRA_STOPWORDS
_WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)
_stemmer = Stemmer.Stemmer("dutch")

NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?(\s*(?:%|procent\b))?")
YEAR = re.compile(r"\b(19[5-9]\d|20[0-9]\d)\b")


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


def tokens(text: str, compounds: bool = True) -> list[str]:
    """Stemmed tokens for BM25: stopwords out; a hyphenated word also yields its parts
    (and itself too unless `compounds` is False)."""
    out: list[str] = []
    for w in words(text):
        parts = ([w] if compounds or "-" not in w else []) + (w.split("-") if "-" in w else [])
        for p in parts:
            if p and p not in STOPWORDS and (len(p) > 1 or p.isdigit()):
                out.append(stem(p))
    return out


def content_terms(text: str) -> set[str]:
    """Stemmed content words of a text (numbers excluded, hyphenated words as their parts)."""
    return {t for t in tokens(text, compounds=False) if not t.isdigit()}


def numbers(text: str) -> set[str]:
    """Numbers in canonical form: thousands dots removed, decimal comma kept as '.', '%' kept.

    "12.500" -> "12500", "71,4%" and "71,4 procent" -> "71.4%", "2025" -> "2025".
    """
    found = set()
    for m in NUMBER.finditer(normalize(text)):
        whole = m.group(1).replace(".", "")
        value = whole + (f".{m.group(2)}" if m.group(2) else "")
        found.add(value + ("%" if m.group(3) else ""))
    return found


def years(text: str) -> set[int]:
    return {int(y) for y in YEAR.findall(text)}


def has_figure(text: str) -> bool:
    """A number other than a year."""
    return bool(numbers(text) - {str(y) for y in years(text)})
