"""Refusal guard: decides whether the retrieved evidence may be used to answer.

Reasons (machine-readable, with a Dutch explanation for the advisor):
- out_of_scope: the question's subject is not covered by the sources (its weighted
  terms are largely absent from the best passages and the dense match is weak), or it
  is not in Dutch;
- prediction: the question seeks a forecast and no retrieved sentence states one for
  that subject and horizon (a stated forecast is answered, framed as the source's);
- no_evidence: the subject is covered but no sentence supports an answer well enough.
Thresholds live in `GuardSettings` and were calibrated on the dev set and the tune half
of tests/data/guard_questions.jsonl; the holdout half only measures them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .answer import Candidate, Composition
from .question import QuestionAnalysis, TermWeights
from .settings import GuardSettings
from .text import years
from .types import RefusalReason

MESSAGES: dict[str, str] = {
    "out_of_scope": (
        "Deze vraag kan ik niet beantwoorden: de goedgekeurde bronnen (zoals Regio in Beeld 2025-2026 Groningen) "
        "gaan hier niet over. Ik beantwoord alleen vragen over de arbeidsmarkt die deze bronnen behandelen."
    ),
    "english": (
        "Ik beantwoord vragen in het Nederlands over de arbeidsmarkt in Groningen en Noord-Drenthe, op basis van "
        "goedgekeurde bronnen. Stel je vraag in het Nederlands."
    ),
    "prediction": (
        "Ik doe zelf geen voorspellingen. De goedgekeurde bronnen bevatten geen prognose voor dit onderwerp en deze "
        "periode, dus daar kan ik geen antwoord op geven."
    ),
    "no_evidence": (
        "Ik vind in de goedgekeurde bronnen geen passage die deze vraag beantwoordt. Probeer de vraag specifieker te "
        "stellen, of raadpleeg een andere bron."
    ),
}

_RANGE = re.compile(r"\b(20\d\d)\s*(?:-|–|t/m|tot(?: en met)?|en)\s*(20\d\d)\b")
_UNTIL = re.compile(r"\b(?:tot|t/m|tot en met|richting|in)\s+(20\d\d)\b")


@dataclass
class Verdict:
    refuse: bool
    reason: RefusalReason | None = None
    message: str = ""
    forecast_mode: bool = False  # answer with a forecast the source states
    coverage: float = 0.0
    dense: float = 0.0


def horizon_matches(question_years: set[int], sentence: str) -> bool:
    """A forecast sentence fits the asked horizon when it names the year or a period containing it."""
    if not question_years:
        return True
    named = years(sentence)
    if question_years & named:
        return True
    for a, b in _RANGE.findall(sentence):
        if any(int(a) <= y <= int(b) for y in question_years):
            return True
    return False


class Guard:
    def __init__(self, weights: TermWeights, settings: GuardSettings, data_year: int):
        self.weights = weights
        self.settings = settings
        self.data_year = data_year

    def scope(self, q: QuestionAnalysis, comp: Composition) -> tuple[float, float]:
        """(best term coverage, best dense similarity) over the candidate sentences."""
        if not comp.candidates:
            return 0.0, 0.0
        return max(c.coverage for c in comp.candidates), max(c.dense for c in comp.candidates)

    def stated_forecast(self, q: QuestionAnalysis, comp: Composition) -> Candidate | None:
        """The best retrieved sentence that states a forecast for the question's subject and horizon."""
        wanted = q.subject_terms or q.terms
        horizon = q.future_years or {y for y in q.years if y >= self.data_year}
        for c in comp.candidates:
            if not c.forecast:
                continue
            subject = self.weights.coverage(wanted, c.terms | c.context_terms)
            if subject >= self.settings.forecast_subject and horizon_matches(horizon, c.text):
                return c
        return None

    def check(self, q: QuestionAnalysis, comp: Composition) -> Verdict:
        coverage, dense = self.scope(q, comp)
        if q.english:
            return Verdict(True, "out_of_scope", MESSAGES["english"], coverage=coverage, dense=dense)
        in_scope = coverage >= self.settings.min_coverage or (
            dense >= self.settings.min_dense and coverage >= self.settings.min_coverage_dense
        )
        if q.forecast:
            found = self.stated_forecast(q, comp) if in_scope else None
            if found is None:
                return Verdict(True, "prediction", MESSAGES["prediction"], coverage=coverage, dense=dense)
            return Verdict(False, forecast_mode=True, coverage=coverage, dense=dense)
        if not in_scope:
            return Verdict(True, "out_of_scope", MESSAGES["out_of_scope"], coverage=coverage, dense=dense)
        best = comp.best
        if best is None or best.score < self.settings.min_sentence_score:
            return Verdict(True, "no_evidence", MESSAGES["no_evidence"], coverage=coverage, dense=dense)
        return Verdict(False, coverage=coverage, dense=dense)
