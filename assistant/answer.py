"""Generators: from the scored `Evidence` and the guard's `Verdict` to the answer's sentences.

`ExtractiveGenerator` (the default, and the offline fallback for any other generator) writes no
sentence a passage does not contain verbatim, except a table row, which it reads out as a Dutch
sentence built from the row's own cells. It leads with the verdict's sentence (a stated forecast,
or the nearest figure when the asked period or place is not covered), else with the newest of
figures that disagree, else with the best sentence; then adds sentences close in score that
cover asked terms not yet covered or stand next to a chosen one, the bullet items a chosen
"...:" sentence introduces, and the sentence a chosen one refers back to ("Dat is 1,7% ...").
When the answer cites more than one source, each sentence says which source (and period) it is.
"""

from __future__ import annotations

from typing import Callable, Iterable, Protocol, runtime_checkable

from .chunking import chunk_sentences
from .idf import TermWeights
from .settings import AnswerSettings
from .types import (
    BULLETS,
    Chunk,
    Draft,
    DraftSentence,
    Evidence,
    EvidenceItem,
    Fact,
    Period,
    SentenceInfo,
    Signals,
    SourceInfo,
    Verdict,
)

_ORDINALS = ["eerste", "tweede", "derde", "vierde"]


@runtime_checkable
class Generator(Protocol):
    """Writes an answer from scored evidence.

    `generate` returns the answer's sentences in order, each citing the passage it comes from,
    with the verbatim span of that passage to quote. It is called only when the guard answers;
    it reads nothing but the signals, the evidence and the verdict. A generator that writes may
    pass its unverified text to `on_text` as it comes, for a live view.
    """

    name: str

    def generate(
        self, signals: Signals, evidence: Evidence, verdict: Verdict, on_text: Callable[[str], None] | None = None
    ) -> Draft: ...


class ExtractiveGenerator:
    name = "extractive"

    def __init__(
        self,
        weights: TermWeights,
        settings: AnswerSettings,
        sources: dict[str, SourceInfo],
        neighbour: Callable[[Chunk, int], tuple[Chunk, int] | None] = lambda chunk, position: None,
        spell: Callable[[str], str] = str,
        counted_rows: Iterable[str] = (),
    ):
        self.weights, self.settings, self.sources = weights, settings, sources
        self.neighbour = neighbour  # (chunk, -1) -> the chunk holding the sentence before its first one
        self.spell = spell  # a column name with the field's terms spelled as the language file writes them
        self.counted_rows = frozenset(counted_rows)

    def generate(
        self, q: Signals, ev: Evidence, verdict: Verdict, on_text: Callable[[str], None] | None = None
    ) -> Draft:
        if not ev.items:
            return Draft(notices=list(verdict.notices))
        lead = verdict.lead or ev.items[0]
        bonus = self.settings.forecast_bonus if verdict.forecast else 0.0

        def score(c: EvidenceItem) -> float:  # answering a stated forecast: further forecasts preferred
            return c.score + (bonus if c.forecast or c.forecast_inherited else 0.0)

        forced = [c for c in verdict.also if c is not lead]
        rest = sorted(
            (c for c in ev.items if c is not lead and all(c is not f for f in forced)), key=lambda c: -score(c)
        )
        chosen = self._select(q, [lead, *forced, *rest], ev, score, keep=1 + len(forced))
        ordered = self._reading_order(self._with_antecedents(chosen, ev, first=None))
        if ordered and ordered[0].leans and not ordered[0].anaphoric:  # "Ook ..." would open the answer
            ordered = self._reading_order(self._with_antecedents(chosen, ev, first=ordered[0]))
        # figures of different dates: each sentence says whose it is (the report and its own tables share a date)
        several = (
            len({self.sources[c.chunk.source_id].published for c in ordered if c.chunk.source_id in self.sources}) > 1
        )
        sentences = [self._sentence(c, c.fact, several) for c in ordered]
        prefix = next((n.text for n in verdict.notices if n.kind == "source_forecast"), "")
        return Draft(sentences=sentences, prefix=prefix, notices=list(verdict.notices))

    # -------------------------------------------------------------- selection

    def _select(self, q: Signals, cands: list[EvidenceItem], ev: Evidence, score, keep: int = 1) -> list[EvidenceItem]:
        """Greedy: `cands[:keep]` lead, then sentences close in score that add asked terms."""
        chosen: list[EvidenceItem] = []
        for c in cands[:keep]:
            chosen += [c] + self._list_items(c, ev)
        top = cands[0]
        covered = set().union(*(c.terms for c in chosen))
        words_used = sum(len(c.clean.split()) for c in chosen)
        budget, cfg = self.settings.max_words, self.settings
        while len(chosen) < cfg.max_sentences + keep - 1 and words_used < budget:
            best, best_value = None, float("-inf")
            taken = {id(c) for c in chosen}
            for c in cands[keep:]:
                if id(c) in taken or words_used + len(c.clean.split()) > budget * 1.25:
                    continue
                adjacent = any(c.chunk.id == x.chunk.id and abs(c.position - x.position) == 1 for x in chosen)
                value = score(c) + (cfg.adjacent_bonus if adjacent else 0.0)
                gain = self.weights.coverage(q.terms - covered, c.terms) if q.terms - covered else 0.0
                close = value >= score(top) - cfg.keep_close
                if value >= score(top) - cfg.keep_within and (gain >= cfg.min_gain or close) and value > best_value:
                    best, best_value = c, value
            if best is None:
                break
            items = self._list_items(best, ev)
            chosen += [best] + items
            covered |= best.terms
            words_used += sum(len(c.clean.split()) for c in [best] + items)
        return chosen

    def _list_items(self, c: EvidenceItem, ev: Evidence) -> list[EvidenceItem]:
        """A sentence that introduces a list ("...: ") brings the bullet items that follow it."""
        if not c.text.rstrip().endswith(":"):
            return []
        items = []
        sentences = chunk_sentences(c.chunk.text)
        previous_was_bullet = True
        for i in range(c.position + 1, min(len(sentences), c.position + 13)):
            if sentences[i].lstrip()[:1] in BULLETS:
                items.append(self._item(ev, c.chunk, i, sentences[i]))
                previous_was_bullet = True
            elif previous_was_bullet:
                previous_was_bullet = False  # an item's explanation; the list may go on
            else:
                break
        return items

    @staticmethod
    def _reading_order(chosen: list[EvidenceItem]) -> list[EvidenceItem]:
        """The lead's passage first, each passage in document order."""
        first_seen: dict[str, int] = {}
        for i, c in enumerate(chosen):
            first_seen.setdefault(c.chunk.id, i)
        return sorted(chosen, key=lambda c: (first_seen[c.chunk.id], c.position))

    def _with_antecedents(
        self, chosen: list[EvidenceItem], ev: Evidence, first: EvidenceItem | None
    ) -> list[EvidenceItem]:
        """Every sentence that refers back, or a bullet item without its list's opening sentence,
        brings the sentence it leans on (two steps at most), and so does `first` (a loose reference
        that would open the answer); no sentence twice."""
        out: list[EvidenceItem] = []
        keys = set()

        def add(c: EvidenceItem) -> None:
            key = " ".join(c.clean.lower().split())
            if key not in keys:
                keys.add(key)
                out.append(c)

        for c in chosen:
            chain, current = [], c
            for _ in range(2):
                needs = current.anaphoric or self._bullet_without_intro(current, chosen) or current is first
                if not needs:
                    break
                before = self._before(ev, current)
                if before is None:
                    break
                chain.append(before)
                current = before
            for a in reversed(chain):
                add(a)
            add(c)
        return out

    def _bullet_without_intro(self, c: EvidenceItem, chosen: list[EvidenceItem]) -> bool:
        if c.text.lstrip()[:1] not in BULLETS:
            return False
        return not any(
            x.chunk.id == c.chunk.id and x.position < c.position and x.text.rstrip().endswith(":") for x in chosen
        )

    def _before(self, ev: Evidence, c: EvidenceItem) -> EvidenceItem | None:
        """The sentence before `c` that it leans on: for a bullet item, the list's opening sentence."""
        sentences = chunk_sentences(c.chunk.text)
        bullet = c.text.lstrip()[:1] in BULLETS
        for i in range(c.position - 1, -1, -1):
            if bullet and sentences[i].lstrip()[:1] in BULLETS:
                continue
            if bullet and not sentences[i].rstrip().endswith(":"):
                continue  # an item's explanation; the opening sentence is further up
            return self._item(ev, c.chunk, i, sentences[i])
        found = self.neighbour(c.chunk, -1)
        if found is None:
            return None
        chunk, i = found
        return self._item(ev, chunk, i, chunk_sentences(chunk.text)[i])

    @staticmethod
    def _item(ev: Evidence, chunk: Chunk, position: int, text: str) -> EvidenceItem:
        """The evidence item of a sentence, scored or (when it was not among the candidates) bare."""
        for c in ev.items:
            if c.chunk.id == chunk.id and c.position == position:
                return c
        for c in ev.items:  # overlapping chunks repeat sentences
            if c.text == text:
                return c
        return EvidenceItem(
            text=text,
            hit_index=len(ev.hits),
            position=position,
            chunk=chunk,
            terms=frozenset(),
            info=SentenceInfo("body"),
        )

    # -------------------------------------------------------------- writing

    def _sentence(self, c: EvidenceItem, match, several: bool) -> DraftSentence:
        """The answer's sentence for an item: the quote itself, or a table row read out; with the
        source (and the figure's period, when the quote does not name it) if the answer cites several."""
        if c.info.role == "row" and c.info.facts:
            fact = match.fact if match is not None else c.info.facts[0]
            text = row_sentence(fact, self.spell, self.counted_rows)
            quote = row_quote(c.chunk, fact)
        else:
            text = quote = c.clean
        if several:
            source = self.sources.get(c.chunk.source_id)
            title = source.title if source else c.chunk.source_id
            dated = [f for f in c.info.facts if f.period and not f.period_stated and f.period.label not in text]
            when = f" ({dated[0].period.label})" if dated and _label_in(dated[0].period, c) else ""
            text = f"Volgens {title}{when}: {text}"
        return DraftSentence(text=text, item=c, quote=quote)


def _label_in(period: Period, c: EvidenceItem) -> bool:
    """The period's years stand in the cited passage or its heading (so the dated sentence cites them)."""
    where = f"{c.chunk.section}\n{c.chunk.text}"
    return all(str(y) in where for y in {period.start.year, period.end.year})


def period_phrase(p: Period) -> str:
    """A period as Dutch prose: "in het tweede kwartaal van 2025", "eind juni 2025", "in de periode 2019-2025"."""
    n = {"quarter": (p.start.month + 2) // 3, "half": (p.start.month + 5) // 6}.get(p.grain, 0)
    aspect = {"end": "eind ", "mid": "medio ", "start": "begin ", "average": "gemiddeld in "}.get(p.aspect, "")
    if p.grain == "quarter":
        body = f"het {_ORDINALS[n - 1]} kwartaal van {p.start.year}"
    elif p.grain == "half":
        body = f"de {_ORDINALS[n - 1]} helft van {p.start.year}"
    elif p.grain == "range":
        return f"in de periode {p.label}"
    else:
        body = p.label.removeprefix(aspect.strip() + " ") if aspect else p.label
    if aspect and aspect != "gemiddeld in ":
        return f"{aspect}{body}" if p.grain in ("year", "month") else f"aan het {aspect.strip()} van {body}"
    return f"{aspect or 'in '}{body}"


_SCALE_WORDS = {1000: "duizend", 1_000_000: "miljoen"}


def _plain(raw: str) -> float:
    """The number a cell writes, Dutch formatting read ("12.500" -> 12500, "11,6" -> 11.6)."""
    digits = raw.strip().rstrip("%").strip()
    try:
        return float(digits.replace(".", "").replace(",", "."))
    except ValueError:
        return 0.0


def row_sentence(fact: Fact, spell: Callable[[str], str] = str, counted_rows: Iterable[str] = ()) -> str:
    """A table row's figure as a Dutch sentence: "Het aantal openstaande vacatures voor zorg & welzijn
    bedroeg in 2025 2.400." Every number in it stands in the row. A row that is a place is named as
    the gazetteer names it ("Groningen (PV)" -> "de provincie Groningen"); a row counted by a column
    that counts its own group (`counted_rows`: "aantal personen") is what is counted ("Het aantal
    werklozen ...")."""
    name = spell(fact.measure.strip()) or "waarde"
    low = _lower_first(name)
    if low.lower().startswith(("aantal", "aandeel", "percentage", "het ", "de ")):
        phrase = f"het {low}" if not low.lower().startswith(("het ", "de ")) else low
    elif fact.kind == "count":
        phrase = f"het aantal {low}"
    else:
        phrase = f"het {low}"
    label, subject = fact.row_label.strip(), ""
    if label and fact.place is not None and fact.place_stated:
        place = fact.place.name
        subject = f" in de {place}" if place[:1].islower() else f" in {place}"  # "de provincie Groningen"
    elif label and fact.kind == "count" and name.lower() in counted_rows:
        phrase = f"het aantal {_lower_first(label)}"
    elif label:
        subject = f" voor {_lower_first(label)}"
    value = fact.raw.strip()
    written = _plain(value)
    scale = round(fact.value / written) if written else 1
    if fact.kind == "percent" and not value.endswith("%"):
        value += "%"
    elif scale in _SCALE_WORDS:
        value += f" {_SCALE_WORDS[scale]}"  # a StatLine cell "11,6" in a column "(x 1 000)"
    when = f" {period_phrase(fact.period)}" if fact.period and fact.period_stated else ""
    sentence = f"{phrase}{subject} bedroeg{when} {value}."
    return sentence[:1].upper() + sentence[1:]


def row_quote(chunk: Chunk, fact: Fact) -> str:
    """The part of a table row's passage that states the figure: from the row's name to the figure's
    cell ("groep: Werklozen. aantal personen 2024: 18.000"), verbatim; the whole row when the cells
    cannot be found in it."""
    text = chunk.text

    def cell_span(header: str, value: str) -> tuple[int, int] | None:
        at = text.find(f"{header}: {value}")
        if at < 0 or not value:
            return None
        ends = [i for i in (text.find("; ", at), text.find(". ", at)) if i >= 0]
        return at, min(ends, default=len(text))

    spans = {i: cell_span(h, v) for i, (h, v) in enumerate(chunk.cells)}
    label = next((sp for i, sp in spans.items() if sp and chunk.cells[i][1] == fact.row_label), None)
    figure = next(
        (sp for i, sp in spans.items() if sp and _plain(chunk.cells[i][1]) == _plain(fact.raw) and i > 0), None
    )
    if label is None or figure is None:
        return text
    return text[min(label[0], figure[0]) : max(label[1], figure[1])]


def _lower_first(name: str) -> str:
    """Lower-case a name's first letter inside a sentence, unless it is an abbreviation ("WW-uitkeringen")."""
    return name if name[1:2].isupper() else name[:1].lower() + name[1:]


__all__ = ["Generator", "ExtractiveGenerator", "row_sentence", "row_quote", "period_phrase"]
