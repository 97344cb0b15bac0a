"""Figures as data: at ingest every sentence of a chunk is annotated with its periods, places and
stated figures (`Fact`), and every numeric cell of a table row becomes a fact too.

A figure's period is the time expression nearest to it in its clause, else in its sentence, else
the section heading's, else the previous sentence's, else the source's (manifest `period`); its
place likewise, ending with the source's `region`. Relative expressions ("vorig jaar") in a source
are read against that source's publication date. A number that is a year or a label
("beroepsniveau 2", "55-plussers") is no figure.

    annotate_chunk(chunk, source, lexicon)   # -> [SentenceInfo, ...], one per sentence of the chunk
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from .chunking import chunk_sentences
from .lexicon import Lexicon
from .periods import PeriodMention, find_periods, is_reference, reference_markers, year_range
from .places import PlaceMention
from .text import parse_numbers
from .types import Chunk, Fact, Period, Place, SentenceInfo, SourceInfo

# Version of what `annotate_chunk` writes: part of every source version, so a change re-annotates.
FACTS_VERSION = 9

_CLAUSE = re.compile(r"[;:]\s|,\s+|\s(?:en|maar|terwijl|waarvan|waarbij|tegenover|oftewel)\s|\s[–-]\s")
_NUMERIC_CELL = re.compile(r"^[-+−]?\s*\d")
_PERCENT_HEADER = re.compile(r"%|procent|percentage|aandeel", re.IGNORECASE)
_SCALE_HEADER = re.compile(r"\(\s*x\s*([\d .]+)\)", re.IGNORECASE)
_PERIOD_HEADER = re.compile(r"perio|jaar|kwartaal|maand|datum", re.IGNORECASE)
_PLACE_HEADER = re.compile(r"regio|gemeente|provincie|plaats|gebied|land", re.IGNORECASE)
_PLACE_KINDS = {"gemeente": "municipality", "provincie": "province", "regio": "region"}
# CBS StatLine names a region with its kind: "Drenthe (PV)", "Tynaarlo (GM)", "Groningen (gemeente)",
# "Noord-Drenthe (CR)" (COROP area), "Noord-Nederland (LD)" (landsdeel). The code decides the reading of a
# bare name, and a coded region the language file does not know is not the source's own region.
_STATLINE_REGION = re.compile(r"\((PV|GM|gemeente|CR|LD)\)\s*$", re.IGNORECASE)
_STATLINE_KINDS = {"pv": "province", "gm": "municipality", "gemeente": "municipality", "cr": "subregion"}


def source_period(source: SourceInfo, lexicon: Lexicon) -> Period | None:
    """The manifest's `period` as one range (its first to its last period)."""
    mentions = [m for m in find_periods(source.period, lexicon, source.published, infer_year=False) if m.period]
    if not mentions:
        return None
    if len(mentions) == 1:
        return mentions[0].period
    first, last = min(m.period.start for m in mentions), max(m.period.end for m in mentions)
    return year_range(first.year, last.year, source.period)


def source_place(source: SourceInfo, lexicon: Lexicon) -> Place | None:
    found = lexicon.places.find(source.region) if source.region else []
    return found[0].place if found else None


def annotate_chunk(chunk: Chunk, source: SourceInfo, lexicon: Lexicon) -> list[SentenceInfo]:
    """Periods, places and facts of every sentence of a chunk (see the module docstring)."""
    sentences = chunk_sentences(chunk.text)
    roles = chunk.roles or ["body"] * len(sentences)
    default_period, default_place = source_period(source, lexicon), source_place(source, lexicon)
    if chunk.cells:
        facts = row_facts(chunk, source, lexicon, default_period, default_place)
        periods = tuple(dict.fromkeys(f.period for f in facts if f.period))
        places = tuple(dict.fromkeys(f.place for f in facts if f.place))
        return [SentenceInfo("row", periods, places, tuple(facts), False)]
    heading = chunk.section.split(" › ")[-1]
    heading_periods = [m for m in find_periods(heading, lexicon, source.published, infer_year=False) if m.period]
    heading_places = [_resolved(m, default_place) for m in lexicon.places.find(heading)]
    forecast = lexicon.phrases("forecast.words")
    markers = reference_markers(lexicon)
    out: list[SentenceInfo] = []
    carry_period: Period | None = None  # the previous sentence's period (a list under "... eind maart 2025:")
    carry_place: Place | None = None
    for i, (text, role) in enumerate(zip(sentences, roles)):
        periods = [m for m in find_periods(text, lexicon, source.published, infer_year=False) if m.period]
        own = [m for m in periods if not is_reference(text, m, markers)]
        places = [_resolved(m, default_place) for m in lexicon.places.find(text)]
        facts: list[Fact] = []
        # Figures are stated by the text; a caption names a chart and a note ("Bron: …", "*: …") says
        # how it was made, so the years and counts in them are not figures of what they describe.
        for number in parse_numbers(text, lexicon) if role == "body" else ():
            if not number.figure or any(m.start <= number.start and number.end <= m.end for m in periods):
                continue  # no figure, or the length of a period ("de afgelopen tien jaar")
            lo, hi = _clause(text, number.start, number.end)
            period, period_stated = _nearest(own, number.start, lo, hi), True
            if period is None:
                period_stated = False
                period = (heading_periods[0].period if heading_periods else None) or carry_period or default_period
            place = _nearest(places, number.start, lo, hi)
            place_stated = place is not None
            if place is None:
                place = (heading_places[0].place if heading_places else None) or carry_place or default_place
            measure = text[lo:hi].strip(" ,;:")
            facts.append(
                Fact(
                    value=number.value,
                    raw=number.raw,
                    kind=number.kind,
                    measure=measure,
                    measure_terms=lexicon.terms(measure),
                    period=period,
                    place=place,
                    source_id=source.id,
                    published=source.published,
                    chunk_id=chunk.id,
                    sentence=i,
                    text=text,
                    period_stated=period_stated,
                    place_stated=place_stated,
                )
            )
        info = SentenceInfo(
            role,
            tuple(m.period for m in periods),
            tuple(m.place for m in places),
            tuple(facts),
            forecast.search(text.lower()),
        )
        out.append(info)
        # what the next sentence inherits: this one's own period and place, or those its figures took on
        carry_period = own[0].period if own else (carry_period if facts else None)
        carry_place = places[0].place if places else (carry_place if facts else None)
    return out


def _clause(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of the clause around a number: between the nearest clause breaks."""
    lo, hi = 0, len(text)
    for m in _CLAUSE.finditer(text):
        if m.end() <= start:
            lo = m.end()
        elif m.start() >= end:
            hi = m.start()
            break
    return lo, hi


def _resolved(mention: PlaceMention, home: Place | None) -> PlaceMention:
    """A bare name in a source about one of the places it may mean is that place: "Groningen" in the
    report on the arbeidsmarktregio Groningen is the region, not the municipality."""
    place = mention.place
    if home is not None and place.kind == "ambiguous" and home.kind != "ambiguous" and home.group == place.group:
        return replace(mention, place=home)
    return mention


def _nearest(mentions: list[PeriodMention] | list[PlaceMention], pos: int, lo: int, hi: int):
    """The mention nearest to `pos`, preferring one in the clause [lo, hi); its period or place."""
    if not mentions:
        return None
    inside = [m for m in mentions if lo <= m.start < hi] or mentions
    best = min(inside, key=lambda m: abs(m.start - pos))
    return best.period if isinstance(best, PeriodMention) else best.place


def row_facts(chunk: Chunk, source: SourceInfo, lexicon: Lexicon, default_period, default_place) -> list[Fact]:
    """Facts of a table row: one per numeric cell, with the row's period and place columns (or the
    period in the column header, "aantal personen 2024"), else the source's. A StatLine region code
    ("(GM)", "(PV)") says which reading of a place name is meant; a coded region the language file does
    not know leaves the place unknown rather than the source's."""
    cells = chunk.cells
    label = cells[0][1] if cells else ""
    row_period = row_place = None
    coded_elsewhere = False  # a StatLine region the language file does not know: the row is about another place
    for header, value in cells:
        if row_period is None and _PERIOD_HEADER.search(header):
            found = [m for m in find_periods(value, lexicon, source.published, infer_year=False) if m.period]
            row_period = found[0].period if found else None
        if row_place is None and not coded_elsewhere and (_PLACE_HEADER.search(header) or header == cells[0][0]):
            places = lexicon.places.find(value)
            row_place = places[0].place if places and len(places[0].place.name) >= 3 else None
            code = _STATLINE_REGION.search(value)
            kind = _STATLINE_KINDS.get(code.group(1).lower(), "") if code else ""
            kind = kind or next((k for word, k in _PLACE_KINDS.items() if word in header.lower()), "")
            if row_place is not None and kind:
                row_place = lexicon.places.reading(row_place, kind)
            coded_elsewhere = row_place is None and code is not None
    facts = []
    for header, value in cells[1:]:
        if not _NUMERIC_CELL.match(value) or _PERIOD_HEADER.search(header) and not _PERCENT_HEADER.search(header):
            continue
        numbers = [n for n in parse_numbers(value, lexicon) if not n.year]
        if not numbers:
            continue
        number = numbers[0]
        kind = "percent" if _PERCENT_HEADER.search(header) or number.kind == "percent" else number.kind
        scale = _SCALE_HEADER.search(header)
        multiplier = float(scale.group(1).replace(" ", "").replace(".", "")) if scale else 1.0
        header_periods = [m for m in find_periods(header, lexicon, source.published, infer_year=False) if m.period]
        period = header_periods[0].period if header_periods else row_period or default_period
        measure = _SCALE_HEADER.sub("", re.sub(r"\(%\)", "", header))
        for m in sorted(header_periods, key=lambda m: -m.start):
            measure = measure[: m.start] + measure[m.end :]
        measure = re.sub(r"\s+", " ", measure).strip()
        facts.append(
            Fact(
                value=number.value * multiplier,
                raw=value,
                kind=kind,
                measure=measure,
                measure_terms=lexicon.terms(f"{measure} {label}"),
                period=period,
                place=row_place or (None if coded_elsewhere else default_place),
                source_id=source.id,
                published=source.published,
                chunk_id=chunk.id,
                sentence=0,
                text=chunk.text,
                period_stated=period is not default_period,
                place_stated=row_place is not None,
                row_label=label,
            )
        )
    return facts


# ------------------------------------------------------------------ storage (chunk metadata)


def dump_infos(infos: list[SentenceInfo]) -> list[dict]:
    return [
        {
            "role": i.role,
            "periods": [p.to_json() for p in i.periods],
            "places": [p.name for p in i.places],
            "facts": [f.to_json() for f in i.facts],
            "forecast_words": i.forecast_words,
        }
        for i in infos
    ]


def load_infos(data: list[dict], chunk: Chunk, text_sentences: list[str], lexicon: Lexicon) -> list[SentenceInfo]:
    """The stored annotations of a chunk, with places resolved in the current gazetteer."""
    places = lexicon.places
    out = []
    for i, d in enumerate(data):
        facts = tuple(
            Fact(
                value=f["value"],
                raw=f["raw"],
                kind=f["kind"],
                measure=f["measure"],
                measure_terms=lexicon.terms(f"{f['measure']} {f.get('row_label', '')}"),
                period=Period.from_json(f["period"]) if f["period"] else None,
                place=places.get(f["place"]) if f["place"] else None,
                source_id=f["source_id"],
                published=date.fromisoformat(f["published"]),
                chunk_id=f["chunk_id"],
                sentence=f["sentence"],
                text=text_sentences[min(f["sentence"], len(text_sentences) - 1)] if not chunk.cells else chunk.text,
                period_stated=f["period_stated"],
                place_stated=f["place_stated"],
                row_label=f.get("row_label", ""),
            )
            for f in d["facts"]
        )
        out.append(
            SentenceInfo(
                d["role"],
                tuple(Period.from_json(p) for p in d["periods"]),
                tuple(p for p in (places.get(n) for n in d["places"]) if p),
                facts,
                d["forecast_words"],
            )
        )
    return out


__all__ = ["annotate_chunk", "row_facts", "dump_infos", "load_infos", "source_period", "source_place", "FACTS_VERSION"]
