"""Fit the composer's sentence-scoring weights on questions, and measure them on others.

    python evals/tune_composer.py --train evals/dev_questions.jsonl tests/data/guard_questions.jsonl:tune \
        --test tests/data/guard_questions.jsonl:holdout evals/questions/own_questions.jsonl

A file may carry a filter after a colon: `:tune` / `:holdout` (the `split` field) or
`:odd` / `:even` (the number in the id). For every answerable question the candidate
sentences of the live pipeline are labelled positive when they overlap the gold
evidence; a listwise softmax model (one weight per feature of
`assistant.answer.sentence_features`) is fitted by gradient descent. It prints the
weights (paste them into FEATURE_WEIGHTS) and the best-sentence hit rate and key-fact
accuracy of the current and the fitted weights on train and test.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

from assistant import answer as answer_mod
from assistant.core import Assistant
from assistant.evaluation.harness import load_questions
from assistant.evaluation.metrics import correctness
from assistant.question import analyse
from assistant.text import normalize


def load_all(specs: list[str], answerable_only: bool = True) -> list[dict]:
    return [q for spec in specs for q in load(spec, answerable_only)]


def load(spec: str, answerable_only: bool = True) -> list[dict]:
    path, _, flt = spec.partition(":")
    rows = load_questions(Path(path))
    if flt in ("tune", "holdout"):
        rows = [r for r in rows if r.get("split") == flt]
    elif flt in ("odd", "even"):
        rows = [r for r in rows if (int(re.sub(r"\D", "", r["id"]) or 0) % 2 == 1) == (flt == "odd")]
    return [r for r in rows if r.get("answerable") or not answerable_only]


def _norm(text: str) -> str:
    return re.sub(r"(\w)- (\w)", r"\1-\2", normalize(text)).lower()


def positive(sentence: str, evidence: list[str]) -> bool:
    s = _norm(sentence).lstrip("◼•▪● ")
    if len(s) < 15:
        return False
    return any(s in _norm(e) or _norm(e) in s for e in evidence)


def key_facts(text: str, items: list[str]) -> float:
    result = correctness(text, items)
    return result["share"] if result else 1.0


def analysed(assistant: Assistant, question: str):
    """The pipeline up to the composer, as `Assistant.ask` runs it: (analysis, vector, hits)."""
    qa = analyse(question, assistant.data_year)
    qvec = assistant.embedder.embed_query(question)
    hits = assistant.retriever.retrieve(question, k=assistant.settings.answer.context_passages, query_vector=qvec)
    return qa, qvec, hits


def collect(assistant: Assistant, questions: list[dict]):
    data = []
    for q in questions:
        cands = assistant.generator.candidates(*analysed(assistant, q["question"]))
        if not cands:
            continue
        names = list(answer_mod.FEATURE_WEIGHTS)
        X = np.array([[c.features[n] for n in names] for c in cands])
        y = np.array([positive(c.text, q["evidence"]) for c in cands])
        data.append((q, X, y))
    return data


def fit(data, names, l2=0.01, steps=3000, lr=0.05) -> np.ndarray:
    usable = [(X, y) for _, X, y in data if y.any()]
    w = np.array([answer_mod.FEATURE_WEIGHTS[n] for n in names], dtype=float)
    for _ in range(steps):
        grad = l2 * w
        for X, y in usable:
            s = X @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            pos = p * y
            grad += X.T @ p - X.T @ (pos / pos.sum())
        w -= lr * grad / len(usable)
    return w


def composed_facts(assistant: Assistant, questions: list[dict]) -> float:
    """Key-fact accuracy of the composer alone (the guard is not asked)."""
    scores = []
    for q in questions:
        comp = assistant.generator.compose(*analysed(assistant, q["question"]))
        scores.append(key_facts(" ".join(c.clean for c in comp.sentences), q["must_contain"]))
    return float(np.mean(scores))


def evaluate(assistant: Assistant, data, questions: list[dict], label: str) -> None:
    w = np.array(list(answer_mod.FEATURE_WEIGHTS.values()), dtype=float)
    top1 = [bool(y[np.argmax(X @ w)]) for _, X, y in data if y.any()]
    reachable = sum(1 for _, _, y in data if y.any())
    print(
        f"  {label}: best sentence is gold {np.mean(top1):.3f} ({reachable}/{len(data)} with gold among candidates); "
        f"composer key-fact accuracy {composed_facts(assistant, questions):.3f}"
    )


def grid(assistant: Assistant, questions: list[dict]) -> dict:
    """Pick the selection settings with the best composer key-fact accuracy on `questions`."""
    cfg = assistant.settings.answer
    best = (-1.0, {})
    for keep_within in (1.0, 2.0, 3.0):
        for keep_close in (0.5, 1.0):
            for adjacent_bonus in (0.0, 1.0, 2.0):
                for max_sentences in (3, 4):
                    trial = {
                        "keep_within": keep_within,
                        "keep_close": keep_close,
                        "adjacent_bonus": adjacent_bonus,
                        "max_sentences": max_sentences,
                    }
                    for k, v in trial.items():
                        setattr(cfg, k, v)
                    score = composed_facts(assistant, questions)
                    if score > best[0]:
                        best = (score, trial)
    for k, v in best[1].items():
        setattr(cfg, k, v)
    print(f"  selection settings {best[1]} -> train composer key-fact {best[0]:.3f}")
    return best[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", nargs="+", required=True)
    ap.add_argument("--test", nargs="*", default=[])
    ap.add_argument("--grid", action="store_true", help="Also grid-search the sentence-selection settings on train.")
    ap.add_argument("--write", action="store_true", help="Write the fitted weights into assistant/answer.py.")
    args = ap.parse_args()
    assistant = Assistant.open()
    train_q, test_q = load_all(args.train), load_all(args.test)
    names = list(answer_mod.FEATURE_WEIGHTS)
    train, test = collect(assistant, train_q), collect(assistant, test_q)
    print("current weights")
    evaluate(assistant, train, train_q, "train")
    if test:
        evaluate(assistant, test, test_q, "test ")
    w = fit(train, names)
    answer_mod.FEATURE_WEIGHTS.update({n: round(float(v), 3) for n, v in zip(names, w)})
    print("fitted weights")
    evaluate(assistant, train, train_q, "train")
    if test:
        evaluate(assistant, test, test_q, "test ")
    if args.grid:
        grid(assistant, train_q)
        if test:
            print(f"  test composer key-fact with those settings {composed_facts(assistant, test_q):.3f}")
    print(json.dumps(answer_mod.FEATURE_WEIGHTS, indent=4))
    if args.write:
        write_constant(Path(answer_mod.__file__), "FEATURE_WEIGHTS: dict[str, float]", answer_mod.FEATURE_WEIGHTS)
        if args.grid:
            print(
                "selection settings: set them in AnswerSettings:",
                {
                    k: getattr(assistant.settings.answer, k)
                    for k in ("keep_within", "keep_close", "adjacent_bonus", "max_sentences")
                },
            )


def write_constant(path: Path, declaration: str, values: dict) -> None:
    """Rewrite `declaration = {...}` in a source file with the fitted values."""
    body = "{\n" + "".join(f'    "{k}": {v},\n' for k, v in values.items()) + "}"
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(re.escape(declaration) + r" = \{.*?\n\}", f"{declaration} = {body}", text, count=1, flags=re.S)
    if count != 1:
        raise SystemExit(f"{declaration} not found in {path}")
    path.write_text(new, encoding="utf-8")
    print(f"wrote {declaration.split(':')[0]} to {path}")


if __name__ == "__main__":
    sys.exit(main())
