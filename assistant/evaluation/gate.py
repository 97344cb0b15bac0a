"""CI gate: fail when a metric of our pipeline crosses its threshold.

    python -m assistant.evaluation.gate --summary evals/reports/dev/summary.json --thresholds evals/thresholds.toml
    assistant eval --questions evals/dev_questions.jsonl --out /tmp/dev --gate evals/thresholds.toml

evals/thresholds.toml holds one table per question set, named like summary.json's
`question_set` (the stem of the questions file), with one entry per metric:
`name = { min = X }` (fail below X) or `name = { max = X }` (fail above X). A metric
the summary lacks, or that has no value, fails. Exit 0: all pass; 1: some failed;
2: the thresholds or the summary cannot be used.

`--propose` prints a table from a measured run (each value minus 0.03, or plus for ↓
metrics; end-to-end p95 latency four times the measured value), to paste after a deliberate change.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError


@dataclass
class Check:
    metric: str
    value: float | None
    bound: float
    kind: str  # "min" | "max"

    @property
    def ok(self) -> bool:
        if self.value is None:
            return False
        return self.value >= self.bound if self.kind == "min" else self.value <= self.bound

    def __str__(self) -> str:
        sign = ">=" if self.kind == "min" else "<="
        value = "missing" if self.value is None else f"{self.value:.4g}"
        return f"{'ok  ' if self.ok else 'FAIL'} {self.metric} = {value} (needs {sign} {self.bound:g})"


def load_thresholds(path: Path) -> dict:
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"Cannot read thresholds {path}: {exc}") from exc


def check(summary: dict, thresholds: dict, question_set: str | None = None, system: str = "pipeline") -> list[Check]:
    """One Check per threshold of the summary's question set."""
    name = question_set or summary.get("question_set", "")
    if name not in thresholds:
        raise ConfigError(
            f"No thresholds for question set {name!r}; add a [{name}] table (have: {', '.join(thresholds) or 'none'})."
        )
    try:
        metrics = summary["systems"][system]["metrics"]
    except KeyError:
        raise ConfigError(f"The summary has no system {system!r}.") from None
    checks = []
    for metric, rule in thresholds[name].items():
        if not isinstance(rule, dict) or len(rule) != 1 or next(iter(rule)) not in ("min", "max"):
            raise ConfigError(f"[{name}] {metric}: write {{ min = X }} or {{ max = X }}.")
        kind, bound = next(iter(rule.items()))
        checks.append(Check(metric, (metrics.get(metric) or {}).get("value"), float(bound), kind))
    return checks


def propose(summary: dict, margin: float = 0.03, latency_factor: float = 4.0, system: str = "pipeline") -> str:
    """A thresholds table from a measured run: each metric `margin` below (above, for ↓ metrics) its
    value, end-to-end p95 latency `latency_factor` times its value, with the measurement in a comment."""
    day = summary.get("created", "")[:10]
    lines = [f"[{summary['question_set']}]"]
    for name, m in summary["systems"][system]["metrics"].items():
        value, better = m["value"], m["higher_is_better"]
        if value is None or better is None or (name.startswith("latency_") and name != "latency_total_ms_p95"):
            continue  # latency: end-to-end p95 only; the other percentiles swing with machine load
        if name.startswith("latency_"):
            rule = f"max = {math.ceil(value * latency_factor / 5) * 5:g}"
        elif better:
            rule = f"min = {max(0.0, math.floor((value - margin) * 100) / 100):g}"
        else:
            rule = f"max = {min(1.0, math.ceil((value + margin) * 100) / 100):g}"
        lines.append(f"{name} = {{ {rule} }}  # measured {value:.4g} (n={m['n']}) on {day}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fail when an evaluation metric crosses its threshold.")
    ap.add_argument("--summary", type=Path, required=True, help="summary.json written by `assistant eval`")
    ap.add_argument("--thresholds", type=Path, default=Path("evals/thresholds.toml"))
    ap.add_argument(
        "--set", dest="question_set", default=None, help="threshold table to use (default: the summary's question_set)"
    )
    ap.add_argument(
        "--propose", action="store_true", help="print a thresholds table from this measured run instead of checking"
    )
    args = ap.parse_args(argv)
    try:
        summary = json.loads(args.summary.read_text(encoding="utf-8"))
        if args.propose:
            print(propose(summary), end="")
            return 0
        checks = check(summary, load_thresholds(args.thresholds), args.question_set)
    except (OSError, json.JSONDecodeError, ConfigError) as exc:
        print(f"gate: {exc}", file=sys.stderr)
        return 2
    for c in checks:
        print(c)
    failed = [c for c in checks if not c.ok]
    if failed:
        print(f"gate: {len(failed)} of {len(checks)} thresholds not met: {', '.join(c.metric for c in failed)}")
    else:
        print(f"gate: all {len(checks)} thresholds met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
