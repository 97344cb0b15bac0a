"""The passage side of the index on shared storage: passages by id, their sentence annotations, the
figure lookup, and a bm25s index that is memory-mapped, so that a process opens an index of 100k
passages without reading every passage (issue #12, part 2).

One folder next to the vector index (`<index_dir>/<index_name>.lexical/`) holds:

- `passages.sqlite3`, written by ingest only: every passage of every stored source version (text,
  metadata, per-sentence annotations), one row per figure a quantity question can look up, the
  terms that find those figures, and an FTS5 table of the passages' words (how many passages name a
  place). Readers open it read-only in effect; SQLite's WAL lets them read while an ingest writes.
- `bm25-<key>/`, one per set of active source versions: the bm25s matrices (`np.load(mmap_mode="r")`
  shares their pages between every process of a machine), the chunk ids in document order, and the
  corpus statistics the answerer needs (document frequencies for IDF, word counts for the speller).
  The key is a hash of the active versions and the language file, so a reader never pairs a BM25
  index with other passages; a missing one is built from `passages.sqlite3` on first open.

Ids and order follow what `load_snapshot` used to build in memory (chunks sorted by source and
position), so BM25 scores, ties and every answer stay the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from .types import QUOTABLE_ROLES, Chunk

log = logging.getLogger(__name__)

# bumps when the files' layout changes, so that an old folder is rebuilt rather than misread
LEXICAL_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS passages (
    chunk_id TEXT NOT NULL, version TEXT NOT NULL, source_id TEXT NOT NULL, position INTEGER NOT NULL,
    page TEXT, section TEXT, text TEXT, row_label TEXT, cells TEXT, roles TEXT,
    kind TEXT, publisher TEXT, year INTEGER, annotations TEXT,
    PRIMARY KEY (chunk_id, version)
);
CREATE INDEX IF NOT EXISTS passages_order ON passages (version, source_id, position);
-- one row per quotable sentence that states a figure with a period: what fact_hits may add
CREATE TABLE IF NOT EXISTS sentences (
    sid INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL, version TEXT NOT NULL,
    source_id TEXT NOT NULL, position INTEGER NOT NULL, si INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sentences_version ON sentences (version);
-- a term of any of the sentence's figures finds the sentence (EvidenceScorer._index_facts did this in memory)
CREATE TABLE IF NOT EXISTS fact_terms (term TEXT NOT NULL, sid INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS fact_terms_term ON fact_terms (term, sid);
-- the figures of those sentences: what a figure measures (its terms with its heading's), period, place
CREATE TABLE IF NOT EXISTS facts (
    sid INTEGER NOT NULL, fi INTEGER NOT NULL, present TEXT NOT NULL, period TEXT, place TEXT, published TEXT
);
CREATE INDEX IF NOT EXISTS facts_sid ON facts (sid);
CREATE VIRTUAL TABLE IF NOT EXISTS names USING fts5(body, tokenize = "unicode61 remove_diacritics 0");
"""


def lexical_key(versions: Iterable[str], annotations: str) -> str:
    shape = "|".join(sorted(versions)) + f"|{annotations}|{LEXICAL_VERSION}"
    return hashlib.sha256(shape.encode()).hexdigest()[:16]


def chunk_from_row(row: Sequence[Any]) -> Chunk:
    """A `Chunk` from the columns chunk_id, source_id, page, section, text, position, row_label, cells, roles."""
    cid, source_id, page, section, text, position, row_label, cells, roles = row
    return Chunk(
        id=cid,
        source_id=source_id,
        page=page,
        section=section,
        text=text,
        position=position,
        row_label=row_label or "",
        cells=json.loads(cells or "[]"),
        roles=[r for r in (roles or "").split(",") if r],
    )


_CHUNK_COLUMNS = "chunk_id, source_id, page, section, text, position, row_label, cells, roles"


class PassageIndex:
    """Reads and writes the folder described in the module docstring; safe to share between threads."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "passages.sqlite3"
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=60, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.RLock()
        self.reads = 0  # passage rows read, for the tests that open an index without reading it all

    # -------------------------------------------------------------- writing (ingest)

    def has_version(self, version: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM passages WHERE version = ? LIMIT 1", (version,)).fetchone()
        return row is not None

    def write(self, version: str, rows: list[tuple[Chunk, dict[str, Any]]], fact_rows: list[tuple]) -> None:
        """Store one source version: (chunk, metadata with kind/publisher/year/annotations) per passage,
        and `fact_row`'s (chunk, sentence index, terms, figures) per sentence with figures. Replaces what
        an earlier, killed ingest wrote for the version."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                self._delete_versions(["= ?", [version]])
                for c, m in rows:
                    cur = db.execute(
                        "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            c.id, version, c.source_id, c.position, c.page, c.section, c.text, c.row_label,
                            json.dumps(c.cells, ensure_ascii=False), ",".join(c.roles), m["kind"], m["publisher"],
                            m["year"], m["annotations"],
                        ),
                    )  # fmt: skip
                    body = f"{c.section}\n{c.text}".lower()
                    db.execute("INSERT INTO names (rowid, body) VALUES (?, ?)", (cur.lastrowid, body))
                for c, si, terms, facts in fact_rows:
                    sid = db.execute(
                        "INSERT INTO sentences (chunk_id, version, source_id, position, si) VALUES (?,?,?,?,?)",
                        (c.id, version, c.source_id, c.position, si),
                    ).lastrowid
                    db.executemany("INSERT INTO fact_terms VALUES (?, ?)", [(t, sid) for t in sorted(terms)])
                    db.executemany("INSERT INTO facts VALUES (?,?,?,?,?,?)", [(sid, *f) for f in facts])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def keep_only(self, versions: Iterable[str]) -> None:
        """Delete every stored version not in `versions` (after the state switched away from them)."""
        keep = sorted(set(versions))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._delete_versions([f"NOT IN ({','.join('?' * len(keep))})", keep])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _delete_versions(self, clause: list) -> None:
        cond, args = clause
        db = self._db
        db.execute(f"DELETE FROM names WHERE rowid IN (SELECT rowid FROM passages WHERE version {cond})", args)
        db.execute(f"DELETE FROM passages WHERE version {cond}", args)
        sids = f"SELECT sid FROM sentences WHERE version {cond}"
        db.execute(f"DELETE FROM fact_terms WHERE sid IN ({sids})", args)
        db.execute(f"DELETE FROM facts WHERE sid IN ({sids})", args)
        db.execute(f"DELETE FROM sentences WHERE version {cond}", args)

    def build_bm25(self, versions: list[str], annotations: str, tokenize: Callable[[str], list[str]], words) -> Path:
        """Build (once) the BM25 folder for these active versions; returns its path. Concurrent builders
        each write a temporary folder and the first rename wins."""
        import bm25s

        from .spelling import _WORD

        target = self.folder / f"bm25-{lexical_key(versions, annotations)}"
        if (target / "docs.json").exists():
            return target
        started = time.perf_counter()
        ids, tokens, counts = [], [], Counter()
        for chunk_id, section, text in self._iter_rows("chunk_id, section, text", versions):
            search = f"{section}\n{text}"
            ids.append(chunk_id)
            tokens.append(tokenize(search))
            counts.update(w for w in words(search) if _WORD.fullmatch(w))
        df = Counter(t for toks in tokens for t in set(toks))
        model = bm25s.BM25()
        model.index([t or ["_empty_"] for t in tokens], show_progress=False)
        tmp = self.folder / f".tmp-{target.name}-{os.getpid()}-{threading.get_ident()}"
        shutil.rmtree(tmp, ignore_errors=True)
        model.save(str(tmp), show_progress=False)
        docs = {"ids": ids, "n": len(ids), "df": df, "words": counts, "versions": sorted(versions)}
        (tmp / "docs.json").write_text(json.dumps(docs, ensure_ascii=False))
        try:
            os.rename(tmp, target)
        except OSError:  # another process built it first
            shutil.rmtree(tmp, ignore_errors=True)
        for old in self.folder.glob("bm25-*"):  # a process that still maps an old one keeps its open files
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
        log.info("built BM25 over %d passages in %.1fs", len(ids), time.perf_counter() - started)
        return target

    # -------------------------------------------------------------- reading

    def _iter_rows(self, columns: str, versions: list[str], batch: int = 2000) -> Iterator[tuple]:
        """Rows of active passages in (source, position) order, fetched in batches (never all at once)."""
        marks = ",".join("?" * len(versions))
        with self._lock:
            cur = self._db.cursor()
            cur.execute(
                f"SELECT {columns} FROM passages WHERE version IN ({marks}) ORDER BY source_id, position", versions
            )
            rows = cur.fetchmany(batch)
        while rows:
            self.reads += len(rows)
            yield from rows
            with self._lock:
                rows = cur.fetchmany(batch)

    def iter_chunks(self, versions: list[str]) -> Iterator[Chunk]:
        for row in self._iter_rows(_CHUNK_COLUMNS, versions):
            yield chunk_from_row(row)

    def source_annotations(self, versions: list[str]) -> Iterator[tuple[str, str]]:
        """(source id, annotations JSON) of every active passage, streamed (the content team's counts)."""
        return self._iter_rows("source_id, annotations", versions)

    def count(self, versions: list[str]) -> int:
        marks = ",".join("?" * len(versions))
        with self._lock:
            return self._db.execute(f"SELECT count(*) FROM passages WHERE version IN ({marks})", versions).fetchone()[0]

    def rows(self, chunk_ids: Sequence[str], versions: list[str], columns: str = _CHUNK_COLUMNS) -> dict[str, tuple]:
        """chunk id -> row, for the active version of each id."""
        out: dict[str, tuple] = {}
        ids = list(dict.fromkeys(chunk_ids))
        vmarks = ",".join("?" * len(versions))
        with self._lock:
            for i in range(0, len(ids), 500):
                part = ids[i : i + 500]
                for row in self._db.execute(
                    f"SELECT chunk_id, {columns} FROM passages WHERE chunk_id IN ({','.join('?' * len(part))}) "
                    f"AND version IN ({vmarks})",
                    [*part, *versions],
                ):
                    out[row[0]] = row[1:]
        self.reads += len(out)
        return out

    def at_position(self, source_id: str, position: int, versions: list[str]) -> Chunk | None:
        vmarks = ",".join("?" * len(versions))
        with self._lock:
            row = self._db.execute(
                f"SELECT {_CHUNK_COLUMNS} FROM passages WHERE source_id = ? AND position = ? AND version IN ({vmarks})",
                [source_id, position, *versions],
            ).fetchone()
        self.reads += row is not None
        return chunk_from_row(row) if row else None

    def prefix_count(self, prefix: str, versions: list[str]) -> int:
        """Active passages with a word starting with `prefix` (the guard's `\\bprefix` over lower-cased text)."""
        vmarks = ",".join("?" * len(versions))
        query = '"' + prefix.replace('"', '""') + '"*'
        with self._lock:
            return self._db.execute(
                f"SELECT count(*) FROM names JOIN passages p ON p.rowid = names.rowid "
                f"WHERE names MATCH ? AND p.version IN ({vmarks})",
                [query, *versions],
            ).fetchone()[0]

    def fact_sentences(self, term: str, versions: list[str]) -> list[tuple[int, str]]:
        """(sentence id, chunk id) of active sentences whose figures name `term`, in passage order."""
        vmarks = ",".join("?" * len(versions))
        with self._lock:
            return self._db.execute(
                f"SELECT s.sid, s.chunk_id FROM fact_terms t JOIN sentences s ON s.sid = t.sid "
                f"WHERE t.term = ? AND s.version IN ({vmarks}) ORDER BY s.source_id, s.position, s.si",
                [term, *versions],
            ).fetchall()

    def fact_presents(self, sids: Sequence[int]) -> set[str]:
        """The distinct `present` strings (what a figure measures, space-joined terms) of these sentences."""
        out: set[str] = set()
        with self._lock:
            for part in _parts(sids):
                q = f"SELECT DISTINCT present FROM facts WHERE sid IN ({','.join('?' * len(part))})"
                out.update(r[0] for r in self._db.execute(q, part))
        return out

    def fact_rows(self, sids: Sequence[int], presents: Sequence[str]) -> list[tuple]:
        """(sid, fi, present, period, place, published) of these sentences' figures with one of `presents`."""
        out: list[tuple] = []
        if not presents:
            return out
        with self._lock:
            pmarks = ",".join("?" * len(presents))
            for part in _parts(sids, 30000 - len(presents)):
                q = (
                    f"SELECT sid, fi, present, period, place, published FROM facts "
                    f"WHERE sid IN ({','.join('?' * len(part))}) AND present IN ({pmarks})"
                )
                out += self._db.execute(q, [*part, *presents]).fetchall()
        return out

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _parts(items: Sequence, size: int = 30000) -> Iterator[list]:
    items = list(items)
    for i in range(0, len(items), max(size, 1)):
        yield items[i : i + size]


class Lookup:
    """What an open Assistant reads of the passage side: chunks by id (an LRU of recent ones), the
    memory-mapped BM25 index and its corpus statistics. Bound to one set of active versions."""

    def __init__(self, index: PassageIndex, bm25_dir: Path, versions: list[str], cache_size: int = 4096):
        import bm25s

        self.index, self.versions = index, list(versions)
        self.bm25 = bm25s.BM25.load(str(bm25_dir), mmap=True, show_progress=False)
        docs = json.loads((bm25_dir / "docs.json").read_text())
        self.ids: list[str] = docs["ids"]
        self.n: int = docs["n"]
        self.df: dict[str, int] = docs["df"]
        self.words: dict[str, int] = docs["words"]
        self._chunks: OrderedDict[str, Chunk] = OrderedDict()
        self._meta: dict[str, dict] = {}
        self._cache_size = cache_size
        self._lock = threading.Lock()
        # source ids whose passages are not handed out (expired since the ingest; set by the Assistant)
        self.withheld: frozenset[str] = frozenset()

    def __len__(self) -> int:
        return self.n

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """id -> chunk for the ids that exist (fetched by id, kept in a bounded cache)."""
        with self._lock:
            out = {i: self._chunks[i] for i in ids if i in self._chunks}
        missing = [i for i in ids if i not in out]
        if missing:
            rows = self.index.rows(missing, self.versions, _CHUNK_COLUMNS + ", kind, publisher, year, annotations")
            with self._lock:
                for cid, row in rows.items():
                    chunk = chunk_from_row(row[:9])
                    out[cid] = chunk
                    self._chunks[cid] = chunk
                    kind, publisher, year, annotations = row[9:]
                    self._meta[cid] = {"kind": kind, "publisher": publisher, "year": year, "annotations": annotations}
                while len(self._chunks) > self._cache_size:
                    old, _ = self._chunks.popitem(last=False)
                    self._meta.pop(old, None)
        withheld = self.withheld
        return {i: c for i, c in out.items() if c.source_id not in withheld} if withheld else out

    def chunk(self, chunk_id: str) -> Chunk | None:
        return self.chunks([chunk_id]).get(chunk_id)

    def meta(self, chunk_id: str) -> dict:
        """kind, publisher, year and the stored annotations (JSON) of a chunk."""
        with self._lock:
            found = self._meta.get(chunk_id)
        if found is None:
            self.chunks([chunk_id])
            with self._lock:
                found = self._meta.get(chunk_id, {})
        return found


def fact_row(chunk: Chunk, si: int, info, heading_terms: frozenset[str]) -> tuple | None:
    """The rows of one sentence's figures that fact_hits can use: a quotable sentence, a figure with a
    period. Every figure's terms find the sentence, also those of a figure without a period, as the
    in-memory index (EvidenceScorer._index_facts) did. `info` is the sentence's loaded SentenceInfo."""
    if info.role not in QUOTABLE_ROLES:
        return None
    rows = []
    for fi, f in enumerate(info.facts):
        if f.period is None:
            continue
        present = f.measure_terms if f.row_label else f.measure_terms | heading_terms
        place = f.place.name if f.place else ""
        rows.append((fi, " ".join(sorted(present)), json.dumps(f.period.to_json()), place, f.published.isoformat()))
    if not rows:
        return None
    return (chunk, si, frozenset(t for f in info.facts for t in f.measure_terms), rows)


__all__ = ["PassageIndex", "Lookup", "lexical_key", "chunk_from_row", "fact_row", "LEXICAL_VERSION"]
