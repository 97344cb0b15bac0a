"""Run a question set through our pipeline (and baselines), score every answer, write the results.

    summary = run_eval(Settings(), Path("evals/dev_questions.jsonl"), Path("evals/reports/dev"),
                       baselines=["langchain-naive", "bm25-only", "dense-only"])

Writes into the output folder: results.jsonl (our pipeline: one line per question with id,
type, the full `Answer` JSON as `response`, and `scores`), baselines/NAME.jsonl (same, per
baseline), summary.json (every metric with a 95% bootstrap interval, per system and per
question type, plus the judge calibration), report.md and the charts (report.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..core import Assistant
from ..errors import ConfigError
from ..settings import Settings
from .baselines import AssistantPipeline, Pipeline, check_baselines, make_baseline
from .calibrate import DEFAULT_PAIRS, calibrate
from .judge import SupportJudge, get_judge
from .metrics import REFUSAL_TYPES, point_values, score_response, summarise
from .records import read_jsonl
from .report import write_report

HEADLINE = [
    "hit_at_k",
    "mrr_at_k",
    "answer_correctness",
    "follow_up_correctness",
    "answer_words_median",
    "fully_right_rate",
    "citation_recall",
    "citation_precision",
    "unsupported_sentence_rate",
    "verified_sentence_rate",
    "numeric_fidelity",
    "quote_exactness",
    "refusal_precision",
    "refusal_recall",
    "over_refusal_rate",
    "forecast_leak_rate",
    "latency_total_ms_p95",
]


def load_questions(path: Path) -> list[dict]:
    """Read a JSONL question set (evals/QUESTION_FORMAT.md). Only `question` is required; extra fields are kept.

    Defaults: id = FILE-LINE, type = "unknown", answerable = type is not a refusal type,
    must_contain = evidence = [].
    """
    questions, seen = [], set()
    for lineno, q in read_jsonl(path, "see evals/QUESTION_FORMAT.md"):
        if not isinstance(q.get("question"), str):
            raise ConfigError(f"{path}:{lineno}: each line needs a JSON object with a 'question' string.")
        q["id"] = str(q.get("id") or f"{path.stem}-{lineno}")
        if q["id"] in seen:
            raise ConfigError(f"{path}:{lineno}: duplicate id {q['id']!r}; ids must be unique.")
        seen.add(q["id"])
        q["type"] = str(q.get("type") or "unknown")
        q["answerable"] = bool(q.get("answerable", q["type"] not in REFUSAL_TYPES))
        q["must_contain"] = [str(m) for m in q.get("must_contain") or []]
        q["evidence"] = [str(e) for e in q.get("evidence") or []]
        history = q.get("history") or []
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            raise ConfigError(f"{path}:{lineno}: 'history' must be a list of the earlier questions (strings).")
        q["history"] = history
        questions.append(q)
    if not questions:
        raise ConfigError(f"{path} holds no questions.")
    return questions


def score_one(
    pipeline: Pipeline, q: dict, chunk_texts: dict[str, str], *, k: int, judge: SupportJudge, reference_year: int
) -> dict:
    """Ask one question and score the answer: the record written to results.jsonl. A system whose
    answers were given beforehand (`answer_for`) is looked up by question; one with `verify_claims`
    also gets our verifier's verdict on every cited sentence."""
    answer_for = getattr(pipeline, "answer_for", None)
    answer = answer_for(q) if answer_for else pipeline.ask(q["question"], history=q.get("history") or [])
    ranked = pipeline.rank(q["question"], k, answer)
    response = answer.to_json()
    scores = score_response(q, response, [p.text for p in ranked], chunk_texts, judge, k, reference_year)
    verify = getattr(pipeline, "verify_claims", None)
    if verify:
        for claim, ok in zip(scores["claims"], verify(scores["claims"], response)):
            claim["verified"] = ok
    return {
        "id": q["id"],
        "type": q["type"],
        "answerable": q["answerable"],
        "question": q["question"],
        "response": response,
        "ranked": [p.chunk_id for p in ranked],
        "scores": scores,
    }


def run_system(
    pipeline: Pipeline, questions: list[dict], *, k: int, judge: SupportJudge, reference_year: int
) -> list[dict]:
    """One system on every question; one record per question."""
    texts = pipeline.chunk_texts()
    return [score_one(pipeline, q, texts, k=k, judge=judge, reference_year=reference_year) for q in questions]


def system_summary(records: list[dict], resamples: int) -> dict:
    types = sorted({r["type"] for r in records})
    return {
        "n": len(records),
        "metrics": summarise(records, resamples=resamples),
        "by_type": {
            t: {"n": sum(r["type"] == t for r in records), **point_values([r for r in records if r["type"] == t])}
            for t in types
        },
    }


def run_eval(
    settings: Settings,
    questions_file: Path,
    out_dir: Path,
    k: int = 5,
    baselines: Sequence[str] = (),
    *,
    judge: str | SupportJudge | None = None,
    calibration_file: Path | None = DEFAULT_PAIRS,
    resamples: int = 1000,
    assistant: Assistant | None = None,
    extra_systems: Sequence[Pipeline] = (),
    quiet: bool = False,
) -> dict:
    """Evaluate our pipeline and the named baselines on one question set; returns the summary.

    `extra_systems` are scored like baselines (tests use it for a deliberately broken pipeline).
    """
    check_baselines(baselines)
    questions = load_questions(Path(questions_file))
    judge = judge if judge is not None and not isinstance(judge, str) else get_judge(judge)
    assistant = assistant or Assistant.open(settings)
    reference_year = max(s.published.year for s in assistant.sources.values())
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    console = Console(stderr=True, quiet=quiet)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, disable=quiet) as progress:
        systems: list[Pipeline] = [AssistantPipeline(assistant)]
        for name in baselines:
            console.print(f"Preparing baseline {name} ...")
            systems.append(make_baseline(name, assistant))
        systems += list(extra_systems)
        texts = {s.name: s.chunk_texts() for s in systems}
        results: dict[str, list[dict]] = {s.name: [] for s in systems}
        task = progress.add_task(
            f"{len(questions)} questions × {len(systems)} systems", total=len(questions) * len(systems)
        )
        for q in questions:  # systems take turns per question, so a busy moment slows them alike
            for system in systems:
                results[system.name].append(
                    score_one(system, q, texts[system.name], k=k, judge=judge, reference_year=reference_year)
                )
                progress.advance(task)

    summary = {
        "question_set": Path(questions_file).stem,
        "questions_file": str(questions_file),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "n_questions": len(questions),
        "types": {t: sum(q["type"] == t for q in questions) for t in sorted({q["type"] for q in questions})},
        "k": k,
        "judge": judge.name,
        "reference_year": reference_year,
        "settings": {
            "index": settings.index_name,
            "embedder": settings.embedder,
            "generator": settings.generator,
            "retrieval": settings.retrieval.model_dump(),
            "answer": settings.answer.model_dump(),
        },
        "bootstrap": {"resamples": resamples, "confidence": 0.95, "unit": "question"},
        "systems": {name: system_summary(recs, resamples) for name, recs in results.items()},
        "calibration": calibrate(judge, calibration_file)
        if calibration_file and Path(calibration_file).exists()
        else None,
    }
    summary["headline"] = {
        name: {m: (s["metrics"][m]["value"] if m in s["metrics"] else None) for m in HEADLINE}
        for name, s in summary["systems"].items()
    }

    _write_jsonl(out_dir / "results.jsonl", results["pipeline"])
    for name, recs in results.items():
        if name != "pipeline":
            _write_jsonl(out_dir / "baselines" / f"{name}.jsonl", recs)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_report(summary, results, out_dir)
    return summary


def _write_jsonl(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


__all__ = ["run_eval", "run_system", "score_one", "load_questions", "HEADLINE"]
