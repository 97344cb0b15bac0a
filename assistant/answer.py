"""Extractive answer composer: picks the source sentences that answer the question and
cites each one. No sentence is written that a passage does not contain verbatim, so
every number in an answer stands in the passage it cites.

Sentence score = dense similarity to the question + IDF-weighted coverage of the
question's terms (sentence, plus a smaller share for its section heading) + the
passage's retrieval rank + question signals (a number when a quantity is asked, the
asked year, definition sections) - penalties (captions, source lines, fragments).
Selection is greedy: the best sentence first (the key figure), then sentences that
cover asked-for terms not yet covered, plus the bullet items a chosen "...:" sentence
introduces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .backends import Embedder
from .chunking import split_sentences
from .question import QuestionAnalysis, TermWeights
from .settings import AnswerSettings
from .text import content_terms, numbers, years
from .types import Hit

_BULLET = re.compile(r"^[◼•▪●]\s*")
_FORECAST_SENTENCE = re.compile(
    r"\bverwacht\w*|\bnaar verwachting\b|\bprognose\w*|\braming\w*|\bvoorspel\w*|\b(?:zal|zullen)\b|\bgroeiverwachting\w*|\bkomende jaren\b|\bde komende\b|\btot (?:en met )?20\d\d\b|\bvanaf 20\d\d\b",
    re.IGNORECASE,
)
_NOISE = re.compile(r"^(Afbeelding|Tabel|Figuur)\s+\d|^(Bron|Nb|\*)\s*:")


@dataclass
class Candidate:
    text: str
    hit_index: int  # index into the hits list
    position: int  # sentence index within its passage
    terms: set[str]
    score: float = 0.0
    coverage: float = 0.0
    dense: float = 0.0
    forecast: bool = False

    @property
    def clean(self) -> str:
        return _BULLET.sub("", self.text)


@dataclass
class Composition:
    sentences: list[Candidate] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)  # all, best first

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None


class Generator(Protocol):
    """Chooses the sentences of an answer from retrieved passages.

    `compose` returns the selected sentences (each a verbatim span of one hit's text)
    in answer order, plus every scored candidate for the guard. It never invents text.
    """

    def compose(self, q: QuestionAnalysis, question_vector: np.ndarray, hits: list[Hit], prefer_forecast: bool | None = None) -> Composition: ...


def is_forecast_sentence(text: str, data_year: int) -> bool:
    return bool(_FORECAST_SENTENCE.search(text)) or any(y > data_year for y in years(text))


class ExtractiveGenerator:
    def __init__(self, embedder: Embedder, weights: TermWeights, settings: AnswerSettings, data_year: int):
        self.embedder = embedder
        self.weights = weights
        self.settings = settings
        self.data_year = data_year

    def candidates(self, q: QuestionAnalysis, question_vector: np.ndarray, hits: list[Hit]) -> list[Candidate]:
        cands: list[Candidate] = []
        for hi, hit in enumerate(hits[: self.settings.context_passages]):
            section_terms = content_terms(hit.chunk.section)
            for si, sentence in enumerate(split_sentences(hit.chunk.text)):
                if len(sentence) < 12:
                    continue
                c = Candidate(sentence, hi, si, content_terms(sentence))
                c.forecast = is_forecast_sentence(sentence, self.data_year)
                own = self.weights.coverage(q.terms, c.terms)
                with_section = self.weights.coverage(q.terms, c.terms | section_terms)
                c.coverage = max(own, 0.5 * own + 0.5 * with_section)
                c.score = 0.0
                c._section_terms = section_terms  # type: ignore[attr-defined]
                cands.append(c)
        if not cands:
            return []
        vectors = self.embedder.embed_passages([c.text for c in cands])
        sims = vectors @ question_vector
        for c, sim in zip(cands, sims):
            c.dense = float(sim)
            hit_rank_prior = 1.0 / (1 + 0.3 * c.hit_index)
            c.score = 2.0 * c.dense + 1.2 * c.coverage + 0.25 * hit_rank_prior
            has_number = bool(numbers(c.clean) - {str(y) for y in years(c.clean)})
            if q.asks_quantity:
                c.score += 0.25 if has_number else -0.1
            if q.years:
                c.score += 0.2 if q.years & years(c.text) else -0.05
            if q.asks_definition and "Begrippen" in hits[c.hit_index].chunk.section:
                c.score += 0.3
            if _NOISE.search(c.text):
                c.score -= 0.6
            if len(c.text.split()) < 5:
                c.score -= 0.3
        return sorted(cands, key=lambda c: -c.score)

    def compose(self, q: QuestionAnalysis, question_vector: np.ndarray, hits: list[Hit], prefer_forecast: bool | None = None) -> Composition:
        cands = self.candidates(q, question_vector, hits)
        if prefer_forecast is not None:
            for c in cands:
                if c.forecast == prefer_forecast:
                    c.score += 0.3
            cands.sort(key=lambda c: -c.score)
        comp = Composition(candidates=cands)
        if not cands:
            return comp
        chosen = [cands[0]]
        covered = set(cands[0].terms)
        budget = self.settings.max_words
        words_used = len(cands[0].clean.split())
        chosen += self._list_items(cands[0], hits, cands)
        for c in cands[1:]:
            if len(chosen) >= self.settings.max_sentences or words_used >= budget:
                break
            if any(c.text == x.text for x in chosen):
                continue
            gain = self.weights.coverage(q.terms - covered, c.terms) if q.terms - covered else 0.0
            n_words = len(c.clean.split())
            if c.score >= cands[0].score - 0.35 and (gain >= 0.2 or c.score >= cands[0].score - 0.12) and words_used + n_words <= budget * 1.25:
                chosen.append(c)
                covered |= c.terms
                words_used += n_words
                chosen += self._list_items(c, hits, cands)
        comp.sentences = chosen
        return comp

    def _list_items(self, c: Candidate, hits: list[Hit], cands: list[Candidate]) -> list[Candidate]:
        """A sentence that introduces a list ("...: ") brings the bullet items that follow it."""
        if not c.text.rstrip().endswith(":"):
            return []
        items = []
        sentences = split_sentences(hits[c.hit_index].chunk.text)
        previous_was_bullet = True
        for i in range(c.position + 1, min(len(sentences), c.position + 13)):
            if _BULLET.match(sentences[i]):
                items.append(Candidate(sentences[i], c.hit_index, i, content_terms(sentences[i])))
                previous_was_bullet = True
            elif previous_was_bullet:
                previous_was_bullet = False  # an item's explanation; the list may go on
            else:
                break
        return items
