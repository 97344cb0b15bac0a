"""Ingest: load approved sources, chunk, embed and store them, incrementally and safely.

Every stored chunk carries the `version` of its source (hash of file bytes and manifest
entry). The store's state names the active version per source; readers only see
chunks of active versions. A changed source is written under its new version first,
then the state switches to it in one write, then the old version is deleted. An
ingest killed at any point therefore leaves the previous index fully usable, and the
next ingest finishes the job (leftovers of unknown versions are swept).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Callable, Collection

from .backends import Embedder, VectorStore, get_embedder, get_store
from .chunking import chunk_document, chunk_sentences
from .errors import AssistantError, CorpusError, IndexNotBuiltError
from .facts import FACTS_VERSION, annotate_chunk, dump_infos, load_infos
from .lexical import Lookup, PassageIndex, fact_row
from .lexicon import Lexicon
from .settings import Settings
from .sources import SourceStatus, file_sha256, load_document, load_manifest
from .text import words
from .types import Chunk, SourceInfo

Progress = Callable[[str, int, int], None]


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    failed_nl: dict[str, str] = field(default_factory=dict)  # the same, for the content team (the /beheer page)
    skipped: dict[str, str] = field(default_factory=dict)  # not citable: unapproved, expired, missing file
    chunks: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def search_text(chunk: Chunk) -> str:
    """What retrievers see: the section path gives short passages their context."""
    return f"{chunk.section}\n{chunk.text}"


def source_version(status: SourceStatus, lexicon: Lexicon) -> str:
    """Hash of what shapes a source's passages and facts: its file, its manifest entry, the language
    file and the fact extractor's version."""
    # approved_at is bookkeeping of the /beheer page: it does not shape passages (and indexes built before it
    # existed keep their versions)
    entry = status.source.model_dump_json(exclude={"approved_at"})
    shape = f"{file_sha256(status.path)}|{entry}|{lexicon.digest}|{FACTS_VERSION}"
    return hashlib.sha256(shape.encode()).hexdigest()[:16]


def annotation_key(lexicon: Lexicon) -> str:
    """What the stored sentence annotations were made with: the language file and the fact extractor."""
    return f"{lexicon.digest}|{FACTS_VERSION}"


def ingest(
    settings: Settings,
    progress: Progress | None = None,
    store: VectorStore | None = None,
    embedder: Embedder | None = None,
    serving: Collection[str] | None = None,
    warm_sentences: bool = False,
) -> IngestReport:
    """Bring the index in line with the manifest; see the module docstring for safety.

    `serving`: the versions a running Assistant reads (a background re-index beside a server). Then every
    changed source is written under its new version first and the state switches once, at the end; no chunk
    or passage of a serving version is deleted, so the running Assistant keeps answering from its own
    snapshot. The caller calls `sweep(store)` once it has switched to the new index.

    Only passages are embedded. A sentence is embedded when a question first makes it a candidate
    answer, then read from the embedding cache; `warm_sentences` embeds every sentence now instead
    (about half the cold ingest time of the report: benchmarks/results/ingest.json)."""
    staged = serving is not None
    started = time.perf_counter()
    report = IngestReport()
    lexicon = Lexicon.load(settings.lexicon_file)
    statuses = load_manifest(settings.manifest_path, settings.effective_today())
    store = store or get_store(settings)
    embedder = embedder or get_embedder(settings)
    passages = passage_index(store)
    state = store.read_state()
    sources: dict = dict(state.get("sources", {}))

    for st in statuses:
        if not st.usable:
            report.skipped[st.source.id] = st.status
    usable = [st for st in statuses if st.usable]
    for n, st in enumerate(usable, 1):
        if progress:
            progress(st.source.id, n, len(usable))
        version = source_version(st, lexicon)
        previous = sources.get(st.source.id)
        if previous and previous["version"] == version:
            report.unchanged.append(st.source.id)
            report.chunks[st.source.id] = previous["chunks"]
            continue
        try:
            doc = load_document(st, settings.sources.max_file_bytes)
            chunks = chunk_document(doc, settings.chunking, lexicon)
            if not chunks:
                raise CorpusError(
                    f"{st.path.name} produced no text passages.",
                    f"Uit {st.path.name} kwam geen tekst om te citeren.",
                )
            _write_chunks(store, passages, embedder, st.source, version, chunks, lexicon, warm_sentences)
        except AssistantError as exc:
            report.failed[st.source.id] = str(exc)  # the previous version, if any, stays active
            report.failed_nl[st.source.id] = exc.message_nl
            if previous:
                report.chunks[st.source.id] = previous["chunks"]
            continue
        sources[st.source.id] = {"version": version, "chunks": len(chunks), "source": st.source.model_dump(mode="json")}
        if not staged:
            store.write_state({**state, "sources": sources})  # the switch: one write
            store.delete({"$and": [{"source_id": st.source.id}, {"version": {"$ne": version}}]})
        (report.replaced if previous else report.added).append(st.source.id)
        report.chunks[st.source.id] = len(chunks)

    usable_ids = {st.source.id for st in usable}
    for source_id in [s for s in sources if s not in usable_ids]:
        del sources[source_id]
        if not staged:
            store.write_state({**state, "sources": sources})
            store.delete({"source_id": source_id})
        report.removed.append(source_id)
    state["annotations"] = annotation_key(lexicon)
    store.write_state({**state, "sources": sources})  # staged: the one switch
    if active := [v["version"] for v in sources.values()]:
        open_lookup(store, passages, active, lexicon)  # builds the BM25 folder the readers map
    if not staged:
        sweep(store)
    report.seconds = time.perf_counter() - started
    return report


def sweep(store: VectorStore) -> None:
    """Delete the chunks and passages of every version the state does not name: those an earlier killed
    ingest left, and those a staged ingest kept for the Assistant that served until the switch."""
    active = [v["version"] for v in store.read_state().get("sources", {}).values()]
    if active:
        store.delete({"version": {"$nin": active}})
    elif stale := sorted({meta["source_id"] for _, _, meta in store.get()}):  # every source withdrawn
        store.delete({"source_id": {"$in": stale}})
    passage_index(store).keep_only(active)  # the passage folder follows the vectors


def _write_chunks(
    store: VectorStore,
    passages: PassageIndex,
    embedder: Embedder,
    source: SourceInfo,
    version: str,
    chunks: list[Chunk],
    lexicon: Lexicon,
    warm_sentences: bool = False,
) -> None:
    vectors = embedder.embed_passages([search_text(c) for c in chunks])
    if warm_sentences:  # else each sentence is embedded (and cached) when a question first needs it
        embedder.embed_passages([s for c in chunks for s in chunk_sentences(c.text)])
    metas = [
        {
            "chunk_id": c.id,
            "source_id": c.source_id,
            "version": version,
            "page": c.page,
            "section": c.section,
            "position": c.position,
            "row_label": c.row_label,
            "kind": source.kind,
            "publisher": source.publisher,
            "year": source.published.year,
            "roles": ",".join(c.roles),
            "cells": json.dumps(c.cells, ensure_ascii=False),
            # the sentences' periods, places and figures (facts.py), read back by load_infos
            "annotations": json.dumps(dump_infos(annotate_chunk(c, source, lexicon)), ensure_ascii=False),
        }
        for c in chunks
    ]
    store.upsert([f"{c.id}@{version}" for c in chunks], vectors, [c.text for c in chunks], metas)
    _write_passages(passages, version, list(zip(chunks, metas)), lexicon)


def _write_passages(passages: PassageIndex, version: str, rows: list[tuple[Chunk, dict]], lexicon: Lexicon) -> None:
    """The passage side of one source version (lexical.py): passages, and the figures a quantity
    question looks up, read from the stored annotations the way an answering process reads them."""
    fact_rows = []
    for chunk, meta in rows:
        sentences = chunk_sentences(chunk.text)
        heading = lexicon.terms(chunk.section.split(" › ")[-1])
        for si, info in enumerate(load_infos(json.loads(meta["annotations"] or "[]"), chunk, sentences, lexicon)):
            found = fact_row(chunk, si, info, heading)
            if found:
                fact_rows.append(found)
    passages.write(version, rows, fact_rows)


def passage_index(store: VectorStore) -> PassageIndex:
    folder = getattr(store, "lexical_dir", None)
    if folder is None:
        raise IndexNotBuiltError(f"The store {type(store).__name__} names no folder for its passages (lexical_dir).")
    return PassageIndex(folder)


def open_lookup(store: VectorStore, passages: PassageIndex, versions: list[str], lexicon: Lexicon) -> Lookup:
    """The passage lookup for these active versions. A version the passage folder lacks (an index
    built before it existed) is copied once from the vector store; a missing BM25 folder is built."""
    missing = [v for v in versions if not passages.has_version(v)]
    if missing:
        by_version: dict[str, list[tuple[Chunk, dict]]] = {}
        for _id, text, m in store.get({"version": {"$in": missing}}):
            chunk = Chunk(
                id=m["chunk_id"],
                source_id=m["source_id"],
                page=m["page"],
                section=m["section"],
                text=text,
                position=m["position"],
                row_label=m.get("row_label", ""),
                cells=json.loads(m.get("cells") or "[]"),
                roles=[r for r in (m.get("roles") or "").split(",") if r],
            )
            by_version.setdefault(m["version"], []).append((chunk, m))
        for version, rows in by_version.items():
            _write_passages(passages, version, rows, lexicon)
    folder = passages.build_bm25(versions, annotation_key(lexicon), lexicon.tokens, words)
    return Lookup(passages, folder, versions)


class SentenceInfos(Mapping):
    """chunk id -> its sentences' periods, places and figures, loaded from the stored annotations on
    first use and kept for the most recent `size` chunks."""

    def __init__(self, lookup: Lookup, lexicon: Lexicon, size: int = 4096):
        self._lookup, self._lexicon, self._size = lookup, lexicon, size
        self._cache: OrderedDict[str, list] = OrderedDict()

    def __getitem__(self, chunk_id: str) -> list:
        found = self._cache.get(chunk_id)
        if found is None:
            chunk = self._lookup.chunk(chunk_id)
            if chunk is None:
                raise KeyError(chunk_id)
            data = json.loads(self._lookup.meta(chunk_id).get("annotations") or "[]")
            found = load_infos(data, chunk, chunk_sentences(chunk.text), self._lexicon)
            self._cache[chunk_id] = found
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return found

    def __iter__(self):
        return iter(self._lookup.ids)

    def __len__(self) -> int:
        return self._lookup.n


class ChunkView:
    """The active chunks, read from the passage folder when iterated (in source and position order),
    never held all at once; `len` is one count."""

    def __init__(self, passages: PassageIndex, versions: list[str]):
        self._passages, self._versions = passages, versions
        self._len: int | None = None

    def __len__(self) -> int:
        if self._len is None:
            self._len = self._passages.count(self._versions)
        return self._len

    def __iter__(self):
        return self._passages.iter_chunks(self._versions)


@dataclass
class IndexSnapshot:
    """The active source versions and the manifest entries they were indexed under; the passages
    stay in the passage folder (`chunks` streams them, `Lookup` fetches them by id)."""

    chunks: ChunkView
    sources: dict[str, SourceInfo]
    versions: list[str]
    meta_versions: dict[str, str]  # source id -> indexed version
    annotations_key: str = ""  # the language file and fact extractor the sources were annotated with
    passages: PassageIndex | None = None


def load_snapshot(store: VectorStore) -> IndexSnapshot:
    """The index's state: one read of the store's metadata, no passage read."""
    state = store.read_state()
    sources = state.get("sources", {})
    if not sources:
        raise IndexNotBuiltError(
            "No index for these settings; run `assistant ingest` (or `assistant serve`, which builds it)."
        )
    versions = [v["version"] for v in sources.values()]
    passages = passage_index(store)
    infos = {sid: SourceInfo(**v["source"]) for sid, v in sources.items()}
    return IndexSnapshot(
        ChunkView(passages, versions),
        infos,
        versions,
        {sid: v["version"] for sid, v in sources.items()},
        state.get("annotations", ""),
        passages,
    )


def state_summary(store: VectorStore) -> dict[str, int]:
    return {sid: v["chunks"] for sid, v in store.read_state().get("sources", {}).items()}


__all__ = [
    "ingest",
    "sweep",
    "IngestReport",
    "load_snapshot",
    "IndexSnapshot",
    "SentenceInfos",
    "open_lookup",
    "search_text",
    "state_summary",
]
