"""The verifier: every sentence a language model writes is checked against the passages it cites
before an advisor sees it. A sentence that fails is dropped; the reasons go into the trace.

    check = Verifier(lexicon, weights, params).check(GeneratedSentence("… 11.600 vacatures … [1]", (1,)), passages)
    check.ok, check.reasons, check.quote      # the quote is the passage's own sentence, never the model's text

A sentence passes when
- it cites at least one passage, and only passages that exist;
- every figure it states (read as the sources are read: "12.500" = "12500" = "12,5 duizend",
  "71,4%" = "71,4 procent") stands in a cited passage, in a sentence about the same measure
  (the figure's fact in that sentence shares a term with the clause of the generated sentence
  that states it), and every year it names stands in a cited passage;
- the best sentence of the cited passages covers enough of its content words (IDF-weighted
  coverage, threshold calibrated on the hand-labelled sentences of evals/verifier_set (evals/measure_verifier.py),
  kept in params/verifier.json); an optional `SupportJudge` (for example an NLI model) may veto;
- forecast words appear only where the supporting sentence states a forecast;
- it states something: a question (often the advisor's own, repeated) is dropped;
- no number sits, word for word, where the sentence it was written from has another number
  (figures swapped between measures, a label changed);
- it gives no advice or opinion of its own (the language file's `verifier.advice` phrases) that
  the supporting sentence does not give.

The quote of a kept sentence is the supporting sentence of the passage, chosen deterministically
(highest coverage, then figure agreement, then position), so a citation never carries text the
model typed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING

from .idf import TermWeights
from .lexicon import Lexicon
from .text import parse_numbers, years
from .types import EvidenceItem, EvidencePassage, GeneratedSentence, SentenceCheck

if TYPE_CHECKING:
    from .evaluation.judge import SupportJudge

VERIFIER_FILE = "verifier.json"
_CLAUSE = re.compile(r"[,;:()]|\s(?:en|maar|terwijl|waarvan|waarmee|tegenover)\s", re.IGNORECASE)
_FIGURE_TOLERANCE = 1e-6
_WORD = re.compile(r"\w+")
_CLOSERS = "\"')]”’» "


@dataclass(frozen=True)
class VerifierParams:
    """The support threshold and where it comes from (params/verifier.json)."""

    support_at: float = 0.6
    fitted_on: str = ""
    created: str = ""
    measured: dict | None = None

    @classmethod
    def load(cls, params_dir: Path) -> "VerifierParams":
        path = params_dir / VERIFIER_FILE
        if not path.exists():
            return cls()
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(float(data["support_at"]), data.get("fitted_on", ""), data.get("created", ""), data.get("measured"))


class Verifier:
    def __init__(
        self,
        lexicon: Lexicon,
        weights: TermWeights,
        params: VerifierParams | None = None,
        judge: "SupportJudge | None" = None,
    ):
        self.lexicon, self.weights = lexicon, weights
        self.params = params or VerifierParams()
        self.judge = judge
        self.forecast = lexicon.phrases("forecast.words")
        self.advice = lexicon.phrases("verifier.advice")

    # ------------------------------------------------------------------ one sentence

    def check(self, sentence: GeneratedSentence, passages: list[EvidencePassage]) -> SentenceCheck:
        reasons: list[str] = []
        by_n = {p.n: p for p in passages}
        unknown = [n for n in sentence.passages if n not in by_n]
        if not sentence.passages:
            reasons.append("cites no passage")
        if sentence.text.rstrip().rstrip(_CLOSERS).endswith("?"):
            reasons.append("asks a question instead of stating what the passage says")
        if unknown:
            reasons.append(f"cites passage(s) {unknown} that were not given")
        cited = [by_n[n] for n in sentence.passages if n in by_n]
        items = [item for p in cited for item in p.items]
        if not items:
            return SentenceCheck(sentence.text, sentence.passages, False, reasons or ["cited passages are empty"])

        terms = self.content_terms(sentence.text)
        mentions = parse_numbers(sentence.text, self.lexicon)
        figures = [n for n in mentions if n.figure]
        labels = [n for n in mentions if n.label and not n.year]  # "25- tot 45-jarigen", "beroepsniveau 2"
        figure_hits = {id(item): 0 for item in items}
        stated = {id(item): parse_numbers(item.text, self.lexicon) for item in items} if mentions else {}
        for n in labels:
            if not any(abs(m.value - n.value) < 1e-9 for item in items for m in stated[id(item)]):
                reasons.append(f"number {n.raw} is in no cited passage")
        previous_end = 0
        for n in figures:
            clause = self.content_terms(_clause_of(sentence.text, n.start)) or terms
            # the words right before a figure since the one before it say what it counts ("geopolitiek (37%)")
            local = self.content_terms(sentence.text[previous_end : n.start]) & clause
            previous_end = n.end
            stating = [item for item in items if _states(stated[id(item)], n.value, n.kind)]
            if not stating:
                reasons.append(f"figure {n.raw} is in no cited passage")
                continue
            attached = [item for item in stating if self._same_measure(item, n.value, clause, local)]
            if not attached:
                reasons.append(f"figure {n.raw} stands in a cited passage, but about another measure")
            for item in attached or stating:
                figure_hits[id(item)] += 1
        if mentions:
            for raw, source in _misplaced(sentence.text, mentions, items, stated):
                reasons.append(f"number {raw} stands where the cited passage states {source}")
        passage_years = set().union(*(years(item.text) | years(item.chunk.section) for item in items))
        missing_years = sorted(years(sentence.text) - passage_years)
        if missing_years:
            reasons.append(f"year(s) {missing_years} in no cited passage")

        # a generated sentence may join two neighbouring source sentences: windows of two count too
        windows: list[tuple[EvidenceItem, ...]] = [(it,) for it in items]
        for p in cited:
            ordered = sorted(p.items, key=lambda it: it.position)
            windows += [(a, b) for a, b in zip(ordered, ordered[1:]) if b.position == a.position + 1]

        def support(window: tuple[EvidenceItem, ...]) -> float:
            present = frozenset().union(*(it.terms | it.heading_terms for it in window))
            return self.weights.coverage(terms, present)

        def rank(window: tuple[EvidenceItem, ...]):
            head = window[0]
            return (
                round(support(window), 6),
                sum(figure_hits[id(it)] for it in window),
                -len(window),
                -head.hit_index,
                -head.position,
            )

        window = max(windows, key=rank)
        best = max(window, key=lambda it: (figure_hits[id(it)], support((it,))))
        score = support(window)
        quote = _span(window)
        if score < self.params.support_at:
            reasons.append(f"content supported {score:.2f} < {self.params.support_at:.2f}")
        if self.judge is not None and self.judge.judge(sentence.text, best.clean) == "no":
            reasons.append(f"support judge {self.judge.name!r} says the passage does not support it")
        if self.forecast.search(sentence.text.lower()) and not any(
            it.forecast or it.forecast_inherited or self.forecast.search(it.text.lower()) for it in window
        ):
            reasons.append("states an expectation the cited passage does not state")
        if self.advice.search(sentence.text.lower()) and not any(self.advice.search(it.text.lower()) for it in window):
            reasons.append("gives advice or an opinion of its own")
        return SentenceCheck(
            sentence.text, sentence.passages, not reasons, reasons, quote=quote, item=best, support=round(score, 3)
        )

    def content_terms(self, text: str) -> frozenset[str]:
        """The words a sentence says something with; numbers and their unit words ("12,5 duizend",
        "3,2 procent") are checked as figures instead, in whatever notation the passage uses."""
        for n in sorted(parse_numbers(text, self.lexicon), key=lambda n: n.start, reverse=True):
            text = text[: n.start] + " " + text[n.end :]
        return frozenset(t for t in self.lexicon.terms(text) if not t.isdigit())

    def _same_measure(
        self, item: EvidenceItem, value: float, clause: frozenset[str], local: frozenset[str] = frozenset()
    ) -> bool:
        """The figure's fact in this sentence measures what the generated clause speaks of: their
        terms meet, or the fact names no measure (then the sentence as a whole must match). The words
        right before the figure, when there are any, must mostly stand in the fact's own clause too: a
        figure moved onto its neighbour's measure in the same sentence shares the clause but not those."""
        facts = [f for f in item.info.facts if abs(f.value - value) <= _FIGURE_TOLERANCE * max(1.0, abs(value))]
        if not facts:
            return bool(clause & (item.terms | item.heading_terms))
        for f in facts:
            measure = f.measure_terms | (self.lexicon.terms(f.row_label) if f.row_label else frozenset())
            if local and measure and self.weights.coverage(local, measure) < 0.5:
                continue
            if not measure or clause & measure or self.weights.coverage(measure, clause) >= 0.5:
                return True
        return False


def _shape(text: str, numbers: list) -> tuple[list[str], list]:
    """A sentence as lower-case word tokens with every number as one token "#", and the
    number mention at each token (None for words), so two sentences align on their words alone."""
    tokens: list[str] = []
    values: list = []
    at = 0
    for n in sorted(numbers, key=lambda n: n.start):
        if n.start < at:
            continue
        words = _WORD.findall(text[at : n.start].lower())
        tokens += words
        values += [None] * len(words)
        tokens.append("#")
        values.append(n)
        at = n.end
    words = _WORD.findall(text[at:].lower())
    return tokens + words, values + [None] * len(words)


def _misplaced(text: str, mentions: list, items: list[EvidenceItem], stated: dict) -> list[tuple[str, str]]:
    """Numbers of a generated sentence that sit, word for word, where a cited sentence has another
    number, and nowhere where it has the same one: a figure moved onto its neighbour's measure
    ("van 71,4% in 2015 naar 64,2%" for "van 64,2% in 2015 naar 71,4%"), or a label changed
    ("60-plussers" for "67-plussers"). Only the cited sentence closest to the generated one counts
    (the one it was written from): a conflict needs a matching word on both sides of the number there
    (or the edge of both sentences) and a number of the same kind (a share for a share), and the same
    number aligned on one side confirms it. A paraphrase that words it otherwise is left to the other
    checks."""
    tokens, values = _shape(text, mentions)
    conflicts: dict[int, str] = {}
    confirmed: set[int] = set()
    aligned = []
    for item in items:
        other, other_values = _shape(item.text, stated[id(item)])
        matcher = SequenceMatcher(None, tokens, other, autojunk=False)
        aligned.append((matcher.ratio(), matcher.get_matching_blocks(), other, other_values))
    closest = max((ratio for ratio, *_ in aligned), default=0.0)
    for ratio, blocks, other, other_values in aligned:
        if ratio < closest:
            continue
        for a, b, size in blocks:
            for k in range(size):
                mine, theirs = values[a + k], other_values[b + k]
                if mine is None:
                    continue
                left = k > 0 or (a == 0 and b == 0)
                right = k < size - 1 or (a + size == len(tokens) and b + size == len(other))
                if _states([theirs], mine.value, mine.kind):
                    if left or right:
                        confirmed.add(id(mine))
                elif left and right and (mine.kind == "percent") == (theirs.kind == "percent"):
                    conflicts.setdefault(id(mine), theirs.raw)
    return [(n.raw, conflicts[id(n)]) for n in mentions if id(n) in conflicts and id(n) not in confirmed]


def _states(numbers: list, value: float, kind: str) -> bool:
    """One of a sentence's numbers is this figure (a percentage only equals a percentage)."""
    return any(
        abs(m.value - value) <= _FIGURE_TOLERANCE * max(1.0, abs(value))
        and (m.kind == "percent") == (kind == "percent")
        for m in numbers
    )


def _span(window: tuple[EvidenceItem, ...]) -> str:
    """The verbatim text of the window in its passage: one sentence, or two neighbours as they stand."""
    if len(window) == 1:
        return window[0].clean
    text = window[0].chunk.text
    first, last = window[0].clean, window[-1].clean
    start = text.find(first)
    end = text.find(last, start + len(first)) if start >= 0 else -1
    if start < 0 or end < 0:
        return first
    return text[start : end + len(last)]


def _clause_of(text: str, position: int) -> str:
    """The clause of a sentence around a character position (between commas, "en", "maar" ...)."""
    cuts = [0] + [m.end() for m in _CLAUSE.finditer(text)] + [len(text)]
    for start, end in zip(cuts, cuts[1:]):
        if start <= position < end:
            return text[start:end]
    return text


__all__ = ["Verifier", "VerifierParams", "VERIFIER_FILE"]
