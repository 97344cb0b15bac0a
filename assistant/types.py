"""Typed values passed between pipeline stages and returned to every channel.

Ingest:  sources -> chunking -> facts -> index.
Answer:  analyse (Signals) -> retrieve (Hit) -> score evidence (Evidence) -> decide (Verdict)
         -> generate (Draft) -> core (Answer, with its Trace).
`Answer` is the one result every face (CLI, web, Slack, Teams, evals) renders;
`Answer.to_json()` is the JSON contract they share. The values that stay inside the core
(Signals, Evidence, Verdict, Draft) are dataclasses: they are built per question in the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

SourceKind = Literal["report", "factsheet", "table", "news"]
RefusalReason = Literal["no_evidence", "prediction", "out_of_scope", "invalid_question"]
NoticeKind = Literal["period_not_covered", "place_not_covered", "conflict", "source_forecast", "dated", "follow_up"]
# What a sentence is, as the chunker marks it: only body sentences, captions and source lines are quoted.
SentenceRole = Literal["body", "caption", "source", "boilerplate", "testimonial", "label", "row"]
QUOTABLE_ROLES = ("body", "caption", "source", "row")
# list bullets as the loaders write them (Markdown and DOCX items become "◼ ") and the PDF prints them
BULLETS = "◼•▪●"


class SourceInfo(BaseModel):
    """One entry of the corpus manifest."""

    id: str
    title: str
    publisher: str
    url: str = ""
    kind: SourceKind
    file: str
    published: date
    valid_until: date | None = None
    approved: bool = False
    approved_by: str = ""
    approved_at: datetime | None = None  # when `approved_by` approved it (set by the /beheer page)
    region: str = ""  # the place the source is about, a place of the language file ("arbeidsmarktregio Groningen")
    provenance: str = ""
    period: str = ""
    unit: str = ""


# A source as the content team sees it (the /beheer page): `SourceState`, most pressing first.
SourceState = Literal["missing file", "failed", "expired", "unapproved", "expiring", "approved"]
IndexState = Literal["current", "outdated", "absent"]


class AdminSource(SourceInfo):
    """A manifest entry with what the content team needs to know about it."""

    status: SourceState = Field(
        description="missing file | failed (the last re-index could not read it; `error` says why) | expired | "
        "unapproved | expiring (within 30 days) | approved."
    )
    warning: str = Field("", description="Dutch: expires soon, or has no valid_until.")
    error: str = Field("", description="Dutch: why the last re-index could not read this source (status failed).")
    passages: int = Field(0, description="Passages of this source in the index advisors are answered from.")
    facts: int = Field(0, description="Figures (facts with a measure and value) read from those passages.")
    indexed: IndexState = Field(
        "absent",
        description="current: the index holds this file and entry; outdated: it holds an earlier version (until "
        "the next re-index); absent: not in the index.",
    )


JobStatus = Literal["running", "succeeded", "failed", "interrupted"]


class Job(BaseModel):
    """A background re-index (admin.py), as GET /api/admin/jobs/{id} returns it."""

    id: str
    kind: Literal["reindex"] = "reindex"
    status: JobStatus = "running"
    key_id: str = Field(description="The admin key that started it.")
    started_at: datetime
    finished_at: datetime | None = None
    done: int = Field(0, description="Sources handled so far.")
    total: int = Field(0, description="Approved sources to handle (0 until the manifest is read).")
    current: str = Field("", description="Id of the source being read now.")
    message: str = Field("", description="Dutch: what the job is doing, or how it ended.")
    added: list[str] = Field(default_factory=list)
    replaced: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(
        default_factory=dict, description="Source id -> Dutch reason; its previous version (if any) stays."
    )
    skipped: dict[str, str] = Field(default_factory=dict, description="Not indexed: unapproved, expired, missing.")

    @property
    def finished(self) -> bool:
        return self.status != "running"


class Page(BaseModel):
    """Text of one page (or one table row block) as loaded from a source file."""

    number: str  # printed page label; physical page number as fallback
    index: int  # physical position, 1-based
    text: str
    cells: list[list[str]] = Field(default_factory=list)  # table rows: [header, value] per column
    # The heading path the text stands under, when the file's structure says it (DOCX, HTML: "A › B");
    # None: the chunker finds the headings in the text itself (PDF, text, Markdown).
    section: str | None = None


class Document(BaseModel):
    """A loaded source: its manifest entry, pages and content hash."""

    source: SourceInfo
    pages: list[Page]
    sha256: str


class Chunk(BaseModel):
    """A citable passage: one sentence per line of `text`, each with its role."""

    id: str
    source_id: str
    page: str
    section: str
    text: str
    position: int  # order within the source, for neighbours
    row_label: str = ""  # table rows only
    cells: list[list[str]] = Field(default_factory=list)  # table rows only: [header, value] per column
    roles: list[SentenceRole] = Field(default_factory=list)  # per sentence; empty = all body


class Hit(BaseModel):
    """A retrieved chunk with its fused score and per-retriever ranks."""

    chunk: Chunk
    score: float
    ranks: dict[str, int] = Field(default_factory=dict)
    raw: dict[str, float] = Field(default_factory=dict)  # per-retriever raw score (BM25 score, cosine)


class Citation(BaseModel):
    n: int
    source_id: str
    title: str
    publisher: str
    url: str
    page: str
    section: str
    quote: str  # a verbatim span of the chunk's text
    chunk_id: str
    published: date | None = None
    period: str = ""  # the period the cited figure is for, when known ("tweede kwartaal 2025")


class Passage(BaseModel):
    chunk_id: str
    source_id: str
    page: str
    section: str
    score: float
    text: str


class Notice(BaseModel):
    """Something the advisor must know about the answer, said in its text and given here by kind."""

    kind: NoticeKind
    text: str  # Dutch, as it stands in the answer


class Trace(BaseModel):
    """Why an answer or refusal was given: what the question was taken to ask, which evidence scored
    how, what the guard decided and why, and which fitted parameters were used."""

    question: str
    rewritten: str  # the question as analysed (a follow-up rewritten against the turns before)
    follow_up: bool = False
    carried: list[str] = Field(default_factory=list)  # slots taken from earlier turns: subject, period, place
    signals: dict[str, Any] = Field(default_factory=dict)
    evidence: list[dict[str, Any]] = Field(default_factory=list)  # the best sentences, with scores and features
    facts: list[dict[str, Any]] = Field(default_factory=list)  # figures matching what is asked
    coverage: dict[str, Any] = Field(default_factory=dict)  # asked period/place covered, and by what
    guard: dict[str, Any] = Field(default_factory=dict)  # decision, reasons, model scores
    params: dict[str, Any] = Field(default_factory=dict)  # file, embedder, chunker, fitted on, date
    generator: str = ""
    generation: dict[str, Any] = Field(default_factory=dict)  # a written answer: each sentence's check, fallbacks


class Answer(BaseModel):
    """What the assistant returns for one question."""

    question: str
    answer: str
    refused: bool = False
    refusal_reason: RefusalReason | None = None
    citations: list[Citation] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    generator: str = "extractive"
    timings_ms: dict[str, float] = Field(default_factory=dict)
    trace: Trace | None = None

    def to_json(self, explain: bool = False) -> dict:
        """The JSON contract; the trace only when asked (`explain`), as it is large."""
        return self.model_dump(mode="json", exclude=None if explain else {"trace"})

    def __str__(self) -> str:
        lines = [self.answer]
        if self.citations:
            lines.append("")
            lines.append("Bronnen:")
            for c in self.citations:
                lines.append(f"[{c.n}] {c.title} ({c.publisher}), p. {c.page}, {c.section}")
                lines.append(f'    "{c.quote}"')
        return "\n".join(lines)


# ------------------------------------------------------------------ inside the core


PeriodGrain = Literal["day", "month", "quarter", "half", "year", "range"]
Aspect = Literal["", "end", "mid", "start", "average"]
PlaceKind = Literal["region", "province", "subregion", "municipality", "ambiguous", "country", "union"]


@dataclass(frozen=True)
class Period:
    """A normalised period: inclusive dates, its grain, and which part is meant ("eind", "gemiddeld")."""

    start: date
    end: date
    grain: PeriodGrain
    aspect: Aspect = ""
    label: str = ""  # Dutch, for answers and traces ("eind tweede kwartaal 2025")

    def to_json(self) -> dict:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "grain": self.grain,
            "aspect": self.aspect,
            "label": self.label,
        }

    @classmethod
    def from_json(cls, d: dict) -> "Period":
        return cls(
            date.fromisoformat(d["start"]),
            date.fromisoformat(d["end"]),
            d["grain"],
            d.get("aspect", ""),
            d.get("label", ""),
        )


@dataclass(frozen=True)
class Place:
    """A place of the language file's gazetteer."""

    name: str
    kind: PlaceKind
    group: str = ""


@dataclass(frozen=True)
class Fact:
    """One stated figure: value and kind, what it measures, for which period and place, where it stands."""

    value: float
    raw: str  # as written ("12.500", "71,4%")
    kind: str  # count | percent | amount
    measure: str  # the words of its clause that say what is measured
    measure_terms: frozenset[str]
    period: Period | None
    place: Place | None
    source_id: str
    published: date
    chunk_id: str
    sentence: int  # index of the sentence in the chunk
    text: str  # the verbatim sentence (or table row)
    period_stated: bool = False  # the period stands in the sentence itself, not only in its context
    place_stated: bool = False
    row_label: str = ""

    def to_json(self) -> dict:
        return {
            "value": self.value,
            "raw": self.raw,
            "kind": self.kind,
            "measure": self.measure,
            "period": self.period.to_json() if self.period else None,
            "place": self.place.name if self.place else None,
            "source_id": self.source_id,
            "published": self.published.isoformat(),
            "chunk_id": self.chunk_id,
            "sentence": self.sentence,
            "period_stated": self.period_stated,
            "place_stated": self.place_stated,
            "row_label": self.row_label,
        }


@dataclass(frozen=True)
class SentenceInfo:
    """What ingest found in one sentence of a chunk: its periods, places and figures."""

    role: str
    periods: tuple[Period, ...] = ()
    places: tuple[Place, ...] = ()
    facts: tuple[Fact, ...] = ()
    forecast_words: bool = False


@dataclass
class Signals:
    """What a question asks (the output of `question.analyse`, rewritten for a follow-up)."""

    question: str  # as asked, normalised
    text: str  # what was analysed: the question, or a follow-up rewritten against the turns before
    terms: frozenset[str]
    subject_terms: frozenset[str]  # without the words that only describe asking for a forecast
    query: str = ""  # what retrieval searches with: the question as asked, or the rewritten follow-up
    measure: frozenset[str] = frozenset()  # what is counted: "hoeveel inwoners" -> {"inwoner"}
    asks_quantity: bool = False  # a figure, a quantity or "het aantal" is spoken of
    asks_number: bool = False  # one figure is asked outright ("hoeveel ...?", not a list, not yes/no)
    kind: str = ""  # the kind of figure asked: "percent", "count", or "" when the question does not say
    asks_definition: bool = False
    form: str = ""  # "list", "reason", "who", "when", "where", or ""
    period: Period | None = None
    period_text: str = ""
    compare_years: frozenset[int] = frozenset()  # what a figure is compared with ("hoe verhoudt zich dat tot 2019?")
    now: bool = False  # asks for the latest figure ("nu", "op dit moment")
    place: Place | None = None
    place_text: str = ""
    place_explicit: bool = False  # named in the question (else: the home region, implied)
    place_terms: frozenset[str] = frozenset()  # the words of the places named ("utrecht"): a place, not a subject
    other_places: tuple[Place, ...] = ()  # further places named, for a comparison ("Drenthe tegenover Groningen")
    years: frozenset[int] = frozenset()
    future_years: frozenset[int] = frozenset()
    forecast: bool = False  # seeks a forecast
    forecast_worded: bool = False  # forecast words, not only a future year
    own_view: bool = False  # asks the assistant's own expectation
    personal: bool = False
    off_domain: bool = False  # rights, pay, tax, law, procedures, general knowledge, tasks
    english: bool = False
    names: frozenset[str] = frozenset()  # stems of capitalised words inside the question
    name_words: frozenset[str] = frozenset()
    focus: frozenset[str] = frozenset()  # a follow-up's own terms ("En in de zorg?" -> {"zorg"})
    follow_up: bool = False
    carried: tuple[str, ...] = ()
    history: tuple[str, ...] = ()  # the earlier turns of the conversation, oldest first

    def to_trace(self) -> dict:
        return {
            "terms": sorted(self.terms),
            "measure": sorted(self.measure),
            "asks_quantity": self.asks_quantity,
            "asks_number": self.asks_number,
            "kind": self.kind,
            "other_places": [p.name for p in self.other_places],
            "asks_definition": self.asks_definition,
            "form": self.form,
            "period": self.period.to_json() if self.period else None,
            "period_text": self.period_text,
            "now": self.now,
            "place": self.place.name if self.place else None,
            "place_text": self.place_text,
            "place_explicit": self.place_explicit,
            "future_years": sorted(self.future_years),
            "forecast": self.forecast,
            "forecast_worded": self.forecast_worded,
            "own_view": self.own_view,
            "personal": self.personal,
            "off_domain": self.off_domain,
            "english": self.english,
            "focus": sorted(self.focus),
        }


@dataclass
class EvidenceItem:
    """One scored sentence of a retrieved passage, with its context, period, place and figures."""

    text: str
    hit_index: int  # rank of its passage
    position: int  # sentence index within the passage
    chunk: Chunk
    terms: frozenset[str]
    info: SentenceInfo
    context_terms: frozenset[str] = frozenset()  # section heading + previous sentence
    heading_terms: frozenset[str] = frozenset()  # the nearest heading alone
    window_terms: frozenset[str] = frozenset()  # this sentence, the two before and the one after
    previous: str = ""  # the sentence before, in the same passage
    previous_periods: tuple[Period, ...] = ()  # the periods that sentence names
    forecast: bool = False  # states an expectation
    forecast_inherited: bool = False  # no time words of its own; continues the forecast before it
    anaphoric: bool = False  # starts with a reference to the sentence before ("Dat is 1,7% ...")
    leans: bool = False  # starts with a loose one ("Ook ...", "Daarnaast ..."): needs it only to open an answer
    published: date | None = None
    dense: float = 0.0
    coverage: float = 0.0
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    fact: "FactMatch | None" = None  # its figure that best fits the question (what a table row reads out)

    @property
    def clean(self) -> str:
        """The sentence without a leading bullet: what is quoted."""
        return self.text.lstrip(BULLETS + " ").strip()

    @property
    def context(self) -> str:
        return f"{self.chunk.section}\n{self.previous}"

    def to_trace(self) -> dict:
        return {
            "text": self.clean,
            "source_id": self.chunk.source_id,
            "page": self.chunk.page,
            "section": self.chunk.section,
            "chunk_id": self.chunk.id,
            "passage_rank": self.hit_index + 1,
            "score": round(self.score, 3),
            "features": {k: round(v, 3) for k, v in self.features.items() if v},
            "periods": [p.label for p in self.info.periods],
            "places": [p.name for p in self.info.places],
            "forecast": self.forecast,
            "anaphoric": self.anaphoric,
        }


@dataclass
class FactMatch:
    """A fact weighed against the question: how well its measure, period and place fit."""

    fact: Fact
    item: EvidenceItem
    measure: float  # IDF-weighted coverage of what is asked by the fact's clause
    period: float  # 1 same or inside, 0.5 overlapping, 0 not asked or unknown, -1 another period
    place: float  # the same scale for the place

    def to_trace(self) -> dict:
        return {
            **self.fact.to_json(),
            "measure_fit": round(self.measure, 3),
            "period_fit": self.period,
            "place_fit": self.place,
        }


@dataclass
class Coverage:
    """Whether the sources give the asked figure for the asked period and place."""

    period_covered: bool | None = None  # None: no period asked, or no figure of the measure found
    place_covered: bool | None = None
    periods: list[str] = field(default_factory=list)  # periods the matching figures are for, newest first
    places: list[str] = field(default_factory=list)
    lead: FactMatch | None = None  # the figure for the asked measure, period and place (the latest, for "nu")
    others: list[FactMatch] = field(default_factory=list)  # the same for each further place of a comparison
    nearest: FactMatch | None = None  # the figure to offer when the asked one is not covered

    def to_trace(self) -> dict:
        return {
            "period_covered": self.period_covered,
            "place_covered": self.place_covered,
            "periods": self.periods,
            "places": self.places,
            "lead": self.lead.to_trace() if self.lead else None,
            "others": [m.to_trace() for m in self.others],
            "nearest": self.nearest.to_trace() if self.nearest else None,
        }


@dataclass
class Evidence:
    """The scored evidence every later stage reads: sentences best first, matching figures, coverage."""

    items: list[EvidenceItem]
    hits: list[Hit]
    facts: list[FactMatch] = field(default_factory=list)  # figures of the asked measure, best first
    coverage: Coverage = field(default_factory=Coverage)
    conflicts: list[FactMatch] = field(default_factory=list)  # the lead's figure in other sources, other values

    @property
    def best(self) -> EvidenceItem | None:
        return self.items[0] if self.items else None


@dataclass
class Verdict:
    """The guard's decision on the evidence."""

    refuse: bool
    reason: RefusalReason | None = None
    message: str = ""
    lead: EvidenceItem | None = None  # the sentence the answer must lead with
    also: list[EvidenceItem] = field(default_factory=list)  # must stand beside it (figures that disagree)
    forecast: bool = False  # the lead is a forecast the source states: frame it as the source's
    notices: list[Notice] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # why, in words, for the trace
    scores: dict[str, Any] = field(default_factory=dict)  # model log-odds and features, for the trace


@dataclass
class DraftSentence:
    text: str  # as it reads in the answer (a quote, or a table row written as a sentence)
    item: EvidenceItem
    quote: str  # the verbatim span of the passage it cites


@dataclass
class Draft:
    """What a generator returns: the answer's sentences in order, each citing one passage."""

    sentences: list[DraftSentence] = field(default_factory=list)
    prefix: str = ""  # framing text before the first sentence ("Het volgende is een verwachting uit de bron ...")
    notices: list[Notice] = field(default_factory=list)
    generator: str = ""  # who wrote it ("" = the configured generator); a fallback says "extractive"
    refuse: bool = False  # the generator found no answer in the passages: a no_evidence refusal
    checks: list["SentenceCheck"] = field(default_factory=list)  # the verifier's verdict on each written sentence
    notes: list[str] = field(default_factory=list)  # for the trace: a fallback and why


@dataclass
class EvidencePassage:
    """A passage as a generator is given it: numbered, with its quotable evidence sentences."""

    n: int
    chunk: Chunk
    items: list[EvidenceItem]
    title: str = ""
    published: str = ""


@dataclass(frozen=True)
class GeneratedSentence:
    """A sentence a language model wrote, with the numbers of the passages it says it rests on."""

    text: str
    passages: tuple[int, ...] = ()


@dataclass
class SentenceCheck:
    """The verifier's verdict on one generated sentence."""

    text: str
    passages: tuple[int, ...]
    ok: bool
    reasons: list[str] = field(default_factory=list)
    quote: str = ""  # the cited passage's own sentence that supports it best
    item: EvidenceItem | None = None
    support: float = 0.0

    def to_trace(self) -> dict:
        return {
            "text": self.text,
            "passages": list(self.passages),
            "ok": self.ok,
            "reasons": self.reasons,
            "quote": self.quote,
            "support": self.support,
        }
