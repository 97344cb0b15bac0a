"""How far the support judge agrees with people: agreement and Cohen's kappa on hand-labelled
(sentence, passage, yes/partial/no) pairs (evals/judge_calibration.jsonl).

    python -m assistant.evaluation.calibrate
    python -m assistant.evaluation.calibrate --judge nli --out evals/reports/calibration

Three-way figures compare the labels as given; binary figures compare "yes" against
"partial or no", the decision the citation metrics make.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Sequence

from ..errors import AssistantError, ConfigError
from ..settings import ROOT
from .judge import LABELS, SupportJudge, get_judge
from .records import read_jsonl

DEFAULT_PAIRS = ROOT / "evals" / "judge_calibration.jsonl"


def load_pairs(path: Path) -> list[dict]:
    pairs = []
    for lineno, row in read_jsonl(path):
        if not all(isinstance(row.get(f), str) for f in ("sentence", "passage", "label")) or row["label"] not in LABELS:
            raise ConfigError(
                f"{path}:{lineno}: needs string fields sentence, passage and label (one of {', '.join(LABELS)})."
            )
        pairs.append(row)
    return pairs


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """(p_o - p_e) / (1 - p_e), chance agreement p_e from the two raters' label shares."""
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[lab] * cb[lab] for lab in set(ca) | set(cb)) / (n * n)
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def agreement(a: Sequence[str], b: Sequence[str]) -> float | None:
    return sum(x == y for x, y in zip(a, b)) / len(a) if a else None


def calibrate(judge: SupportJudge, path: Path = DEFAULT_PAIRS) -> dict:
    pairs = load_pairs(path)
    human = [p["label"] for p in pairs]
    machine = [judge.judge(p["sentence"], p["passage"]) for p in pairs]
    binary_h = ["yes" if x == "yes" else "not" for x in human]
    binary_m = ["yes" if x == "yes" else "not" for x in machine]
    halves: dict[str, tuple[list[str], list[str]]] = {}
    for p, m in zip(pairs, machine):  # odd ids tuned the lexical judge's thresholds; even ids measure them
        digits = "".join(ch for ch in str(p.get("id", "")) if ch.isdigit())
        if digits:
            h = halves.setdefault("odd ids" if int(digits) % 2 else "even ids", ([], []))
            h[0].append(p["label"])
            h[1].append(m)
    kinds: dict[str, list[bool]] = {}
    for p, m in zip(pairs, machine):
        kinds.setdefault(p.get("kind", "?"), []).append(m == p["label"])
    return {
        "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "judge": judge.name,
        "n": len(pairs),
        "agreement": agreement(human, machine),
        "kappa": cohen_kappa(human, machine),
        "binary_agreement": agreement(binary_h, binary_m),
        "binary_kappa": cohen_kappa(binary_h, binary_m),
        "confusion": {
            h: {m: sum(1 for x, y in zip(human, machine) if x == h and y == m) for m in LABELS} for h in LABELS
        },
        "by_half": {
            name: {"n": len(h), "agreement": agreement(h, m), "kappa": cohen_kappa(h, m)}
            for name, (h, m) in sorted(halves.items())
        },
        "agreement_by_kind": {k: sum(v) / len(v) for k, v in sorted(kinds.items())},
    }


def to_markdown(c: dict) -> str:
    lines = [
        f"Judge `{c['judge']}` against {c['n']} hand-labelled pairs (`{c['file']}`):",
        "",
        "| | agreement | Cohen's kappa |",
        "|---|---|---|",
        f"| yes / partial / no | {c['agreement']:.3f} | {c['kappa']:.3f} |",
        f"| yes vs. not (what citation metrics use) | {c['binary_agreement']:.3f} | {c['binary_kappa']:.3f} |",
    ]
    for name, v in c.get("by_half", {}).items():
        role = " (chose the lexical thresholds)" if name == "odd ids" else " (held out)"
        lines.append(f"| {name} (n={v['n']}), yes / partial / no{role} | {v['agreement']:.3f} | {v['kappa']:.3f} |")
    lines += [
        "",
        "Confusion (rows: human label, columns: judge):",
        "",
        "| human \\ judge | " + " | ".join(LABELS) + " |",
        "|---|" + "---|" * len(LABELS),
    ]
    lines += [f"| {h} | " + " | ".join(str(c["confusion"][h][m]) for m in LABELS) + " |" for h in LABELS]
    lines += [
        "",
        "Agreement by kind of pair: " + ", ".join(f"{k} {v:.2f}" for k, v in c["agreement_by_kind"].items()),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Agreement and Cohen's kappa of a support judge with hand labels.")
    ap.add_argument(
        "--pairs", type=Path, default=DEFAULT_PAIRS, help="labelled JSONL (default evals/judge_calibration.jsonl)"
    )
    ap.add_argument("--judge", default=None, help="judge name (default ASSISTANT_EVAL_JUDGE or lexical)")
    ap.add_argument(
        "--out",
        type=Path,
        default=ROOT / "evals" / "reports" / "calibration",
        help="folder for calibration.json and calibration.md",
    )
    args = ap.parse_args(argv)
    try:
        result = calibrate(get_judge(args.judge), args.pairs)
    except AssistantError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "calibration.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (args.out / "calibration.md").write_text("# Support-judge calibration\n\n" + to_markdown(result), encoding="utf-8")
    print(to_markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
