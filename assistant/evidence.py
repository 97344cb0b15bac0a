"""Score evidence: every quotable sentence of the retrieved passages, weighed against the
question's signals, and every figure in them matched on measure, period and place.

Sentence score = Σ weight × feature (`FEATURES`; weights fitted by `assistant tune`, kept in
params/*.json): dense similarity to the question, IDF-weighted coverage of its terms (alone,
and with the section heading and previous sentence), the passage's rank and dense score, the
asked figure (a stated figure, not a year or label; of the asked measure), the asked period and
place (inside, overlapping, missing or another), the latest figure when "now" is asked,
definition sections, the asked form (a list, a reason, who, when) and penalties (captions and
source lines, fragments, table rows, a sentence that refers back). Boilerplate and testimonials
are never candidates: the chunker marked them.

From the matching figures the stage also derives `Coverage` (does any figure of the asked
measure cover the asked period and place, and which is nearest when none does) and the
conflicts (the same measure, period and place with other values in other sources).
"""

from __future__ import annotations

import json
import re
from datetime import date

import numpy as np

from .backends import Embedder
from .chunking import chunk_sentences
from .idf import TermWeights
from .lexical import Lookup
from .lexicon import Lexicon, compile_phrases
from .params import Params
from .periods import distance_days, relation, span
from .settings import AnswerSettings
from .types import (
    BULLETS,
    QUOTABLE_ROLES,
    Chunk,
    Coverage,
    Evidence,
    EvidenceItem,
    Fact,
    FactMatch,
    Hit,
    Period,
    SentenceInfo,
    Signals,
)

FEATURES = [
    "dense",
    "coverage",
    "context_coverage",
    "rank_prior",
    "passage_dense",
    "figure_when_asked",
    "no_figure_when_asked",
    "period_match",
    "period_missing",
    "period_conflict",
    "period_compared",
    "place_match",
    "place_conflict",
    "measure_match",
    "latest",
    "definition_section",
    "definition_heading",
    "noise",
    "short",
    "table_row",
    "first_in_passage",
    "list_intro",
    "answer_form",
    "anaphoric",
]
_LIST_SENTENCE = re.compile(r"(?:[^,]+,){2,}|:\s*$|\w+,\s+\w+(?:\s+\w+)*\s+en\s+\w+")


class EvidenceScorer:
    def __init__(
        self,
        *,
        embedder: Embedder,
        lexicon: Lexicon,
        weights: TermWeights,
        params: Params,
        settings: AnswerSettings,
        data_date: date,
        infos: dict[str, list[SentenceInfo]],
        published: dict[str, date],
        default_periods: dict[str, Period | None],
        lookup: Lookup,
    ):
        """`infos`: chunk id -> its sentences' annotations (loaded on first use, see index.SentenceInfos);
        `lookup`: passages by id and the figure lookup of the passage folder (lexical.py)."""
        params.require("composer", FEATURES)
        self.embedder, self.lexicon, self.weights, self.params = embedder, lexicon, weights, params
        self.settings, self.data_date, self.infos = settings, data_date, infos
        self.published, self.default_periods = published, default_periods
        self.min_fit = params.thresholds.get("measure_fit", 0.6)
        self.narrower = params.thresholds.get("narrower_measure", 0.6)
        self.rest_share = params.thresholds.get("measure_rest_share", 0.25)
        self.other_kind = params.thresholds.get("other_kind", 0.5)
        self.fit_band = params.thresholds.get("fit_band", 0.3)
        self.sure_fit = params.thresholds.get("sure_fit", 0.8)
        self.anaphora = compile_phrases("anaphora", ["^" + p for p in lexicon.data.sentences.anaphora_starts])
        self.leaning = compile_phrases("anaphora_weak", ["^" + p for p in lexicon.data.sentences.anaphora_weak])
        self.reason = lexicon.phrases("sentences.reason")
        self.defines = lexicon.phrases("sentences.definition")
        self.refers_back = lexicon.phrases("sentences.anaphora_inner")
        who = "|".join(re.escape(w) for w in lexicon.data.sentences.who)
        self.who = re.compile(rf"\b(?:{who})\s+(?:het\s+|de\s+)?[A-Z][\w&-]+")
        self.definition_sections = {s.lower() for s in lexicon.data.sentences.definition_sections}
        self._section_terms: dict[str, frozenset[str]] = {}
        self._kind_cache: dict[str, frozenset[str]] = {}  # text -> sectors and groups it names
        # category words that are synonyms ("ww'ers"): found by their group's token in any of its forms
        self._kind_tokens = frozenset(
            t for words in lexicon.data.categories.values() for w in words if (t := lexicon.fold(w)).startswith("syn_")
        )
        self._now_terms = lexicon.terms(" ".join(lexicon.data.periods.now))
        self.lookup = lookup
        self._periods: dict[str, Period] = {}

    # -------------------------------------------------------------- candidates

    def is_forecast(self, text: str, info: SentenceInfo) -> bool:
        """States an expectation: a forecast word, or a period that ends after the data date
        (captions and source lines excepted)."""
        if info.role in ("caption", "source"):
            return False
        return info.forecast_words or any(p.end.year > self.data_date.year for p in info.periods)

    def candidates(self, hits: list[Hit]) -> list[EvidenceItem]:
        """Every quotable sentence of the top passages, once (an overlapping chunk repeats sentences)."""
        items: list[EvidenceItem] = []
        seen: set[str] = set()
        for hi, hit in enumerate(hits):
            if hi >= self.settings.context_passages and "facts" not in hit.ranks:
                continue
            chunk = hit.chunk
            sentences = chunk_sentences(chunk.text)
            infos = self.infos.get(chunk.id) or []
            if len(infos) != len(sentences):
                infos = [SentenceInfo("row" if chunk.cells else "body") for _ in sentences]
            terms = [self.lexicon.terms(s) for s in sentences]
            section = self._section(chunk.section)
            for si, sentence in enumerate(sentences):
                info = infos[si]
                key = re.sub(r"\W+", " ", sentence.lower()).strip()
                if info.role not in QUOTABLE_ROLES or len(sentence) < 12 or key in seen:
                    continue
                seen.add(key)
                previous = sentences[si - 1] if si else ""
                forecast = self.is_forecast(sentence, info)
                opening = sentence.lstrip(BULLETS + " ").lower()
                items.append(
                    EvidenceItem(
                        text=sentence,
                        hit_index=hi,
                        position=si,
                        chunk=chunk,
                        terms=terms[si],
                        info=info,
                        context_terms=section | (terms[si - 1] if si else frozenset()),
                        heading_terms=self._section(chunk.section.split(" › ")[-1]),
                        window_terms=frozenset().union(*terms[max(0, si - 2) : si + 2]),
                        previous=previous,
                        forecast=forecast,
                        # "Tussen 2024 en 2027 neemt de werkgelegenheid toe. In Limburg daalt het aantal banen."
                        forecast_inherited=not forecast
                        and not info.periods
                        and si > 0
                        and self.is_forecast(previous, infos[si - 1]),
                        anaphoric=self.anaphora.search(opening),
                        leans=self.leaning.search(opening),
                        previous_periods=infos[si - 1].periods if si else (),
                        published=self.published.get(chunk.source_id),
                    )
                )
        return items

    @staticmethod
    def _without_repeated_rows(items: list[EvidenceItem]) -> list[EvidenceItem]:
        """A table row whose figures all stand in a retrieved sentence too (a table built from the
        report's own text) is left out: the sentence says the same with its context."""
        stated = {(round(f.value, 6), f.period) for c in items if c.info.role != "row" for f in c.info.facts}
        return [
            c
            for c in items
            if c.info.role != "row"
            or not c.info.facts
            or any((round(f.value, 6), f.period) not in stated for f in c.info.facts)
        ]

    def _section(self, section: str) -> frozenset[str]:
        if section not in self._section_terms:
            self._section_terms[section] = self.lexicon.terms(section)
        return self._section_terms[section]

    # -------------------------------------------------------------- scoring

    def score(self, signals: Signals, question_vector: np.ndarray, hits: list[Hit]) -> Evidence:
        if signals.asks_quantity and not signals.forecast:
            hits = hits + self.fact_hits(signals, hits)
        items = self._without_repeated_rows(self.candidates(hits))
        if not items:
            return Evidence(items=[], hits=hits)
        sims = self.embedder.embed_passages([i.text for i in items]) @ question_vector
        for item, sim in zip(items, sims):
            item.dense = float(sim)
        matches = self._fact_matches(signals, items)
        latest = self._latest(signals, matches)

        def newest(m: FactMatch) -> date:
            return self._end(m) if latest is not None and m.fact.period is not None else date.min

        weights = self.params.composer
        form = self.asked_form(signals)
        for item in items:
            item.features = self.features(signals, item, hits[item.hit_index], matches.get(id(item), []), latest, form)
            item.coverage = max(item.features["coverage"], item.features["context_coverage"] * 0.75)
            item.score = sum(weights[name] * value for name, value in item.features.items())
            if signals.focus:  # a follow-up must answer about its new subject, not repeat the last answer
                item.score += self.settings.focus_bonus * self.weights.coverage(
                    signals.focus, item.terms | item.context_terms
                )
            # of a row's figures the one that fits best; for "nu" (or no period) the latest of them
            item.fact = max(matches.get(id(item), []), key=lambda m: (*_fit(m)[:3], newest(m)), default=None)
        items.sort(key=lambda i: -i.score)
        facts = sorted((m for ms in matches.values() for m in ms if m.measure >= self.min_fit), key=_fit, reverse=True)
        evidence = Evidence(items=items, hits=hits, facts=facts)
        if signals.asks_number and not signals.forecast:
            # one figure is asked (a list of them is left to the sentence scores)
            evidence.coverage = self.coverage(signals, evidence)
            evidence.conflicts = self.conflicts(evidence)
        return evidence

    # -------------------------------------------------------------- figures

    def fact_hits(self, signals: Signals, hits: list[Hit]) -> list[Hit]:
        """Passages holding the figures that best fit the asked measure, place and period, beyond the
        retrieved ones (their rank is after the last retrieved passage). The figures of every passage
        are looked up in the passage folder: the sentences whose figures name an asked word, then only
        the figures whose measure fits (one fit per distinct measure), in passage order."""
        wanted = self._measure_words(signals)
        if not wanted:
            return []
        seen = {h.chunk.id for h in hits[: self.settings.context_passages]}
        passages, versions = self.lookup.index, self.lookup.versions
        found: dict[int, int] = {}  # sentence id -> its place in the order the figures are weighed
        chunk_of: dict[int, str] = {}
        for t in wanted:
            for sid, chunk_id in passages.fact_sentences(t, versions):
                if chunk_id not in seen and sid not in found:
                    found[sid] = len(found)
                    chunk_of[sid] = chunk_id
        if not found:
            return []
        fits = {p: self.measure_fit(signals, frozenset(p.split()), wanted) for p in passages.fact_presents(list(found))}
        rows = passages.fact_rows(list(found), [p for p, fit in fits.items() if fit >= self.min_fit])
        rows.sort(key=lambda r: (found[r[0]], r[1]))
        places = self.lexicon.places
        latest = signals.period is None or signals.now
        scored = []
        whens: dict[tuple[str, str], tuple] = {}  # figures share few periods and places: each weighed once
        fits_places: dict[str, bool] = {}
        for sid, _fi, present, period_json, place_name, published in rows:
            when = whens.get((period_json, published))
            if when is None:
                period = self._periods.get(period_json)
                if period is None:
                    period = self._periods.setdefault(period_json, Period.from_json(json.loads(period_json)))
                # the latest figure, else one for the asked period, else the nearest to it
                when = whens[(period_json, published)] = (
                    (min(span(period)[1], date.fromisoformat(published)).toordinal(), 0)
                    if latest
                    else (relation(signals.period, period), -distance_days(signals.period, period))
                )
            fits_place = fits_places.get(place_name)
            if fits_place is None:
                place = places.relation(signals.place, places.get(place_name) if place_name else None)
                fits_place = fits_places[place_name] = place >= 0.9 if signals.place_explicit else place >= 0
            scored.append((fits_place, when, fits[present], chunk_of[sid]))
        scored.sort(key=lambda x: x[:3], reverse=True)
        extra = list(dict.fromkeys(cid for *_, cid in scored))[: self.settings.fact_passages]
        chunks = self.lookup.chunks(extra)
        return [
            Hit(chunk=chunks[cid], score=0.0, ranks={"facts": i + 1}) for i, cid in enumerate(extra) if cid in chunks
        ]

    def _measure_words(self, signals: Signals) -> frozenset[str]:
        """The subject words a figure must be about: without the place, period and "nu" words."""
        return (
            signals.subject_terms
            - self.lexicon.terms(signals.place_text)
            - self.lexicon.terms(signals.period_text)
            - self._now_terms
        )

    def _refers(self, f: Fact) -> bool:
        return not f.row_label and bool(self.refers_back.search(f.measure.lower()))

    def _leans(self, f: Fact, item: EvidenceItem) -> bool:
        """The figure's sentence or clause points back to the sentence before ("Dat is ...", "deze groep")."""
        return bool(item.anaphoric) or self._refers(f)

    def _antecedent(self, f: Fact, item: EvidenceItem) -> frozenset[str]:
        """What the sentence before names, when the figure's sentence or clause points back to it."""
        return item.context_terms if self._leans(f, item) else frozenset()

    def _present(self, f: Fact, chunk: Chunk) -> frozenset[str]:
        """What a figure is said to measure: its clause and heading; a table row's column and row only."""
        return f.measure_terms if f.row_label else f.measure_terms | self._section(chunk.section.split(" › ")[-1])

    def measure_fit(self, signals: Signals, present: frozenset[str], subject: frozenset[str] | None = None) -> float:
        """How well a figure's clause (with its heading and previous sentence) names what is asked: the
        counted noun weighs most, the other subject words the rest. `subject`: `_measure_words(signals)`,
        when the caller has it."""
        subject = self._measure_words(signals) if subject is None else subject
        cover = self.weights.coverage
        measure = signals.measure or signals.focus  # a follow-up's new subject is what it asks a figure of
        if measure:
            rest = subject - measure
            share = self.rest_share
            return (1 - share) * cover(measure, present) + share * (cover(rest, present) if rest else 1.0)
        return cover(subject, present) if subject else 0.0

    def _fact_matches(self, signals: Signals, items: list[EvidenceItem]) -> dict[int, list[FactMatch]]:
        places = self.lexicon.places
        asked_kinds = self._kinds(signals.text)
        out: dict[int, list[FactMatch]] = {}
        for item in items:
            out[id(item)] = [
                FactMatch(
                    fact=f,
                    item=item,
                    measure=self.measure_fit(signals, self._present(f, item.chunk) | self._antecedent(f, item))
                    * (
                        self.narrower
                        if self._kinds(f"{f.measure} {f.row_label} {item.chunk.section}") - asked_kinds
                        or asked_kinds
                        - self._kinds(f"{f.text} {item.previous if self._leans(f, item) else ''} {item.chunk.section}")
                        else 1.0
                    )
                    * (self.other_kind if signals.kind and f.kind != signals.kind else 1.0),
                    period=relation(signals.period, f.period),
                    place=places.relation(signals.place, f.place),
                )
                for f in item.info.facts
            ]
        return out

    def _latest(self, signals: Signals, matches: dict[int, list[FactMatch]]) -> date | None:
        """When the latest figure is asked (or no period is): the end of the latest period a figure of
        the asked measure (in a place that fits) is for."""
        if not signals.asks_quantity or (signals.period is not None and not signals.now):
            return None
        ends = [
            span(m.fact.period)[1]
            for ms in matches.values()
            for m in ms
            if m.measure >= self.min_fit
            and m.place >= 0
            and m.fact.period is not None
            and m.fact.period.end <= self.data_date.replace(month=12, day=31)
        ]
        return max(ends, default=None)

    def _kinds(self, text: str) -> frozenset[str]:
        """The sectors and groups a text names (`[categories]`): a figure for a sector answers a
        question about the total less well, and a total one about a sector less well."""
        found = self._kind_cache.get(text)
        if found is None:
            low = text.lower()
            fold = self.lexicon.fold  # "zorg en welzijn" and "zorg & welzijn" are one sector
            found = frozenset(
                fold(low[a:b])
                for name in self.lexicon.data.categories
                for a, b in self.lexicon.category(name).spans(low)
            ) | (self._kind_tokens & set(re.findall(r"[\w']+", fold(low))))
            self._kind_cache[text] = found
        return found

    def asked_form(self, q: Signals) -> str:
        """The form of answer asked: the question's own (a list, a reason, who, when), else "definition"
        for what one term means ("Wat is een onderbenutte deeltijder?"), not a topic ("Wat is de trend in
        ...?"), a second question ("Wat is AIMI en wie ...?") or a figure."""
        if q.form:
            return q.form
        if not q.asks_definition or q.asks_quantity or q.years or len(q.subject_terms) > 2:
            return ""
        rest = q.question.lower().split(maxsplit=1)[1:]
        return "" if rest and self.lexicon.phrases("question.interrogatives").search(rest[0]) else "definition"

    def _glosses(self, q: Signals, c: EvidenceItem) -> bool:
        """A "term: what it means" line for an asked term ("◼ Beroepsniveau 3: complexe taken, ...")."""
        head, colon, rest = c.clean.partition(":")  # `clean` is the text without its bullet
        return (
            bool(colon and rest.strip()) and len(head.split()) <= 5 and bool(self.lexicon.terms(head) & q.subject_terms)
        )

    def features(
        self, q: Signals, c: EvidenceItem, hit: Hit, facts: list[FactMatch], latest: date | None, form: str
    ) -> dict[str, float]:
        """Signals that a sentence answers the question; names match `FEATURES`."""
        w = self.weights
        stated_periods = list(c.info.periods) + [m.fact.period for m in facts if m.fact.period_stated]
        period_fits = [relation(q.period, p) for p in stated_periods] if q.period else []
        context_fits = [m.period for m in facts if not m.fact.period_stated] if q.period else []
        stated_places = list(c.info.places) + [m.fact.place for m in facts if m.fact.place_stated and m.fact.place]
        place_fits = [self.lexicon.places.relation(q.place, p) for p in stated_places] if q.place else []
        heading = c.chunk.section.split(" › ")[-1]
        section_parts = {p.strip().lower() for p in c.chunk.section.split("›")}
        form_match = {
            "definition": lambda: self.defines.search(c.clean.lower()) or self._glosses(q, c),
            "list": lambda: bool(_LIST_SENTENCE.search(c.clean)),
            "reason": lambda: self.reason.search(c.clean.lower()),
            "who": lambda: bool(self.who.search(c.clean)),
            "when": lambda: bool(c.info.periods),
            "where": lambda: bool(c.info.places),
        }
        figure = any(m.fact for m in facts)
        role = c.info.role
        return {
            "dense": c.dense,
            "coverage": w.coverage(q.terms, c.terms),
            "context_coverage": w.coverage(q.terms, c.terms | c.context_terms),
            "rank_prior": 1.0 / (1 + 0.3 * c.hit_index),
            "passage_dense": hit.raw.get("dense", 0.0),
            "figure_when_asked": float(q.asks_quantity and figure),
            "no_figure_when_asked": float(q.asks_quantity and not figure),
            "period_match": max([f for f in period_fits if f > 0] or [0.5 * f for f in context_fits if f > 0] or [0.0]),
            "period_missing": float(q.period is not None and not stated_periods),
            "period_conflict": float(bool(period_fits) and all(f < 0 for f in period_fits)),
            # a comparison asked ("hoe verhoudt zich dat tot 2019?"): the sentence names the compared year
            "period_compared": float(
                bool(q.compare_years)
                and any(q.compare_years & set(range(p.start.year, p.end.year + 1)) for p in c.info.periods)
            ),
            "place_match": float(q.place_explicit and any(f >= 0.9 for f in place_fits)),
            "place_conflict": float(bool(place_fits) and all(f < 0 for f in place_fits)),
            "measure_match": max((m.measure for m in facts), default=0.0) if q.asks_quantity else 0.0,
            "latest": float(
                latest is not None
                and any(m.measure >= self.min_fit and m.fact.period and span(m.fact.period)[1] == latest for m in facts)
            ),
            "definition_section": float(q.asks_definition and bool(section_parts & self.definition_sections)),
            # a definition asked, and the sentence stands under a heading naming the asked term
            "definition_heading": w.coverage(q.terms, self._section(heading)) if q.asks_definition else 0.0,
            # captions and source lines, except a source line when the question asks who made something
            "noise": float(role in ("caption", "source") and not (form == "who" and role == "source")),
            "short": float(len(c.text.split()) < 6),
            "table_row": float(role == "row"),
            "first_in_passage": float(c.position == 0),
            "list_intro": float(c.text.rstrip().endswith(":")),
            "answer_form": float(bool(form) and bool(form_match[form]())),
            "anaphoric": float(c.anaphoric),
        }

    # -------------------------------------------------------------- coverage, lead and conflicts

    def _known_period(self, m: FactMatch) -> bool:
        """The figure's period is read from its sentence, heading or previous sentence, not assumed
        from the source's overall period."""
        p = m.fact.period
        return p is not None and (m.fact.period_stated or p != self.default_periods.get(m.fact.source_id))

    def _end(self, m: FactMatch) -> date:
        """When a figure's period ends, as far as its source could know (a year still running ends
        at the source's publication)."""
        return min(span(m.fact.period)[1], m.fact.published)

    def coverage(self, signals: Signals, evidence: Evidence) -> Coverage:
        """The figure for the asked measure, period and place (`lead`), and one per further place of a
        comparison (`others`); when none is for the asked period or place, the nearest figure and the
        periods and places the sources do give."""
        cov = Coverage()
        current = [m for m in evidence.facts if not m.item.forecast] or evidence.facts  # not an old expectation
        if not current:
            return cov
        cov.places = list(dict.fromkeys(m.fact.place.name for m in current if m.fact.place))[:5]
        lead, nearest, cov.place_covered, cov.period_covered, periods = self._choose(signals, current, None)
        cov.periods = periods
        if cov.place_covered is False:
            lead, nearest = None, nearest or lead
        cov.lead, cov.nearest = lead, nearest
        places = self.lexicon.places
        for other in signals.other_places:
            moved = [
                FactMatch(m.fact, m.item, m.measure, m.period, places.relation(other, m.fact.place)) for m in current
            ]
            found = self._choose(signals, moved, other)[0]
            if found is not None and found.place >= 0.9:
                cov.others.append(found)
        for m in [cov.lead, *cov.others]:
            if m is not None:
                m.item.fact = m  # a table row reads out this figure
        return cov

    def _choose(self, signals: Signals, pool: list[FactMatch], place) -> tuple:
        """(lead, nearest, place covered, period covered, periods given) over `pool`: first the figures that
        measure what is asked (near the best fit), then those for the asked place, then the asked period
        (inside it, the closest in length) or, for "nu" and no period, the latest."""
        explicit = signals.place_explicit or place is not None
        best_fit = max(m.measure for m in pool)
        fitting = [m for m in pool if m.measure >= best_fit - self.fit_band]
        here = [m for m in fitting if m.place >= 0.9] if explicit else [m for m in fitting if m.place >= 0]
        # a gap is only claimed when the asked measure is surely among the figures (not a paraphrase missed)
        sure = best_fit >= self.sure_fit
        place_covered = bool(here) if explicit and sure and any(m.fact.place for m in fitting) else None
        candidates = here or [m for m in fitting if m.place >= 0.5]
        if not candidates:
            # the asked place surely has no figure: the nearest is one for a place near it, or none
            asked = place or signals.place
            if place_covered is False and asked is not None:
                near = {id(m): self.lexicon.places.nearness(asked, m.fact.place) for m in fitting if m.fact.place}
                best = max(near.values(), default=0)
                candidates = [m for m in fitting if best and near.get(id(m)) == best]
            else:
                candidates = fitting
        dated = [m for m in candidates if self._known_period(m)]
        periods = list(dict.fromkeys(m.fact.period.label for m in sorted(dated, key=self._end, reverse=True)))[:5]
        lead = nearest = period_covered = None
        if signals.period is not None and not signals.now:
            asked = span(signals.period)
            asked_days = (asked[1] - asked[0]).days + 1

            def days(m: FactMatch) -> int:
                s = span(m.fact.period)
                return (s[1] - s[0]).days + 1

            inside = [m for m in dated if m.period >= 0.5 and days(m) <= 2 * asked_days + 92]
            if dated and sure:
                period_covered = bool(inside)
            if inside:
                lead = max(
                    inside, key=lambda m: (m.period, -abs(days(m) - asked_days), round(m.measure, 1), m.item.score)
                )
            elif dated:
                nearest = min(dated, key=lambda m: (distance_days(signals.period, m.fact.period), -m.item.score))
        elif dated:
            lead = max(
                dated, key=lambda m: (self._end(m), m.fact.published, round(m.measure, 1), m.place, m.item.score)
            )
        return lead, nearest, place_covered, period_covered, periods

    def conflicts(self, evidence: Evidence) -> list[FactMatch]:
        """The lead figure beside figures for the same measure (as well fitting, of the same sectors and
        groups), period and place in other sources, with other values; newest source first."""
        lead = evidence.coverage.lead
        if lead is None:
            return []
        band = max(m.measure for m in evidence.facts) - self.fit_band
        kinds = self._kinds(f"{lead.fact.measure} {lead.fact.row_label}")
        by_source: dict[str, FactMatch] = {lead.fact.source_id: lead}
        for m in evidence.facts:
            f = m.fact
            if f.source_id in by_source or f.kind != lead.fact.kind or not self._known_period(m):
                continue
            if not _same_period(f.period, lead.fact.period) or m.place < min(lead.place, 0.9) or m.item.forecast:
                continue
            if m.measure >= band and self._kinds(f"{f.measure} {f.row_label}") == kinds:
                by_source[f.source_id] = m
        if len({round(m.fact.value, 6) for m in by_source.values()}) < 2:
            return []
        for m in by_source.values():
            m.item.fact = m
        return sorted(by_source.values(), key=lambda m: m.fact.published, reverse=True)


def _same_period(a: Period, b: Period) -> bool:
    """Two figures are for the same moment: equal periods, or one a point at the other's end ("eind juni
    2025" and "juni 2025"), at most a month apart in length."""
    (a0, a1), (b0, b1) = span(a), span(b)
    return a1 == b1 and abs((a1 - a0).days - (b1 - b0).days) <= 31


def _fit(m: FactMatch) -> tuple:
    return (m.measure, m.place, m.period, m.item.score)


__all__ = ["EvidenceScorer", "FEATURES"]
