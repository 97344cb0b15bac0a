"""The systems an evaluation compares: our pipeline and the baselines, behind one `Pipeline` protocol.

- `pipeline`: the Assistant exactly as the channels use it.
- `bm25-only` / `dense-only`: the same Assistant with `Settings.retrieval.mode` = bm25 / dense.
- `naive-top3`: the naive extractive composer: the three sentences most similar (by the
  configured embedder, e5 by default) to the question among the top-3 fused passages, each
  cited, never a refusal. The issue that set our answer targets measures against it.
- `langchain-naive`: what a user would write with LangChain defaults over the same loaded
  source text: RecursiveCharacterTextSplitter(1000, 200) per page, an in-memory Chroma with
  our embedder wrapped as LangChain `Embeddings`, the top-4 passages concatenated as the
  answer (each followed by its citation marker), never a refusal.

LangChain and Chroma are imported only inside `LangChainNaive`.
"""

from __future__ import annotations

import time
import uuid
from typing import Callable, Protocol, Sequence

from ..backends import Embedder
from ..chunking import chunk_sentences
from ..core import Assistant
from ..errors import ConfigError, QuestionError
from ..sources import load_document, load_manifest
from ..types import Answer, Citation, Passage


class Pipeline(Protocol):
    """A system under evaluation.

    `ask` answers one question with the core `Answer` contract (never raises for a bad
    question: it refuses with reason invalid_question); `history` holds the earlier questions
    of the same conversation, oldest first. `rank` returns the top-k passages
    the system retrieves for the question, best first. `chunk_texts` maps every chunk id
    the system can cite to its indexed text (for quote exactness and citation support).
    """

    name: str

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer: ...

    def rank(self, question: str, k: int, answer: Answer) -> list[Passage]: ...

    def chunk_texts(self) -> dict[str, str]: ...


class AssistantPipeline:
    """The Assistant the channels use; retrieval is scored on the passages its answer returned."""

    def __init__(self, assistant: Assistant, name: str = "pipeline"):
        self.assistant = assistant
        self.name = name

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        try:
            return self.assistant.ask(question, history=history)
        except QuestionError as exc:
            return Answer(question=question, answer=exc.message_nl, refused=True, refusal_reason="invalid_question")

    def rank(self, question: str, k: int, answer: Answer) -> list[Passage]:
        if len(answer.passages) >= k:
            return answer.passages[:k]
        hits = self.assistant.retriever.retrieve(question, k=k)  # the answer carries fewer than k passages
        return [
            Passage(
                chunk_id=h.chunk.id,
                source_id=h.chunk.source_id,
                page=h.chunk.page,
                section=h.chunk.section,
                score=h.score,
                text=h.chunk.text,
            )
            for h in hits
        ]

    def chunk_texts(self) -> dict[str, str]:
        return {c.id: c.text for c in self.assistant.snapshot.chunks}


def with_history(question: str, history: Sequence[str]) -> str:
    """What a naive system searches with in a conversation: the earlier questions and this one, joined."""
    return " ".join([*history, question])


class NaiveTopSentences:
    """The three sentences of the top-3 fused passages most similar to the question (see module docstring)."""

    name = "naive-top3"
    passages = 3
    sentences = 3

    def __init__(self, assistant: Assistant):
        self.assistant = assistant

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        t0 = time.perf_counter()
        query = with_history(question, history)
        qvec = self.assistant.embedder.embed_query(query)
        hits = self.assistant.retriever.retrieve(query, k=self.passages, query_vector=qvec)
        pool = [(h, s) for h in hits for s in chunk_sentences(h.chunk.text)]
        if not pool:
            return Answer(question=question, answer="", passages=[])
        sims = self.assistant.embedder.embed_passages([s for _, s in pool]) @ qvec
        best = [pool[i] for i in sims.argsort()[::-1][: self.sentences]]
        citations, parts = [], []
        for n, (hit, sentence) in enumerate(best, 1):
            src = self.assistant.sources[hit.chunk.source_id]
            citations.append(
                Citation(
                    n=n,
                    source_id=src.id,
                    title=src.title,
                    publisher=src.publisher,
                    url=src.url,
                    page=hit.chunk.page,
                    section=hit.chunk.section,
                    quote=sentence,
                    chunk_id=hit.chunk.id,
                )
            )
            parts.append(f"{sentence} [{n}]")
        passages = [
            Passage(
                chunk_id=h.chunk.id,
                source_id=h.chunk.source_id,
                page=h.chunk.page,
                section=h.chunk.section,
                score=round(h.score, 5),
                text=h.chunk.text,
            )
            for h in hits
        ]
        return Answer(
            question=question,
            answer=" ".join(parts),
            citations=citations,
            passages=passages,
            timings_ms={"total_ms": round((time.perf_counter() - t0) * 1000, 2)},
        )

    def rank(self, question: str, k: int, answer: Answer) -> list[Passage]:
        hits = self.assistant.retriever.retrieve(question, k=k)
        return [
            Passage(
                chunk_id=h.chunk.id,
                source_id=h.chunk.source_id,
                page=h.chunk.page,
                section=h.chunk.section,
                score=h.score,
                text=h.chunk.text,
            )
            for h in hits
        ]

    def chunk_texts(self) -> dict[str, str]:
        return {c.id: c.text for c in self.assistant.snapshot.chunks}


def with_retrieval_mode(assistant: Assistant, mode: str) -> AssistantPipeline:
    """The same Assistant (same index, embedder, composer, guard) retrieving with one retriever only."""
    s = assistant.settings
    settings = s.model_copy(update={"retrieval": s.retrieval.model_copy(update={"mode": mode})})
    return AssistantPipeline(
        Assistant(settings, assistant.store, assistant.embedder, assistant.snapshot), name=f"{mode}-only"
    )


def langchain_embeddings(embedder: Embedder):
    """Our `Embedder` as a LangChain `Embeddings` (documents get the passage prefix, queries the query prefix)."""
    from langchain_core.embeddings import Embeddings

    class AssistantEmbeddings(Embeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_passages(texts).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text).tolist()

    return AssistantEmbeddings()


class LangChainNaive:
    name = "langchain-naive"
    top_n = 4

    def __init__(self, assistant: Assistant):
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        settings = assistant.settings
        self.sources = {}
        pages: list[Document] = []
        for status in load_manifest(settings.manifest_path, settings.effective_today()):
            if status.usable:
                doc = load_document(status, settings.sources.max_file_bytes)
                self.sources[doc.source.id] = doc.source
                pages += [
                    Document(page_content=p.text, metadata={"source_id": doc.source.id, "page": p.number})
                    for p in doc.pages
                ]
        chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(pages)
        for i, c in enumerate(chunks):
            c.metadata["chunk_id"] = f"lc-{c.metadata['source_id']}-{i}"
        self._texts = {c.metadata["chunk_id"]: c.page_content for c in chunks}
        self.store = Chroma.from_documents(
            chunks,
            langchain_embeddings(assistant.embedder),
            ids=[c.metadata["chunk_id"] for c in chunks],
            collection_name=f"naive-{uuid.uuid4().hex[:8]}",
            client_settings=ChromaSettings(anonymized_telemetry=False),
        )

    def _search(self, question: str, k: int):
        # Chroma's default space is squared L2; on unit vectors cosine similarity = 1 - d / 2
        return [(doc, 1 - distance / 2) for doc, distance in self.store.similarity_search_with_score(question, k=k)]

    def _passage(self, doc, score: float) -> Passage:
        m = doc.metadata
        return Passage(
            chunk_id=m["chunk_id"],
            source_id=m["source_id"],
            page=m["page"],
            section="",
            score=round(float(score), 5),
            text=doc.page_content,
        )

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        t0 = time.perf_counter()
        found = self._search(with_history(question, history), self.top_n)
        retrieve_ms = (time.perf_counter() - t0) * 1000
        citations = []
        for n, (doc, _) in enumerate(found, 1):
            src = self.sources[doc.metadata["source_id"]]
            citations.append(
                Citation(
                    n=n,
                    source_id=src.id,
                    title=src.title,
                    publisher=src.publisher,
                    url=src.url,
                    page=doc.metadata["page"],
                    section="",
                    quote=doc.page_content,
                    chunk_id=doc.metadata["chunk_id"],
                )
            )
        text = "\n\n".join(f"{doc.page_content} [{n}]" for n, (doc, _) in enumerate(found, 1))
        total_ms = (time.perf_counter() - t0) * 1000
        return Answer(
            question=question,
            answer=text,
            citations=citations,
            passages=[self._passage(d, s) for d, s in found],
            timings_ms={"retrieve_ms": round(retrieve_ms, 2), "total_ms": round(total_ms, 2)},
        )

    def rank(self, question: str, k: int, answer: Answer) -> list[Passage]:
        return [self._passage(d, s) for d, s in self._search(question, k)]

    def chunk_texts(self) -> dict[str, str]:
        return self._texts


BASELINES: dict[str, Callable[[Assistant], Pipeline]] = {
    "naive-top3": NaiveTopSentences,
    "langchain-naive": LangChainNaive,
    "bm25-only": lambda a: with_retrieval_mode(a, "bm25"),
    "dense-only": lambda a: with_retrieval_mode(a, "dense"),
}


def check_baselines(names: Sequence[str]) -> None:
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise ConfigError(f"Unknown baseline {', '.join(map(repr, unknown))}; choose from {', '.join(BASELINES)}.")


def make_baseline(name: str, assistant: Assistant) -> Pipeline:
    check_baselines([name])
    return BASELINES[name](assistant)


__all__ = [
    "Pipeline",
    "AssistantPipeline",
    "LangChainNaive",
    "NaiveTopSentences",
    "BASELINES",
    "make_baseline",
    "check_baselines",
    "with_retrieval_mode",
]
