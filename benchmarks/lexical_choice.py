"""Choosing the BM25 side for #12 (a script, not a test): bm25s built once and memory-mapped, against
PostgreSQL full-text search with its `dutch` configuration.

    .venv/bin/python benchmarks/lexical_choice.py --index index/new [--size 100000]

Measured for each engine:
- quality on the real corpus: recall@5 and MRR of the dev questions' evidence passages, lexical
  retriever alone (the answers themselves: README, "Scale");
- at `--size` synthetic passages (the report's sentences recombined, benchmarks/scale.py): build
  time, time to open the index in a process, memory that opening adds (RSS), and p50/p95 latency of
  a top-30 query for the dev questions.

PostgreSQL: a throwaway cluster (tests/servers.py), a table with a stored `to_tsvector('dutch', ...)`
column and a GIN index; a question becomes the OR of its lexemes (`plainto_tsquery` would AND them,
and a whole question then matches nothing), ranked by `ts_rank`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "benchmarks")]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return round(xs[int(q * (len(xs) - 1))], 2)


class PgFts:
    SCHEMA = """
    CREATE TABLE p (id TEXT PRIMARY KEY, body TEXT,
                    tsv tsvector GENERATED ALWAYS AS (to_tsvector('dutch', body)) STORED);
    """

    def __init__(self, conn):
        self.conn = conn

    def load(self, ids: list[str], texts: list[str]) -> None:
        cur = self.conn.cursor()
        cur.execute("DROP TABLE IF EXISTS p")
        cur.execute(self.SCHEMA)
        with cur.copy("COPY p (id, body) FROM STDIN") as copy:
            for i, t in zip(ids, texts):
                copy.write_row((i, t))
        cur.execute("CREATE INDEX p_tsv ON p USING gin (tsv)")
        cur.execute("ANALYZE p")
        self.conn.commit()

    def search(self, question: str, n: int) -> list[str]:
        cur = self.conn.cursor()
        lexemes = cur.execute("SELECT lexeme FROM unnest(to_tsvector('dutch', %s))", (question,)).fetchall()
        if not lexemes:
            return []
        query = " | ".join("'" + x[0].replace("'", "''") + "'" for x in lexemes)
        rows = cur.execute(
            "SELECT id FROM p, to_tsquery('dutch', %s) q WHERE tsv @@ q ORDER BY ts_rank(tsv, q) DESC LIMIT %s",
            (query, n),
        ).fetchall()
        return [r[0] for r in rows]


def start_postgres(root: Path):
    import pwd

    from servers import Postgres, postgres_bin

    user = None
    if os.geteuid() == 0:
        user = "postgres"
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = Postgres(postgres_bin(), root, user)
    server.init()
    server.start()
    return server


def bm25s_engine(folder: Path, ids: list[str], texts: list[str], tokenize):
    import bm25s

    t = time.perf_counter()
    model = bm25s.BM25()
    model.index([tokenize(x) or ["_empty_"] for x in texts], show_progress=False)
    model.save(str(folder), show_progress=False)
    build = time.perf_counter() - t
    before = rss_mb()
    t = time.perf_counter()
    mapped = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
    opened = time.perf_counter() - t

    def search(question: str, n: int) -> list[str]:
        q = [x for x in tokenize(question) if x in mapped.vocab_dict]
        if not q:
            return []
        scores = mapped.get_scores(q)
        top = np.argpartition(-scores, min(n, len(scores) - 1))[:n]
        return [ids[i] for i in top[np.argsort(-scores[top])] if scores[i] > 0]

    return search, {"build_s": round(build, 2), "open_s": round(opened, 3), "open_rss_mb": round(rss_mb() - before, 1)}


def quality(search, questions, texts_by_id) -> dict:
    from assistant.evaluation.metrics import retrieval_scores

    recalls, rrs = [], []
    for q in questions:
        ids = search(q["question"], 5)
        s = retrieval_scores(q["evidence"], [texts_by_id[i] for i in ids], 5)
        recalls.append(s["recall"])
        rrs.append(s["rr"])
    return {"recall_at_5": round(float(np.mean(recalls)), 3), "mrr": round(float(np.mean(rrs)), 3)}


def synthetic(size: int) -> tuple[list[str], list[str]]:
    from scale import REGIONS, _retarget, real_sections

    rng = random.Random(12)
    sections = real_sections()
    texts = []
    for i in range(size):
        heading, pool = sections[rng.randrange(len(sections))]
        region, year = REGIONS[i % len(REGIONS)], 2021 + i % 5
        body = " ".join(_retarget(rng.choice(pool), region, year) for _ in range(6))
        texts.append(f"{_retarget(heading, region, year)}\n{body}")
    return [f"s{i}" for i in range(size)], texts


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--index", type=Path, default=ROOT / "index")
    p.add_argument("--size", type=int, default=100000)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "lexical_choice.json")
    args = p.parse_args()

    from assistant.backends import get_store
    from assistant.evaluation.harness import load_questions
    from assistant.index import load_snapshot, search_text
    from assistant.lexicon import Lexicon
    from assistant.settings import Settings

    settings = Settings(index_dir=args.index)
    lexicon = Lexicon.load(settings.lexicon_file)
    chunks = list(load_snapshot(get_store(settings)).chunks)
    real_ids, real_texts = [c.id for c in chunks], [search_text(c) for c in chunks]
    by_id = {c.id: c.text for c in chunks}
    questions = [q for q in load_questions(ROOT / "evals" / "dev_questions.jsonl") if q.get("evidence")]
    plain = [q["question"] for q in load_questions(ROOT / "evals" / "dev_questions.jsonl")]
    out: dict = {"questions_with_evidence": len(questions), "real_passages": len(chunks), "size": args.size}

    with tempfile.TemporaryDirectory(prefix="aimi-lex-") as tmp:
        tmp = Path(tmp)
        search, _ = bm25s_engine(tmp / "real", real_ids, real_texts, lexicon.tokens)
        out["bm25s"] = {"quality": quality(search, questions, by_id)}
        pg_root = Path(tempfile.mkdtemp(prefix="aimi-lexpg-"))  # not under tmp: the server runs as postgres
        server = start_postgres(pg_root)
        try:
            import psycopg

            conn = psycopg.connect(host=str(pg_root), port=server.port, user="postgres", dbname="postgres")
            fts = PgFts(conn)
            fts.load(real_ids, real_texts)
            out["postgres_fts_dutch"] = {"quality": quality(fts.search, questions, by_id)}

            ids, texts = synthetic(args.size)
            search, stats = bm25s_engine(tmp / "synthetic", ids, texts, lexicon.tokens)
            lat = []
            for q in plain * 3:
                t = time.perf_counter()
                search(q, 30)
                lat.append((time.perf_counter() - t) * 1000)
            out["bm25s"][f"at_{args.size}"] = {**stats, "p50_ms": pct(lat, 0.5), "p95_ms": pct(lat, 0.95)}

            t = time.perf_counter()
            fts.load(ids, texts)
            build = time.perf_counter() - t
            before = rss_mb()
            t = time.perf_counter()
            conn2 = psycopg.connect(host=str(pg_root), port=server.port, user="postgres", dbname="postgres")
            fts2 = PgFts(conn2)
            fts2.search("vacatures", 1)
            opened = time.perf_counter() - t
            lat = []
            for q in plain * 3:
                t = time.perf_counter()
                fts2.search(q, 30)
                lat.append((time.perf_counter() - t) * 1000)
            out["postgres_fts_dutch"][f"at_{args.size}"] = {
                "build_s": round(build, 2),
                "open_s": round(opened, 3),
                "open_rss_mb": round(rss_mb() - before, 1),
                "p50_ms": pct(lat, 0.5),
                "p95_ms": pct(lat, 0.95),
            }
            conn.close()
            conn2.close()
        finally:
            server.stop()
            shutil.rmtree(pg_root, ignore_errors=True)
    out["created"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out["load_average_at_end"] = os.getloadavg()
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
