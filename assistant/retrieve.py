"""Hybrid retrieval: BM25 over Dutch-stemmed tokens with synonyms folded (bm25s + PyStemmer, the
language file's synonym groups; the index is built at ingest and memory-mapped) and dense vectors
(Chroma), fused with weighted reciprocal rank fusion. Filters on source kind, publisher
and year apply to both retrievers. `AssistantRetriever` exposes it to LangChain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .backends import Embedder, VectorStore
from .index import IndexSnapshot
from .lexical import Lookup
from .lexicon import Lexicon
from .settings import RetrievalSettings
from .types import Chunk, Hit


@dataclass
class Filters:
    kinds: list[str] = field(default_factory=list)
    publishers: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)

    def allows(self, meta: dict[str, Any]) -> bool:
        return (
            (not self.kinds or meta["kind"] in self.kinds)
            and (not self.publishers or meta["publisher"] in self.publishers)
            and (not self.years or meta["year"] in self.years)
        )

    def chroma_where(self, versions: list[str]) -> dict:
        clauses: list[dict] = [{"version": {"$in": versions}}]
        if self.kinds:
            clauses.append({"kind": {"$in": self.kinds}})
        if self.publishers:
            clauses.append({"publisher": {"$in": self.publishers}})
        if self.years:
            clauses.append({"year": {"$in": self.years}})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class HybridRetriever:
    """BM25 from the memory-mapped index of the passage folder (built at ingest, lexical.py) and
    dense vectors from the store; passages are fetched by id for the top ranks only."""

    def __init__(
        self,
        snapshot: IndexSnapshot,
        store: VectorStore,
        embedder: Embedder,
        settings: RetrievalSettings,
        lexicon: Lexicon,
        lookup: Lookup,
    ):
        self.snapshot = snapshot
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.lexicon = lexicon
        self.lookup = lookup
        self._bm25 = lookup.bm25
        self._active = frozenset(snapshot.versions)

    def bm25(self, query: str, n: int, filters: Filters | None = None) -> list[tuple[Chunk, float]]:
        q = [t for t in self.lexicon.tokens(query) if t in self._bm25.vocab_dict]
        if not q:
            return []
        scores = self._bm25.get_scores(q)
        order = np.argsort(-scores)  # the same order (ties included) as over the chunks in memory
        ids = self.lookup.ids
        out: list[tuple[Chunk, float]] = []
        start, step = 0, max(n, 1) * (4 if filters else 1)
        while len(out) < n and start < len(order):
            block = [int(i) for i in order[start : start + step] if scores[i] > 0]
            start += step
            chunks = self.lookup.chunks([ids[i] for i in block])
            for i in block:
                if len(out) >= n:
                    break
                chunk = chunks.get(ids[i])
                if chunk is None or (filters and not filters.allows(self.lookup.meta(chunk.id))):
                    continue
                out.append((chunk, float(scores[i])))
            if len(block) < step:  # the rest score 0
                break
        return out

    def dense(
        self, query: str, n: int, filters: Filters | None = None, query_vector: np.ndarray | None = None
    ) -> list[tuple[Chunk, float]]:
        vector = query_vector if query_vector is not None else self.embedder.embed_query(query)
        where = (filters or Filters()).chroma_where(self.snapshot.versions)
        found = None
        if where.keys() == {"version"}:
            # Unfiltered, the vector index answers directly; a `version $in` filter makes Chroma test
            # every row's metadata (10k passages: 656 ms against 10 ms, benchmarks/results/scale-*.json).
            # Rows of other versions exist only while an ingest runs: then ask again with the filter.
            found = self.store.search(vector, n, None)
            active = self._active
            if any(store_id.partition("@")[2] not in active for store_id, _ in found):
                found = None
        if found is None:
            found = self.store.search(vector, n, where)
        chunks = self.lookup.chunks([store_id.split("@")[0] for store_id, _ in found])
        out = []
        for store_id, distance in found:
            chunk = chunks.get(store_id.split("@")[0])
            if chunk is not None:
                out.append((chunk, 1.0 - float(distance)))
        return out

    def retrieve(
        self,
        query: str,
        k: int | None = None,
        filters: Filters | None = None,
        mode: str | None = None,
        query_vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """Top-k passages; `score` is the fused RRF score, `ranks` the per-retriever ranks (1-based)."""
        k = k or self.settings.k
        mode = mode or self.settings.mode
        n = max(self.settings.candidates, k)
        rankings: dict[str, list[tuple[Chunk, float]]] = {}
        if mode in ("hybrid", "bm25"):
            rankings["bm25"] = self.bm25(query, n, filters)
        if mode in ("hybrid", "dense"):
            rankings["dense"] = self.dense(query, n, filters, query_vector)
        weights = {"bm25": self.settings.bm25_weight, "dense": self.settings.dense_weight}
        fused: dict[str, Hit] = {}
        for name, ranking in rankings.items():
            for rank, (chunk, raw) in enumerate(ranking, 1):
                hit = fused.setdefault(chunk.id, Hit(chunk=chunk, score=0.0))
                hit.score += weights[name] / (self.settings.rrf_k + rank)
                hit.ranks[name] = rank
                hit.raw[name] = raw
        return sorted(fused.values(), key=lambda h: -h.score)[:k]


def make_langchain_retriever(retriever: HybridRetriever, k: int = 5, filters: Filters | None = None):
    """A LangChain `BaseRetriever` over the hybrid retriever (documents carry chunk metadata)."""
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document as LCDocument
    from langchain_core.retrievers import BaseRetriever

    class AssistantRetriever(BaseRetriever):
        hybrid: Any
        k: int = 5
        filters: Any = None

        def _get_relevant_documents(
            self, query: str, *, run_manager: CallbackManagerForRetrieverRun
        ) -> list[LCDocument]:
            return [
                LCDocument(
                    page_content=h.chunk.text,
                    metadata={
                        "chunk_id": h.chunk.id,
                        "source_id": h.chunk.source_id,
                        "page": h.chunk.page,
                        "section": h.chunk.section,
                        "score": h.score,
                    },
                )
                for h in self.hybrid.retrieve(query, k=self.k, filters=self.filters)
            ]

    return AssistantRetriever(hybrid=retriever, k=k, filters=filters)
