"""Typed values passed between pipeline stages and returned to every channel.

Stages: sources -> chunking -> index -> retrieve -> answer/guard -> core.
`Answer` is the one result every face (CLI, web, Slack, Teams, evals) renders;
`Answer.to_json()` is the JSON contract they share.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

SourceKind = Literal["report", "factsheet", "table"]
RefusalReason = Literal["no_evidence", "prediction", "out_of_scope", "invalid_question"]


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
    provenance: str = ""
    period: str = ""
    unit: str = ""


class Page(BaseModel):
    """Text of one page (or one table row block) as loaded from a source file."""

    number: str  # printed page label; physical page number as fallback
    index: int  # physical position, 1-based
    text: str


class Document(BaseModel):
    """A loaded source: its manifest entry, pages and content hash."""

    source: SourceInfo
    pages: list[Page]
    sha256: str


class Chunk(BaseModel):
    """A citable passage."""

    id: str
    source_id: str
    page: str
    section: str
    text: str
    position: int  # order within the source, for neighbours
    row_label: str = ""  # table rows only


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
    quote: str
    chunk_id: str


class Passage(BaseModel):
    chunk_id: str
    source_id: str
    page: str
    section: str
    score: float
    text: str


class Answer(BaseModel):
    """What the assistant returns for one question."""

    question: str
    answer: str
    refused: bool = False
    refusal_reason: RefusalReason | None = None
    citations: list[Citation] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)

    def to_json(self) -> dict:
        return self.model_dump(mode="json")

    def __str__(self) -> str:
        lines = [self.answer]
        if self.citations:
            lines.append("")
            lines.append("Bronnen:")
            for c in self.citations:
                lines.append(f"[{c.n}] {c.title} ({c.publisher}), p. {c.page}, {c.section}")
                lines.append(f'    "{c.quote}"')
        return "\n".join(lines)
