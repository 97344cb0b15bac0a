"""Evaluation harness: grounding, citations, refusals and latency on any question set.

One module per concern:
    metrics    per-question scores and pooled metrics with bootstrap intervals
    judge      support judges (does a passage support a sentence?), offline default + NLI
    baselines  the systems compared: our pipeline, langchain-naive, bm25-only, dense-only
    harness    runs a question set through the systems and writes the results
    records    reading JSONL question sets and hand-labelled pairs
    report     report.md and the charts
    calibrate  judge agreement and Cohen's kappa with hand labels
    gate       CI gate: fail when a metric crosses its threshold

    assistant eval --questions evals/dev_questions.jsonl --out evals/reports/dev --baseline langchain-naive
    python -m assistant.evaluation.gate --summary evals/reports/dev/summary.json --thresholds evals/thresholds.toml

Metric definitions: evals/README.md.
"""

# Nothing is imported here, so `python -m assistant.evaluation.gate` stays light.
