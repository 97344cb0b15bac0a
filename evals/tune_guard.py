"""Fit the refusal guard's two models on questions, and measure the whole guard on others.

    python evals/tune_guard.py --train evals/dev_questions.jsonl tests/data/guard_questions.jsonl:tune \
        evals/questions/own_questions.jsonl:odd evals/questions/guard_blind.jsonl:odd \
        --test tests/data/guard_questions.jsonl:holdout evals/questions/own_questions.jsonl:even

In-scope model: answerable questions (label 1) and `out_of_scope` questions (label 0) train
a logistic regression over `Guard.scope_features`.
Forecast-support model: for forecast-seeking questions, the candidate forecast sentences
(`Guard.forecast_candidates`) that overlap the gold evidence of a `stated_forecast` question
(label 1) and every candidate of a `prediction_refuse` question (label 0) train a logistic
regression over `Guard.forecast_features`; a question is answered when its best candidate
scores above the threshold.
Each threshold is then set for the most right question-level decisions on train. It prints
both models (`--write` puts them into assistant/guard.py) and, for the current and the
fitted models, the share of questions of each type that get the right outcome: answered
for answerable types, `prediction` for prediction_refuse, a refusal for out_of_scope.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
from tune_composer import analysed, load_all, positive, write_constant

from assistant import guard as guard_mod
from assistant.core import Assistant


def features(assistant: Assistant, question: str) -> dict[str, float]:
    qa, qvec, hits = analysed(assistant, question)
    return assistant.guard.scope_features(qa, assistant.generator.compose(qa, qvec, hits))


def forecast_rows(assistant: Assistant, questions: list[dict]) -> list[tuple[int, list[float], float | None]]:
    """(question index, features, label) for the candidate forecast sentences of the forecast
    questions the guard hands to the forecast-support model (forecast-seeking and in scope).
    A stated forecast's other candidates get no label (they may answer as well): they count
    only for the question's best score when the threshold is set."""
    names = list(guard_mod.FORECAST_WEIGHTS)
    guard = assistant.guard
    rows = []
    for i, q in enumerate(questions):
        if q["type"] not in ("stated_forecast", "prediction_refuse"):
            continue
        qa, qvec, hits = analysed(assistant, q["question"])
        comp = assistant.generator.compose(qa, qvec, hits)
        if not guard.consults_forecasts(qa) or guard.in_scope(guard.scope_features(qa, comp)) < 0:
            continue
        for c in guard.forecast_candidates(qa, comp):
            label: float | None = 0.0
            if q["type"] == "stated_forecast":
                label = 1.0 if positive(c.text, q["evidence"]) else None
            f = guard.forecast_features(qa, c, comp)
            rows.append((i, [f[n] for n in names], label))
    return rows


def question_threshold(groups: dict[int, list[float]], wanted: dict[int, bool]) -> float:
    """The threshold on a question's best logit with the most right decisions (ties: the higher,
    which refuses more)."""
    best = max(
        sorted({v for vs in groups.values() for v in vs}, reverse=True),
        key=lambda t: sum((max(vs) >= t) == wanted[i] for i, vs in groups.items()),
    )
    return best


def fit(X: np.ndarray, y: np.ndarray, l2: float = 0.01, steps: int = 20000, lr: float = 0.05) -> np.ndarray:
    mean, std = X.mean(0), X.std(0) + 1e-9
    Z = np.hstack([np.ones((len(X), 1)), (X - mean) / std])
    w = np.zeros(Z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(Z @ w)))
        w -= lr * (Z.T @ (p - y) / len(y) + l2 * np.r_[0, w[1:]])
    # back to raw feature units
    raw = w[1:] / std
    return np.r_[w[0] - (raw * mean).sum(), raw]


def outcomes(assistant: Assistant, questions: list[dict], label: str) -> None:
    per_type: dict[str, list[bool]] = defaultdict(list)
    for q in questions:
        a = assistant.ask(q["question"])
        if q["type"] == "prediction_refuse":
            ok = a.refusal_reason == "prediction"
        elif q["type"] == "out_of_scope":
            ok = a.refused and a.refusal_reason != "prediction"
        else:
            ok = not a.refused
        per_type[q["type"]].append(ok)
    overall = np.mean([x for v in per_type.values() for x in v])
    detail = ", ".join(f"{t} {np.mean(v):.2f} ({len(v)})" for t, v in sorted(per_type.items()))
    print(f"  {label}: right outcome {overall:.3f} | {detail}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--test", nargs="*", default=[])
    ap.add_argument("--write", action="store_true", help="Write the fitted model into assistant/guard.py.")
    args = ap.parse_args()
    assistant = Assistant.open()
    train = load_all(args.train, answerable_only=False)
    test = load_all(args.test, answerable_only=False)
    print("current model")
    outcomes(assistant, train, "train")
    if test:
        outcomes(assistant, test, "test ")
    rows = [q for q in train if q["answerable"] or q["type"] == "out_of_scope"]
    names = list(guard_mod.SCOPE_WEIGHTS)
    X = np.array([[features(assistant, q["question"])[n] for n in names] for q in rows])
    y = np.array([1.0 if q["answerable"] else 0.0 for q in rows])
    w = fit(X, y)
    # Shift the bias to the threshold with the most right decisions on train. (Balanced accuracy
    # was tried: it refused a fifth of the answerable questions to catch more out-of-scope ones.)
    logits = w[0] + X @ w[1:]
    best_t = max(sorted(logits), key=lambda t: np.sum(logits[y == 1] >= t) + np.sum(logits[y == 0] < t))
    w[0] -= best_t
    guard_mod.SCOPE_BIAS = round(float(w[0]), 3)
    guard_mod.SCOPE_WEIGHTS.update({n: round(float(v), 3) for n, v in zip(names, w[1:])})

    rows = forecast_rows(assistant, train)
    labelled = [r for r in rows if r[2] is not None]
    if not any(r[2] for r in labelled) or all(r[2] for r in labelled):
        raise SystemExit(
            "The forecast-support model needs stated_forecast and prediction_refuse questions with candidate sentences in --train."
        )
    Xf = np.array([r[1] for r in labelled])
    yf = np.array([r[2] for r in labelled])
    wf = fit(Xf, yf)
    groups: dict[int, list[float]] = defaultdict(list)
    for i, row_features, _ in rows:
        groups[i].append(float(wf[0] + np.array(row_features) @ wf[1:]))
    wanted = {i: train[i]["type"] == "stated_forecast" for i in groups}
    wf[0] -= question_threshold(groups, wanted)
    fnames = list(guard_mod.FORECAST_WEIGHTS)
    guard_mod.FORECAST_BIAS = round(float(wf[0]), 3)
    guard_mod.FORECAST_WEIGHTS.update({n: round(float(v), 3) for n, v in zip(fnames, wf[1:])})
    print(
        f"forecast model: {int(yf.sum())} positive and {int(len(yf) - yf.sum())} negative sentences from {len(groups)} questions"
    )
    print("fitted model")
    outcomes(assistant, train, "train")
    if test:
        outcomes(assistant, test, "test ")
    print("SCOPE_BIAS =", guard_mod.SCOPE_BIAS)
    print(json.dumps(guard_mod.SCOPE_WEIGHTS, indent=4))
    print("FORECAST_BIAS =", guard_mod.FORECAST_BIAS)
    print(json.dumps(guard_mod.FORECAST_WEIGHTS, indent=4))
    if args.write:
        path = Path(guard_mod.__file__)
        text = path.read_text(encoding="utf-8")
        for name in ("SCOPE_BIAS", "FORECAST_BIAS"):
            text = re.sub(rf"{name} = -?[\d.]+", f"{name} = {getattr(guard_mod, name)}", text, count=1)
        path.write_text(text, encoding="utf-8")
        write_constant(path, "SCOPE_WEIGHTS: dict[str, float]", guard_mod.SCOPE_WEIGHTS)
        write_constant(path, "FORECAST_WEIGHTS: dict[str, float]", guard_mod.FORECAST_WEIGHTS)


if __name__ == "__main__":
    main()
