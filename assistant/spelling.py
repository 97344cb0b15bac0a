"""Typing errors in questions: a word the sources never use is read as the source word one edit
away ("vactures" -> "vacatures", "industire" -> "industrie"), so that retrieval and the measure
match see what the advisor meant. Only words of seven letters or more, and only when one such
word exists among the sources' words (the most frequent wins); a word that differs only in its
ending ("lastiger" / "lastige", "volgend" / "volgens") is another form, not a typing error; and
no word of the language file is ever changed.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

_WORD = re.compile(r"[a-zà-ÿ]{7,}")


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _edit_in_ending(a: str, b: str) -> bool:
    """The words differ only in their last two letters: another ending ("volgend" / "volgens"), not a typo."""
    return a[:-2] == b[:-2] or a[:-1] == b[:-2] or a[:-2] == b[:-1]


def _one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (one insertion, deletion, substitution or swap)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


class Speller:
    def __init__(self, words: Iterable[str], keep: Iterable[str] = (), counts: dict[str, int] | None = None):
        """`words` of the sources, or their `counts` (word -> occurrences) as the passage folder stores them."""
        self.counts = Counter(w for w in words if _WORD.fullmatch(w))
        if counts:
            self.counts.update({w: c for w, c in counts.items() if _WORD.fullmatch(w)})
        self.keep = set(keep)
        self._index: dict[str, list[str]] = {}
        for w in self.counts:
            for d in _deletions(w) | {w}:
                self._index.setdefault(d, []).append(w)

    def suggest(self, word: str) -> str | None:
        if word in self.counts or word in self.keep or not _WORD.fullmatch(word):
            return None
        found = {
            c
            for d in _deletions(word) | {word}
            for c in self._index.get(d, ())
            if _one_edit(word, c) and not (c.startswith(word) or word.startswith(c)) and not _edit_in_ending(word, c)
        }
        return max(found, key=lambda c: (self.counts[c], c)) if found else None

    def correct(self, text: str) -> str:
        """`text` with every unknown word replaced by its one-edit source word, case kept at the start."""

        def fix(m: re.Match) -> str:
            word = m.group(0)
            better = self.suggest(word.lower())
            if better is None:
                return word
            return better.capitalize() if word[:1].isupper() else better

        return re.sub(r"[A-Za-zÀ-ÿ]+", fix, text)


__all__ = ["Speller"]
