"""Inverse document frequency of terms over the indexed passages, and IDF-weighted term coverage
with partial credit for Dutch compounds: how much of what a question asks a sentence mentions.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Iterable

from .text import stem

PARTIAL = 0.7
COMPOUND_PART = 0.5
_MIN_PREFIX = 5


class TermWeights:
    """Inverse document frequency of stemmed terms over the indexed chunks.

    A term the corpus never uses gets the highest weight: a question that hinges on it
    cannot be answered from these sources. Built from each passage's tokens (synonyms folded).
    """

    def __init__(self, token_lists: Iterable[list[str]], aliases: dict[str, str] | None = None):
        """`aliases` maps a word's stem to its synonym group's token, so that a compound's head is
        recognised when the corpus writes the head as a synonym ("defensievacatures": vacatures)."""
        self.aliases = aliases or {}
        lists = list(token_lists)
        self.n = max(len(lists), 1)
        self.df = Counter(t for toks in lists for t in set(toks))
        self.unknown = math.log(self.n + 1) + 1.0
        self._splits: dict[str, tuple[str, str] | None] = {}

    @classmethod
    def from_counts(cls, n: int, df: dict[str, int], aliases: dict[str, str] | None = None) -> "TermWeights":
        """The same weights from stored statistics: `n` passages and each term's document frequency."""
        weights = cls([], aliases)
        weights.n = max(n, 1)
        weights.df = Counter(df)
        weights.unknown = math.log(weights.n + 1) + 1.0
        return weights

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return self.unknown if df == 0 else math.log((self.n + 1) / (df + 0.5))

    def coverage(self, wanted: Iterable[str], present: set[str] | frozenset[str]) -> float:
        """IDF-weighted share of `wanted` terms found in `present` (1.0 for no wanted terms),
        with partial credit from `match_strength`."""
        total = sum(self.idf(t) for t in wanted)
        if total == 0:
            return 1.0
        return sum(self.idf(t) * self.match_strength(t, present) for t in wanted) / total

    def match_strength(self, term: str, present: set[str] | frozenset[str]) -> float:
        """1 for an exact match. Dutch compounds rarely match exactly, so PARTIAL when the
        two share a long prefix (60% of the term, at least 5 letters) or one is a 5+ letter
        head of the other ("installatiebedrijf" ~ "installatietechniek"), and COMPOUND_PART
        when the term splits into two corpus words and either part is present
        ("bouwsector" ~ "bouw", "zorgberoep" ~ "beroep")."""
        if term in present:
            return 1.0
        if len(term) < _MIN_PREFIX or term.isdigit():
            return 0.0
        head = term[: max(_MIN_PREFIX, math.ceil(0.6 * len(term)))]
        for other in present:
            if other.startswith(head) or (len(other) >= _MIN_PREFIX and term.startswith(other)):
                return PARTIAL
        parts = self.split_compound(term)
        if parts and any(p in present for p in parts):
            return COMPOUND_PART
        return 0.0

    def split_compound(self, term: str) -> tuple[str, str] | None:
        """Split a compound into two words the corpus knows (linking -s- / -en- allowed)."""
        if term in self._splits:
            return self._splits[term]
        found = None
        for i in range(len(term) - 3, 2, -1):
            left, right = term[:i], term[i:]
            for link in ("", "s", "en"):
                if link and not left.endswith(link):
                    continue
                base = left[: len(left) - len(link)] if link else left
                head = stem(right)
                head = head if head in self.df else self.aliases.get(head, head)
                if len(base) >= 3 and (base in self.df or base in self.aliases) and head in self.df:
                    found = (self.aliases.get(base, base), head)
                    break
            if found:
                break
        self._splits[term] = found
        return found
