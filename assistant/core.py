"""The one Assistant every channel uses: question in, cited `Answer` or refusal out.

    answer = Assistant.open().ask("Hoeveel vacatures stonden er open in Groningen?")

`ask` runs the stages in order, each a function over the types of `types.py`:
analyse (`question.analyse`, a follow-up rewritten by `conversation.resolve`) -> retrieve
(`HybridRetriever`) -> score evidence (`EvidenceScorer`) -> decide (`Guard`) -> generate
(`Generator`). The answer carries a `Trace` of all of it (`assistant ask --explain`).
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Callable, Sequence

from .answer import ExtractiveGenerator, Generator
from .backends import Embedder, VectorStore, get_embedder, get_store
from .chunking import CHUNKER_VERSION, chunk_sentences, split_sentences
from .conversation import resolve
from .errors import ConfigError, IndexNotBuiltError, QuestionError
from .evidence import EvidenceScorer
from .facts import source_period
from .guard import Guard
from .idf import TermWeights
from .index import IndexSnapshot, SentenceInfos, annotation_key, load_snapshot, open_lookup, passage_index
from .lexicon import Lexicon
from .params import Params, load_params, params_file
from .question import analyse
from .retrieve import Filters, HybridRetriever
from .settings import Settings
from .sources import is_expired
from .spelling import Speller
from .types import Answer, Chunk, Citation, Draft, Evidence, Hit, Passage, Signals, SourceInfo, Trace, Verdict


class Assistant:
    def __init__(
        self,
        settings: Settings,
        store: VectorStore,
        embedder: Embedder,
        snapshot: IndexSnapshot,
        params: Params | None = None,
    ):
        self.settings, self.store, self.embedder, self.snapshot = settings, store, embedder, snapshot
        self.lexicon = Lexicon.load(settings.lexicon_file)
        if snapshot.annotations_key != annotation_key(self.lexicon):
            raise IndexNotBuiltError(
                f"The index was annotated with another language file ({settings.lexicon_file}) or fact extractor; "
                "run `assistant ingest` to read the sources again (`assistant serve` does this by itself)."
            )
        self.params = params or load_params(settings, embedder.name, CHUNKER_VERSION)
        self.data_date: date = max(s.published for s in snapshot.sources.values())
        # the passage side from the passage folder: BM25 memory-mapped, corpus statistics, passages by id
        self.lookup = open_lookup(store, snapshot.passages or passage_index(store), snapshot.versions, self.lexicon)
        self.retriever = HybridRetriever(snapshot, store, embedder, settings.retrieval, self.lexicon, self.lookup)
        self.weights = TermWeights.from_counts(self.lookup.n, self.lookup.df, self.lexicon.stem_aliases)
        self.evidence = EvidenceScorer(
            embedder=embedder,
            lexicon=self.lexicon,
            weights=self.weights,
            params=self.params,
            settings=settings.answer,
            data_date=self.data_date,
            infos=SentenceInfos(self.lookup, self.lexicon),
            published={sid: s.published for sid, s in snapshot.sources.items()},
            default_periods={sid: source_period(s, self.lexicon) for sid, s in snapshot.sources.items()},
            lookup=self.lookup,
        )
        n = max(self.lookup.n, 1)
        self.guard = Guard(
            self.weights,
            self.params,
            self.data_date.year,
            [],
            settings.guard.min_coverage,
            name_share=lambda prefix: self.lookup.index.prefix_count(prefix, snapshot.versions) / n,
        )
        self.speller = Speller((), keep=self.lexicon.words | self.lexicon.stopwords, counts=self.lookup.words)
        self.generator: Generator = make_generator(settings, self)

    @classmethod
    def open(
        cls, settings: Settings | None = None, store: VectorStore | None = None, embedder: Embedder | None = None
    ) -> "Assistant":
        """Open the built index; raises IndexNotBuiltError when there is none (or it is stale)."""
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

    def signals(self, question: str, history: Sequence[str] = ()) -> Signals:
        """What the question asks, read in its conversation (typing errors read as the source words meant)."""
        fix = self.speller.correct
        signals = resolve(
            fix(question),
            [fix(h) for h in history],
            lambda q: analyse(q, self.lexicon, self.data_date),
            self.lexicon,
            self.data_date,
        )
        signals.history = tuple(history)
        return signals

    def ask(
        self,
        question: str,
        *,
        history: Sequence[str] = (),
        filters: Filters | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> Answer:
        """Answer one question from the approved sources, or refuse with a reason.

        `on_text` receives a writing generator's text as it comes (unverified: for a live view only;
        the returned `Answer` holds the verified sentences)."""
        t0 = time.perf_counter()
        question = self.validate(question)
        timings: dict[str, float] = {}

        signals, hits, evidence, verdict = self.examine(question, history=history, filters=filters, timings=timings)

        t = time.perf_counter()
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
        draft = None
        if verdict.refuse:
            answer = self._refusal(question, verdict, passages)
        else:
            draft = self.generator.generate(signals, evidence, verdict, on_text=on_text)
            if draft.refuse:  # the model read the passages and found no answer
                verdict = self.guard.no_evidence(verdict)
                answer = self._refusal(question, verdict, passages)
                answer.generator = draft.generator  # the refusal is the model's, not the guard's
            else:
                answer = self._answer(question, draft, passages)
        timings["generate_ms"] = _ms(t)
        timings["total_ms"] = _ms(t0)
        answer.timings_ms = {k: round(v, 2) for k, v in timings.items()}
        answer.trace = self._trace(question, signals, evidence, verdict, draft)
        return answer

    def examine(
        self,
        question: str,
        *,
        history: Sequence[str] = (),
        filters: Filters | None = None,
        timings: dict[str, float] | None = None,
    ) -> tuple[Signals, list[Hit], Evidence, Verdict]:
        """The stages before generation: what is asked, the passages, the scored evidence, the verdict."""
        timings = {} if timings is None else timings
        t = time.perf_counter()
        # a source that expired after the ingest is withheld from today on, before the next ingest removes it
        today = self.settings.effective_today()
        self.lookup.withheld = frozenset(sid for sid, s in self.snapshot.sources.items() if is_expired(s, today))
        signals = self.signals(question, history)
        qvec = self.embedder.embed_query(signals.query)
        timings["analyse_ms"] = _ms(t)

        t = time.perf_counter()
        k = max(self.settings.retrieval.k, self.settings.answer.context_passages)
        hits = self.retriever.retrieve(signals.query, k=k, filters=filters, query_vector=qvec)
        timings["retrieve_ms"] = _ms(t)

        t = time.perf_counter()
        evidence = self.evidence.score(signals, qvec, hits)
        timings["evidence_ms"] = _ms(t)

        t = time.perf_counter()
        verdict = self.guard.check(signals, evidence)
        timings["guard_ms"] = _ms(t)
        return signals, hits, evidence, verdict

    def _refusal(self, question: str, verdict: Verdict, passages: list[Passage]) -> Answer:
        text, citations = verdict.message, []
        if verdict.reason == "prediction" and verdict.lead is not None:  # a sourced figure, never a forecast
            citations = [self._cite(1, verdict.lead.chunk, verdict.lead.clean)]
            text += f" Wel staat in de bronnen: {_sentence(verdict.lead.clean)} [1]"
        return Answer(
            question=question,
            answer=text,
            refused=True,
            refusal_reason=verdict.reason,
            citations=citations,
            notices=verdict.notices,
            passages=passages,
        )

    def _answer(self, question: str, draft: Draft, passages: list[Passage]) -> Answer:
        parts = [n.text for n in draft.notices if n.kind != "source_forecast"]
        if draft.prefix:
            parts.append(draft.prefix)
        citations = []
        for n, s in enumerate(draft.sentences, 1):
            facts = [f for f in s.item.info.facts if f.period and f.period_stated]
            citations.append(self._cite(n, s.item.chunk, s.quote, facts[0].period.label if facts else ""))
            # a sentence quoted with the one it refers back to: each of them carries the marker
            parts.extend(f"{_sentence(part)} [{n}]" for part in split_sentences(s.text))
        return Answer(
            question=question,
            answer=" ".join(parts),
            citations=citations,
            notices=draft.notices,
            passages=passages,
            generator=draft.generator or self.generator.name,
        )

    def _cite(self, n: int, chunk: Chunk, quote: str, period: str = "") -> Citation:
        src = self.sources[chunk.source_id]
        return Citation(
            n=n,
            source_id=src.id,
            title=src.title,
            publisher=src.publisher,
            url=src.url,
            page=chunk.page,
            section=chunk.section,
            quote=quote,
            chunk_id=chunk.id,
            published=src.published,
            period=period,
        )

    def neighbour(self, chunk: Chunk, step: int) -> tuple[Chunk, int] | None:
        """The chunk and sentence index of the sentence before a chunk's first one (chunks overlap
        by `overlap_sentences`), for a first sentence that refers back."""
        other = self.lookup.index.at_position(chunk.source_id, chunk.position + step, self.snapshot.versions)
        if other is None or other.section != chunk.section:
            return None
        sentences = chunk_sentences(other.text)
        overlap = self.settings.chunking.overlap_sentences
        index = len(sentences) - 1 - overlap
        return (other, index) if 0 <= index < len(sentences) else None

    def _trace(self, question: str, signals: Signals, ev: Evidence, verdict: Verdict, draft: Draft | None) -> Trace:
        return Trace(
            question=question,
            rewritten=signals.text,
            follow_up=signals.follow_up,
            carried=list(signals.carried),
            signals=signals.to_trace(),
            evidence=[c.to_trace() for c in ev.items[:8]],
            facts=[m.to_trace() for m in ev.facts[:8]],
            coverage=ev.coverage.to_trace(),
            guard={
                "refuse": verdict.refuse,
                "reason": verdict.reason,
                "reasons": verdict.reasons,
                "lead": verdict.lead.clean if verdict.lead else None,
                "forecast": verdict.forecast,
                "conflicts": [m.to_trace() for m in ev.conflicts],
                **verdict.scores,
            },
            params={
                "file": str(params_file(self.settings)),
                "version": self.params.version,
                "embedder": self.params.embedder,
                "chunker_version": self.params.chunker_version,
                "created": self.params.created,
                "training_sets": self.params.training_sets,
            },
            generator=(draft.generator if draft and draft.generator else self.generator.name),
            generation=(
                {
                    "configured": self.generator.name,
                    "notes": draft.notes,
                    "checks": [c.to_trace() for c in draft.checks],
                }
                if draft is not None and (draft.checks or draft.notes)
                else {}
            ),
        )


GENERATORS = ("extractive", "openai")


def make_generator(settings: Settings, assistant: Assistant) -> Generator:
    if settings.generator not in GENERATORS:
        raise ConfigError(
            f"Unknown generator {settings.generator!r}; choose from {', '.join(GENERATORS)} (ASSISTANT_GENERATOR)."
        )
    extractive = ExtractiveGenerator(
        assistant.weights,
        settings.answer,
        assistant.sources,
        assistant.neighbour,
        assistant.lexicon.spell,
        assistant.lexicon.data.sentences.counted_rows,
    )
    if settings.generator == "extractive":
        return extractive
    from .llm import OpenAIGenerator
    from .verifier import Verifier, VerifierParams

    verifier = Verifier(assistant.lexicon, assistant.weights, VerifierParams.load(settings.params_dir))
    return OpenAIGenerator(settings.llm, extractive, verifier, assistant.sources)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


__all__ = ["Assistant", "make_generator"]
