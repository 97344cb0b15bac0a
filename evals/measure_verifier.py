"""Calibrate and measure the LLM mode's sentence verifier on the hand-labelled set
(evals/verifier_set/sentences.jsonl: generated sentences with the passages they cite, each labelled
supported or not by reading the passages).

    .venv/bin/python evals/measure_verifier.py [--write]

The content-support threshold is fitted on the odd lines of the set and measured on the even ones
(and, for reference, on all). Fitting takes the threshold with the lowest false rejection whose
recall of unsupported sentences is at least the target (0.95) on the fit half, or the best recall
minus false rejection when none reaches it. The judge of evaluation/judge.py is measured on the same
sentences (a sentence counts as rejected unless the judge says "yes" for its cited passages).
--write stores the threshold and the measurement in params/verifier.json; the report goes to
evals/verifier_set/report.md.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np

from assistant.core import Assistant
from assistant.evaluation.judge import LexicalJudge
from assistant.settings import Settings
from assistant.types import EvidencePassage, GeneratedSentence, Hit
from assistant.verifier import VERIFIER_FILE, Verifier, VerifierParams

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "evals" / "verifier_set" / "sentences.jsonl"
TARGET_RECALL = 0.95
GRID = [round(x, 2) for x in np.arange(0.0, 1.0001, 0.05)]


def rates(rows: list[dict], rejected) -> dict:
    """Recall of unsupported sentences and false rejection of supported ones, with bootstrap intervals."""
    bad = np.array([not r["supported"] for r in rows])
    rej = np.array([bool(rejected(r)) for r in rows])
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(rows), size=(1000, len(rows)))

    def ratio(num, den):
        with np.errstate(invalid="ignore", divide="ignore"):
            return num.sum(axis=-1) / den.sum(axis=-1)

    out = {}
    for name, num, den in (("recall", rej & bad, bad), ("false_rejection", rej & ~bad, ~bad)):
        value = float(num.sum() / den.sum()) if den.sum() else float("nan")
        boot = ratio(num[idx], den[idx])
        out[name] = {"value": value, "ci": [float(x) for x in np.nanpercentile(boot, [2.5, 97.5])], "n": int(den.sum())}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="store the fitted threshold in params/verifier.json")
    args = parser.parse_args()
    settings = Settings()
    assistant = Assistant.open(settings)
    chunks = {c.id: c for c in assistant.snapshot.chunks}
    verifier = Verifier(assistant.lexicon, assistant.weights, VerifierParams(support_at=0.0))
    judge = LexicalJudge()
    rows = []
    for line in SET.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        passages = []
        for p in rec["passages"]:
            chunk = chunks.get(p["chunk_id"])
            if chunk is None:
                continue  # the index changed since the set was built
            items = assistant.evidence.candidates([Hit(chunk=chunk, score=0.0, ranks={})])
            passages.append(EvidencePassage(n=int(p["n"]), chunk=chunk, items=items))
        check = verifier.check(GeneratedSentence(rec["sentence"], tuple(rec["cited"])), passages)
        cited_text = " ".join(p["text"] for p in rec["passages"] if p["n"] in rec["cited"])
        rows.append(
            {
                **rec,
                "other_fail": bool(check.reasons),  # every rule except the threshold (support_at = 0)
                "support": check.support,
                "judge": judge.judge(rec["sentence"], cited_text) if cited_text else "no",
            }
        )
    fit, test = rows[0::2], rows[1::2]  # odd lines (1st, 3rd, ...) fit; even lines measure

    def at(t):
        return lambda r: r["other_fail"] or r["support"] < t

    scored = [(t, rates(fit, at(t))) for t in GRID]
    ok = [(s["false_rejection"]["value"], -t, t) for t, s in scored if s["recall"]["value"] >= TARGET_RECALL]
    if ok:
        threshold = min(ok)[2]
    else:
        threshold = max(scored, key=lambda x: x[1]["recall"]["value"] - x[1]["false_rejection"]["value"])[0]
    measured = {"verifier_test_half": rates(test, at(threshold)), "verifier_all": rates(rows, at(threshold))}
    measured["judge_all"] = rates(rows, lambda r: r["judge"] != "yes")
    by_origin: dict[str, list] = defaultdict(list)
    for r in rows:
        by_origin[r["origin"]].append(r)

    lines = [
        "# Verifier quality on the labelled set",
        "",
        f"{len(rows)} sentences ({sum(not r['supported'] for r in rows)} unsupported); threshold support_at = "
        f"{threshold} fitted on the odd lines ({len(fit)}), measured on the even lines ({len(test)}); "
        f"run {date.today().isoformat()} by `evals/measure_verifier.py`.",
        "",
        "| system | sentences | recall of unsupported [95% CI] | false rejection of supported [95% CI] |",
        "|---|---|---|---|",
    ]
    for name, key, n in (
        ("verifier (even lines, not fitted on)", "verifier_test_half", len(test)),
        ("verifier (all)", "verifier_all", len(rows)),
        ("lexical judge, evaluation/judge.py (all; rejected unless 'yes')", "judge_all", len(rows)),
    ):
        m = measured[key]
        lines.append(
            f"| {name} | {n} | {m['recall']['value']:.3f} [{m['recall']['ci'][0]:.2f}, {m['recall']['ci'][1]:.2f}] "
            f"| {m['false_rejection']['value']:.3f} [{m['false_rejection']['ci'][0]:.2f}, "
            f"{m['false_rejection']['ci'][1]:.2f}] |"
        )
    lines += [
        "",
        "Rejected share per origin (verifier at the fitted threshold):",
        "",
        "| origin | n | labelled unsupported | rejected |",
        "|---|---|---|---|",
    ]
    for origin, rs in sorted(by_origin.items()):
        rej = sum(at(threshold)(r) for r in rs)
        lines.append(f"| {origin} | {len(rs)} | {sum(not r['supported'] for r in rs)} | {rej} |")
    report = "\n".join(lines) + "\n"
    (SET.parent / "report.md").write_text(report, encoding="utf-8")
    print(report)
    if args.write:
        path = settings.params_dir / VERIFIER_FILE
        path.write_text(
            json.dumps(
                {
                    "support_at": threshold,
                    "fitted_on": f"{SET.relative_to(ROOT)} (odd lines)",
                    "created": date.today().isoformat(),
                    "measured": measured,
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
