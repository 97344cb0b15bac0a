"""The one Assistant every channel uses: question in, cited `Answer` or refusal out.

answer = Assistant.open().ask("Hoeveel vacatures stonden er open in Groningen?")
"""

from __future__ import annotations

import re
import time
from typing import Sequence

from .answer import Candidate, ExtractiveGenerator, Generator
from .backends import Embedder, VectorStore, get_embedder, get_store
from .errors import ConfigError, QuestionError
from .guard import Guard
from .index import IndexSnapshot, load_snapshot, search_text
from .question import QuestionAnalysis, TermWeights, analyse
from .retrieve import Filters, HybridRetriever
from .settings import Settings
from .similarity import SimilarityScale, scale_for
from .text import content_terms, years
from .types import Answer, Citation, Hit, Passage, SourceInfo

# A short turn that leans on the previous one: "En in de zorg?", "En voor jongeren?", "Wat zijn de oorzaken daarvan?"
_FOLLOW_UP = re.compile(
    r"^\s*(?:en|maar|ook|of|dus)\b|\b(?:daarvan|daarbij|daar|dat|die|hiervan|hetzelfde|zelfde)\b", re.IGNORECASE
)


def contextualize(question: str, history: Sequence[str]) -> str:
    """Resolve a follow-up against the previous question of the same conversation.

    A turn is a follow-up when it starts with a connective ("En ...") or points back
    ("daarvan") and is short; it is then read together with the previous question, so
    retrieval sees both the old subject and the new focus.
    """
    if not history:
        return question
    words = question.split()
    if len(words) <= 8 and _FOLLOW_UP.search(question):
        return f"{history[-1].rstrip('?')}: {question}"
    return question


class Assistant:
    def __init__(self, settings: Settings, store: VectorStore, embedder: Embedder, snapshot: IndexSnapshot):
        self.settings = settings
        self.store = store
        self.embedder = embedder
        self.snapshot = snapshot
        self.data_year = max(s.published.year for s in snapshot.sources.values())
        self.retriever = HybridRetriever(snapshot, store, embedder, settings.retrieval)
        texts = [search_text(c) for c in snapshot.chunks]
        self.weights = TermWeights(texts)
        self.similarity = scale_for(settings.embedder, embedder, snapshot.chunks)
        self.generator: Generator = make_generator(settings, embedder, self.weights, self.data_year, self.similarity)
        self.guard = Guard(self.weights, self.data_year, texts)

    @classmethod
    def open(
        cls, settings: Settings | None = None, store: VectorStore | None = None, embedder: Embedder | None = None
    ) -> "Assistant":
        """Open the built index; raises IndexNotBuiltError when there is none."""
        settings = settings or Settings()
        store = store or get_store(settings)
        embedder = embedder or get_embedder(settings)
        return cls(settings, store, embedder, load_snapshot(store))

    @property
    def sources(self) -> dict[str, SourceInfo]:
        return self.snapshot.sources

    def validate(self, question: str) -> str:
        question = (question or "").strip()
        if not question:
            raise QuestionError("Empty question.", "Stel een vraag: het invoerveld is leeg.")
        limit = self.settings.guard.max_question_chars
        if len(question) > limit:
            raise QuestionError(
                f"Question has {len(question)} characters; the limit is {limit}.",
                f"De vraag is te lang ({len(question)} tekens). Houd het bij maximaal {limit} tekens.",
            )
        if not re.search(r"\w", question):
            raise QuestionError("Question has no words.", "Stel een vraag in woorden.")
        return question

    def ask(self, question: str, *, history: Sequence[str] = (), filters: Filters | None = None) -> Answer:
        """Answer one question from the approved sources, or refuse with a reason."""
        t0 = time.perf_counter()
        question = self.validate(question)
        effective = contextualize(question, history)
        timings: dict[str, float] = {}

        t = time.perf_counter()
        q = analyse(effective, self.data_year)
        if effective != question:  # a follow-up: its own words are what the answer must be about
            q.focus = content_terms(question)
        qvec = self.embedder.embed_query(effective)
        timings["analyse_ms"] = _ms(t)

        t = time.perf_counter()
        k = max(self.settings.retrieval.k, self.settings.answer.context_passages)
        hits = self.retriever.retrieve(effective, k=k, filters=filters, query_vector=qvec)
        timings["retrieve_ms"] = _ms(t)

        t = time.perf_counter()
        comp = self.generator.compose(q, qvec, hits)
        timings["compose_ms"] = _ms(t)

        t = time.perf_counter()
        verdict = self.guard.check(q, comp)
        if verdict.forecast is not None:
            comp = self.generator.recompose(q, comp, hits, lead=verdict.forecast)
        timings["guard_ms"] = _ms(t)

        passages = [
            Passage(
                chunk_id=h.chunk.id,
                source_id=h.chunk.source_id,
                page=h.chunk.page,
                section=h.chunk.section,
                score=round(h.score, 5),
                text=h.chunk.text,
            )
            for h in hits[: self.settings.retrieval.k]
        ]
        if verdict.refuse:
            text, citations = verdict.message, []
            if verdict.reason == "prediction":
                nearest = self._nearest_fact(q, comp.candidates)
                if nearest is not None:
                    citations = [self._cite(1, hits[nearest.hit_index], nearest.clean)]
                    text += f" Wel staat in de bronnen: {nearest.clean} [1]"
            answer = Answer(
                question=question,
                answer=text,
                refused=True,
                refusal_reason=verdict.reason,
                citations=citations,
                passages=passages,
            )
        else:
            parts, citations = [], []
            for n, sentence in enumerate(comp.sentences, 1):
                citations.append(self._cite(n, hits[sentence.hit_index], sentence.clean))
                body = sentence.clean if sentence.clean.endswith((".", "!", "?", ":")) else sentence.clean + "."
                parts.append(f"{body} [{n}]")
            text = " ".join(parts)
            if verdict.forecast is not None:
                text = f"Dit is een verwachting uit de bron, geen voorspelling van de assistent: {text}"
            answer = Answer(question=question, answer=text, citations=citations, passages=passages)
        timings["total_ms"] = _ms(t0)
        answer.timings_ms = {k: round(v, 2) for k, v in timings.items()}
        return answer

    def _nearest_fact(self, q: QuestionAnalysis, candidates: list[Candidate]) -> Candidate | None:
        """A sourced, non-forecast figure on the same subject, offered beside a prediction refusal."""
        for c in candidates[:10]:
            if c.forecast or any(y > self.data_year for y in years(c.text)):
                continue
            if c.coverage >= self.settings.guard.min_coverage and c.score > 0:
                return c
        return None

    def _cite(self, n: int, hit: Hit, quote: str) -> Citation:
        src = self.sources[hit.chunk.source_id]
        return Citation(
            n=n,
            source_id=src.id,
            title=src.title,
            publisher=src.publisher,
            url=src.url,
            page=hit.chunk.page,
            section=hit.chunk.section,
            quote=quote,
            chunk_id=hit.chunk.id,
        )


def make_generator(
    settings: Settings, embedder: Embedder, weights: TermWeights, data_year: int, scale: SimilarityScale | None = None
) -> Generator:
    if settings.generator == "extractive":
        return ExtractiveGenerator(embedder, weights, settings.answer, data_year, scale or SimilarityScale())
    raise ConfigError(f"Unknown generator {settings.generator!r}; choose from extractive (ASSISTANT_GENERATOR).")


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


__all__ = ["Assistant", "contextualize"]
