"""Refusal guard: decides from the question's `Signals` and the scored `Evidence` alone whether and
how the question may be answered. It imports no generator.

Reasons (machine-readable, with a Dutch explanation for the advisor):
- out_of_scope: a logistic in-scope model (`scope_features`: best evidence score, term coverage,
  terms and place names the corpus does not know or names too rarely to stand with the best
  sentences, personal requests, off-domain topics, no figure sentence about the asked subject)
  says the sources do not cover the subject; or the question is not in Dutch. A subject that is
  covered, only not for the place asked ("werklozen in Utrecht"), is no out_of_scope question: the
  model is asked again without the place's words, and the coverage check says the place is not covered;
- prediction: a forecast is sought and no retrieved sentence states one for that subject and
  horizon. A forecast sentence, or one continuing the forecast before it, must name the asked
  horizon; a logistic forecast-support model (`forecast_features`) decides whether it states what
  is asked. A stated forecast is answered, led by that sentence and framed as the source's;
- no_evidence: the subject is covered but the asked figure is not (no well-ranked sentence gives a
  number for what is counted, in the place the question names).
When the asked figure exists but not for the asked period or place, the question is answered with
the nearest figure and a notice that says so; figures that disagree are shown side by side.
Both models are fitted by `assistant tune` (params/*.json).
"""

from __future__ import annotations

import math
import re
from typing import Callable

from .idf import PARTIAL, TermWeights
from .params import Params
from .types import Evidence, EvidenceItem, Notice, Signals, Verdict

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
# a sentence of its own: the answer may open with the sentence a forecast leans on ("Ook in 2025 ...")
SOURCE_FORECAST = "Het volgende is een verwachting uit de bron, geen voorspelling van de assistent."
CONFLICT = "De bronnen geven hiervoor verschillende cijfers; het nieuwste staat eerst."

SCOPE_FEATURES = [
    "top_score",
    "coverage",
    "top_dense",
    "unknown_share",
    "unknown_name",
    "personal",
    "off_domain",
    "figure_uncovered",
    "rare_name_missing",
]
FORECAST_FEATURES = [
    "subject",
    "subject_context",
    "subject_window",
    "dense",
    "score_gap",
    "unknown_share",
    "own_view",
    "inherited",
]


def _join(labels: list[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " en " + labels[-1]


class Guard:
    def __init__(
        self,
        weights: TermWeights,
        params: Params,
        data_year: int,
        chunk_texts: list[str],
        min_coverage: float = 0.5,
        name_share: Callable[[str], float] | None = None,
    ):
        """`chunk_texts` are the passages' search texts, or `name_share` gives the share of passages
        with a word starting with a prefix (the passage folder counts it without reading them all)."""
        params.require("scope", SCOPE_FEATURES)
        params.require("forecast", FORECAST_FEATURES)
        self.weights, self.params, self.data_year, self.min_coverage = weights, params, data_year, min_coverage
        self._vocabulary = set(weights.df)
        self._chunk_texts = [t.lower() for t in chunk_texts]
        self._share = name_share
        self._name_shares: dict[str, float] = {}
        self._known: dict[str, bool] = {}  # term -> the corpus knows it (see _unknown)

    # -------------------------------------------------------------- in scope

    def scope_features(self, q: Signals, ev: Evidence, without_place: bool = False) -> dict[str, float]:
        """Question-level signals that the sources cover the question; names match SCOPE_FEATURES.
        `without_place`: the subject alone, the words of the places named left out."""
        best = ev.best
        unknown = self._unknown(q, without_place)
        rare = [] if without_place else self._rare_names(q)
        terms = self._subject(q, q.terms) if without_place else q.terms
        wanted = (self._subject(q, q.subject_terms) if without_place else q.subject_terms) or terms
        cover = self.weights.coverage
        figures = [c for c in ev.items[:10] if c.info.facts]
        figure_coverage = max((cover(wanted, c.terms | c.context_terms) for c in figures), default=0.0)
        return {
            "top_score": best.score if best else 0.0,
            "coverage": max(
                (max(cover(terms, c.terms), 0.75 * cover(terms, c.terms | c.context_terms)) for c in ev.items),
                default=0.0,
            ),
            "top_dense": max((c.dense for c in ev.items), default=0.0),
            "unknown_share": self._unknown_share(q, without_place),
            "unknown_name": float(any(t in unknown for t in q.names)),
            "personal": float(q.personal),
            "off_domain": float(q.off_domain),
            # a number asked, and no well-ranked figure sentence is about the question's subject
            # (a question who made a figure, or why it is so, asks no number)
            "figure_uncovered": float(q.asks_number) * (1.0 - figure_coverage),
            # a place the corpus rarely names ("België", "Twente") stands with none of the best sentences
            "rare_name_missing": float(bool(rare) and not any(self._names_place(c, rare) for c in ev.items[:5])),
        }

    @staticmethod
    def _subject(q: Signals, terms: frozenset[str]) -> frozenset[str]:
        """`terms` without the words of the places named, unless nothing else is left."""
        return (terms - q.place_terms) or terms

    def _unknown(self, q: Signals, without_place: bool = False) -> list[str]:
        """Question terms not in the corpus, not even as a prefix variant (a compound of two known
        words, such as "minimumloon", still counts as unknown: its meaning is not covered)."""
        terms = self._subject(q, q.terms) if without_place else q.terms
        for t in terms - self._known.keys():
            self._known[t] = self.weights.match_strength(t, self._vocabulary) >= PARTIAL
        return [t for t in terms if not self._known[t]]

    def _unknown_share(self, q: Signals, without_place: bool = False) -> float:
        terms = self._subject(q, q.terms) if without_place else q.terms
        total = sum(self.weights.idf(t) for t in terms) or 1.0
        return sum(self.weights.idf(t) for t in self._unknown(q, without_place)) / total

    # -------------------------------------------------------------- the asked figure

    def figure_for(self, q: Signals, ev: Evidence, depth: int = 10, place: bool = True) -> EvidenceItem | None:
        """A well-ranked sentence giving a figure for what the question counts, for the place it names
        (any place, without `place`)."""
        rare = self._rare_names(q) if place else []
        for c in ev.items[:depth]:
            if c.info.facts and self._names_place(c, rare) and self.counts(q, c):
                return c
        return None

    def counts(self, q: Signals, c: EvidenceItem) -> bool:
        """The sentence (with its context) names what the question counts. Dutch compounds are
        right-headed: "defensievacatures" are vacatures, so a compound needs its head word."""
        return self.names_counted(q, c.terms | c.context_terms)

    def names_counted(self, q: Signals, present: frozenset[str]) -> bool:
        """`present` (a sentence's or a figure's words) names what the question counts."""
        if not q.measure:
            return True
        for unit in q.measure:
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

    def _rare_names(self, q: Signals) -> list[str]:
        """Places the corpus rarely names ("Limburg", "Assen"), as six-letter prefixes, so that
        "Groningse" finds "Groningen". The home region, named everywhere, is never rare."""
        return [w[:6] for w in q.name_words if self._name_share(w[:6]) < 0.05]

    @staticmethod
    def _names_place(c: EvidenceItem, rare: list[str]) -> bool:
        where = f"{c.text}\n{c.context}".lower()
        return all(p in where for p in rare)

    def _name_share(self, prefix: str) -> float:
        if prefix not in self._name_shares and self._share is not None:
            self._name_shares[prefix] = self._share(prefix)
        if prefix not in self._name_shares:
            hits = sum(1 for text in self._chunk_texts if re.search(rf"\b{re.escape(prefix)}", text))
            self._name_shares[prefix] = hits / max(len(self._chunk_texts), 1)
        return self._name_shares[prefix]

    # -------------------------------------------------------------- forecasts

    def forecast_features(self, q: Signals, c: EvidenceItem, ev: Evidence) -> dict[str, float]:
        """Signals that a forecast sentence states what the question asks; names match FORECAST_FEATURES."""
        wanted = q.subject_terms or q.terms
        best = ev.best.score if ev.best else c.score

        def subject(present: frozenset[str]) -> float:  # no subject asked ("Wat verwacht je?"): nothing matches
            return self.weights.coverage(wanted, present) if wanted else 0.0

        return {
            "subject": subject(c.terms),
            "subject_context": subject(c.terms | c.context_terms),
            "subject_window": subject(c.terms | c.context_terms | c.window_terms),
            "dense": c.dense,
            "score_gap": c.score - best,
            "unknown_share": self._unknown_share(q),
            "own_view": float(q.own_view),
            "inherited": float(c.forecast_inherited),
        }

    def forecast_candidates(self, q: Signals, ev: Evidence) -> list[EvidenceItem]:
        """Sentences that state a forecast (or continue the one before them) for the asked horizon:
        one of their periods contains an asked future year; a figure when one is asked, for what
        the question counts."""
        asked = q.future_years or {y for y in q.years if y >= self.data_year}
        horizon = {max(asked)} if asked else set()  # the furthest asked year: "tussen 2027 en 2030" asks 2030 too
        found = []
        for c in ev.items:
            if not (c.forecast or c.forecast_inherited):
                continue
            one_figure = q.asks_number and q.form == "" and bool(q.kind)  # "hoeveel banen"; not a list, not yes/no
            if one_figure and not any(not q.kind or f.kind == q.kind for f in c.info.facts):
                continue  # a figure of the asked kind: "hoeveel banen" is not answered by a percentage
            if not self.counts(q, c):
                continue
            if (
                one_figure
                and q.measure
                and c.forecast
                and not any(self.names_counted(q, f.measure_terms | c.heading_terms) for f in c.info.facts)
            ):
                continue  # the forecast figure itself counts something else ("600 werknemersbanen", not vacatures)
            periods = c.info.periods if c.forecast else c.previous_periods + c.info.periods
            if not horizon or any(p.start.year <= y <= p.end.year for p in periods for y in horizon):
                found.append(c)
        return found

    @staticmethod
    def consults_forecasts(q: Signals) -> bool:
        """A forecast is sought. Only a future year, on an off-domain topic ("Wat is de AOW-leeftijd
        in 2028?"), is left to the scope model."""
        return q.forecast and (q.forecast_worded or not q.off_domain)

    # -------------------------------------------------------------- the decision

    def check(self, q: Signals, ev: Evidence) -> Verdict:
        features = self.scope_features(q, ev)
        logit = self.params.scope.logit(features)
        scores: dict = {"scope_logit": round(logit, 3), "scope_features": {k: round(v, 3) for k, v in features.items()}}
        if q.english:
            return Verdict(
                True,
                "prediction" if q.forecast else "out_of_scope",
                MESSAGES["english"],
                reasons=["the question is not in Dutch"],
                scores=scores,
            )
        if self.consults_forecasts(q):
            scored = (
                [
                    (self.params.forecast.logit(self.forecast_features(q, c, ev)), c)
                    for c in self.forecast_candidates(q, ev)
                ]
                if logit >= 0
                else []
            )
            support, stated = max(scored, key=lambda x: x[0], default=(float("-inf"), None))
            scores["forecast_candidates"] = [{"text": c.clean[:160], "logit": round(s, 3)} for s, c in scored[:5]]
            if stated is None or support < 0:
                why = "no source sentence states a forecast for this subject and horizon"
                return Verdict(
                    True,
                    "prediction",
                    MESSAGES["prediction"],
                    lead=self.nearest_fact(q, ev),
                    reasons=["a forecast is asked", why],
                    scores=scores,
                )
            return Verdict(
                False,
                lead=stated,
                forecast=True,
                notices=[Notice(kind="source_forecast", text=SOURCE_FORECAST)],
                reasons=["a forecast is asked and a source states one"],
                scores=scores,
            )
        if q.off_domain and q.personal:
            return Verdict(
                True,
                "out_of_scope",
                MESSAGES["out_of_scope"],
                reasons=["an individual's own entitlement, pay or procedure ('ik', 'mijn')"],
                scores=scores,
            )
        if logit < 0 and not self._place_gap(q, ev, scores):
            return Verdict(
                True,
                "out_of_scope",
                MESSAGES["out_of_scope"],
                reasons=["the in-scope model says the sources do not cover the subject"],
                scores=scores,
            )
        # a number asked ("hoeveel vacatures") and no figure of it; a figure for another place than the one
        # asked is answered as the nearest, with a place_not_covered notice
        place_gap = ev.coverage.place_covered is False and self.figure_for(q, ev, place=False) is not None
        if q.asks_number and q.kind and not place_gap and not self.figure_for(q, ev):
            return Verdict(
                True,
                "no_evidence",
                MESSAGES["no_evidence"],
                reasons=["a figure is asked and no sentence gives one for what is counted or measured"],
                scores=scores,
            )
        return self._coverage_verdict(q, ev, scores)

    def _place_gap(self, q: Signals, ev: Evidence, scores: dict) -> bool:
        """The subject is covered, only not for the place the question names ("werklozen in Utrecht"):
        the coverage check says so (place_not_covered) instead of calling the subject out of scope."""
        if not (q.place_explicit and q.place_terms and ev.coverage.place_covered is False):
            return False
        logit = self.params.scope.logit(self.scope_features(q, ev, without_place=True))
        scores["scope_logit_without_place"] = round(logit, 3)
        return logit >= 0

    @staticmethod
    def no_evidence(verdict: Verdict) -> Verdict:
        """The refusal for an answer the generator could not find in the passages it was given."""
        return Verdict(
            True,
            "no_evidence",
            MESSAGES["no_evidence"],
            notices=verdict.notices,
            reasons=[*verdict.reasons, "the generator found no answer in the passages it was given"],
            scores=verdict.scores,
        )

    def _coverage_verdict(self, q: Signals, ev: Evidence, scores: dict) -> Verdict:
        cov = ev.coverage
        notices, reasons = [], []
        lead = None
        if cov.period_covered is False and q.period is not None:
            lead = cov.nearest.item if cov.nearest else None
            offered = f" wel voor {_join(cov.periods[:4])}" if cov.periods else ""
            notices.append(
                Notice(
                    kind="period_not_covered", text=f"Voor {q.period.label} geven de bronnen dit cijfer niet;{offered}."
                )
            )
            reasons.append(f"no figure of the asked measure for {q.period.label}")
        if cov.place_covered is False and q.place is not None:
            lead = lead or (cov.nearest.item if cov.nearest else None)
            offered = f" wel voor {_join(cov.places[:4])}" if cov.places else ""
            notices.append(
                Notice(
                    kind="place_not_covered", text=f"Voor {q.place.name} geven de bronnen dit cijfer niet;{offered}."
                )
            )
            reasons.append(f"no figure of the asked measure for {q.place.name}")
        if notices and lead is None:
            return Verdict(
                True,
                "no_evidence",
                " ".join(n.text for n in notices) + " " + MESSAGES["no_evidence"],
                notices=notices,
                reasons=reasons,
                scores=scores,
            )
        also = []
        if notices:
            notices[-1].text += " Het dichtstbijzijnde cijfer:"
        elif ev.conflicts:
            lead, also = ev.conflicts[0].item, [m.item for m in ev.conflicts[1:]]
            notices.append(Notice(kind="conflict", text=CONFLICT))
            reasons.append("sources give different figures for the same measure, period and place")
        elif cov.lead is not None:
            lead, also = cov.lead.item, [m.item for m in cov.others]
            reasons.append(
                "the figure for the asked measure, period and place"
                + (" (the latest)" if q.period is None or q.now else "")
            )
        return Verdict(
            False,
            lead=lead,
            also=also,
            notices=notices,
            reasons=reasons or ["answerable from the sources"],
            scores=scores,
        )

    def nearest_fact(self, q: Signals, ev: Evidence) -> EvidenceItem | None:
        """A sourced, non-forecast figure on the same subject, offered beside a prediction refusal: the
        best one that says its own period in a full sentence ("In 2024 waren er 18.000 werklozen"), not
        a bare fragment ("18.000 werklozen.") that leaves the reader to guess when."""
        fits = [
            c
            for c in ev.items[:10]
            if not c.forecast
            and not any(p.end.year > self.data_year for p in c.info.periods)
            and c.coverage >= self.min_coverage
            and c.score > 0
        ]
        dated = (
            c
            for c in fits
            if len(c.clean.split()) >= 6 and (c.info.periods or any(f.period_stated for f in c.info.facts))
        )
        return next(dated, fits[0] if fits else None)


__all__ = ["Guard", "MESSAGES", "SCOPE_FEATURES", "FORECAST_FEATURES", "SOURCE_FORECAST"]
