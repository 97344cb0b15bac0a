"""Places in questions and source sentences, from the language file's gazetteer, and how an asked
place relates to a stated one.

A bare name with several readings ("Groningen": the labour-market region, the province, the city)
belongs to a group and fits every place of that group. "onze regio" and "bij ons" name the home
region, "de provincie" the home province; those words count only in questions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import normalize
from .types import Place


@dataclass(frozen=True)
class PlaceMention:
    place: Place
    start: int
    end: int


class Gazetteer:
    def __init__(self, data):  # lexicon.Places
        self.places = {p.name: Place(p.name, p.kind, p.group) for p in data.place}
        self.home = self.places[data.home]
        self.country = self.places.get(data.country)
        self._parts = {p.name: set(p.parts) for p in data.place}
        aliases = {normalize(a).lower(): p.name for p in data.place for a in (*p.aliases, p.name)}
        question = {normalize(a).lower(): data.home for a in data.home_aliases}
        question.update({normalize(a).lower(): n for a, n in data.question_aliases.items()})
        self._aliases, self._question_aliases = aliases, question
        self._source = _pattern(aliases)
        self._question = _pattern(question)

    def find(self, text: str, question: bool = False) -> list[PlaceMention]:
        """Places named in `text`, in order; `question` adds the words that are relative to the asker
        ("onze regio", "de provincie"), where they do not overlap a place named outright
        ("de provincie Drenthe" is Drenthe)."""
        named = [
            PlaceMention(self.places[self._aliases[m.group(0).lower()]], m.start(), m.end())
            for m in self._source.finditer(text)
        ]
        if not question:
            return named
        relative = [
            PlaceMention(self.places[self._question_aliases[m.group(0).lower()]], m.start(), m.end())
            for m in self._question.finditer(text)
            if all(m.end() <= n.start or m.start() >= n.end for n in named)
        ]
        return sorted(named + relative, key=lambda m: m.start)

    def get(self, name: str) -> Place | None:
        return self.places.get(name)

    def reading(self, place: Place, kind: str) -> Place:
        """The reading of a bare name that is of `kind` ("Groningen" in a column "gemeente": the
        municipality), else the place itself."""
        if place.kind != "ambiguous":
            return place
        return next((p for p in self.places.values() if p.group == place.group and p.kind == kind), place)

    def contains(self, whole: str, part: str, _seen: frozenset = frozenset()) -> bool:
        """`part` lies within `whole` (through the gazetteer's parts, at any depth)."""
        parts = self._parts.get(whole, set())
        if part in parts:
            return True
        return any(self.contains(p, part, _seen | {whole}) for p in parts if p not in _seen)

    def _all_parts(self, name: str, _seen: frozenset = frozenset()) -> set[str]:
        parts = self._parts.get(name, set())
        return parts.union(*(self._all_parts(p, _seen | {name}) for p in parts if p not in _seen))

    def nearness(self, asked: Place, stated: Place) -> int:
        """How well a figure for `stated` stands in for `asked`, said as the nearest: 3 one lies within
        the other, 2 they share a part (Drenthe and the Groningen region share Noord-Drenthe), 1 `stated`
        is the home country and `asked` a place inside it (no country or union itself), 0 not at all."""
        if self.relation(asked, stated) >= 0.5:
            return 3
        if self._all_parts(asked.name) & ({stated.name} | self._all_parts(stated.name)):
            return 2
        return int(stated == self.country and asked.kind not in ("country", "union"))

    def relation(self, asked: Place | None, stated: Place | None) -> float:
        """1 the same place, 0.9 a bare name of its group, 0.5 one lies within the other, -1 another
        place, 0 when either is unknown."""
        if asked is None or stated is None:
            return 0.0
        if asked.name == stated.name:
            return 1.0
        if asked.group and asked.group == stated.group and "ambiguous" in (asked.kind, stated.kind):
            return 0.9  # a bare "Groningen" fits, a little less than the place named exactly
        if self.contains(asked.name, stated.name) or self.contains(stated.name, asked.name):
            return 0.5
        if asked.group and asked.group == stated.group:
            return 0.5
        return -1.0


def _pattern(aliases: dict[str, str]) -> re.Pattern:
    alternatives = sorted(aliases, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(a) for a in alternatives) + r")(?![\w-])", re.IGNORECASE)


__all__ = ["Gazetteer", "PlaceMention"]
