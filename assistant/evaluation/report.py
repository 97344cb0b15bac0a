"""report.md and the charts (scores per question type, latency histogram) from a summary."""

from __future__ import annotations

from pathlib import Path

from .calibrate import to_markdown as calibration_markdown
from .metrics import METRICS, REFUSAL_TYPES

CHART_TYPES = "scores_by_type.png"
CHART_LATENCY = "latency.png"


def _fmt(value: float | None, latency: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" if latency else f"{value:.3f}"


def _ci(m: dict, latency: bool = False) -> str:
    if m["value"] is None:
        return "–"
    lo, hi = m["ci"]
    return f"{_fmt(m['value'], latency)} [{_fmt(lo, latency)}, {_fmt(hi, latency)}]"


def _ratio(base: float | None, ours: float | None) -> str:
    if base is None or ours is None:
        return ""
    if ours == 0:
        return " (=)" if base == 0 else ""
    return f" (×{base / ours:.2f})"


def comparison_table(summary: dict) -> list[str]:
    systems = summary["systems"]
    names = list(systems)
    metric_names = [m.name for m in METRICS] + [f"latency_{s}_p{p}" for s in ("total_ms",) for p in (50, 95)]
    lines = ["| metric | better | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for name in metric_names:
        ours = systems["pipeline"]["metrics"].get(name)
        if ours is None:
            continue
        latency = name.startswith("latency_")
        cells = [_ci(ours, latency)]
        for other in names[1:]:
            m = systems[other]["metrics"].get(name)
            cells.append(
                "–"
                if m is None or m["value"] is None
                else _fmt(m["value"], latency) + _ratio(m["value"], ours["value"])
            )
        label = ours["label"].replace("k", str(summary["k"])) if name.endswith("_at_k") else ours["label"]
        lines.append(
            f"| {label} (n={ours['n']}) | { {True: '↑', False: '↓', None: '·'}[ours['higher_is_better']] } | "
            + " | ".join(cells)
            + " |"
        )
    return lines


def type_table(summary: dict) -> list[str]:
    cols = [
        ("n", "n"),
        ("hit_at_k", "hit@k"),
        ("recall_at_k", "recall@k"),
        ("answer_correctness", "correctness"),
        ("citation_recall", "cit. recall"),
        ("citation_precision", "cit. precision"),
        ("refusal_recall", "refused (refusal types)"),
        ("over_refusal_rate", "refused (answerable)"),
    ]
    lines = ["| type | " + " | ".join(c for _, c in cols[0:]) + " |", "|---|" + "---|" * len(cols)]
    for t, values in summary["systems"]["pipeline"]["by_type"].items():
        lines.append(
            f"| {t} | " + " | ".join(str(values[k]) if k == "n" else _fmt(values.get(k)) for k, _ in cols) + " |"
        )
    return lines


def latency_table(summary: dict) -> list[str]:
    metrics = summary["systems"]["pipeline"]["metrics"]
    stages = sorted(
        {k[len("latency_") :].rsplit("_p", 1)[0] for k in metrics if k.startswith("latency_")},
        key=lambda s: (s == "total_ms", s),
    )
    lines = ["| stage | p50 | p95 | p99 |", "|---|---|---|---|"]
    for s in stages:
        lines.append(
            f"| {s.removesuffix('_ms')} | "
            + " | ".join(_ci(metrics[f"latency_{s}_p{p}"], True) for p in (50, 95, 99))
            + " |"
        )
    return lines


def findings(records: list[dict], limit: int = 30) -> list[str]:
    """Questions of our pipeline worth a look: incomplete answers, missed or wrong refusals, leaks."""
    out = []
    for r in records:
        s, refused = r["scores"], r["scores"]["refused"]
        if r["answerable"] and refused:
            out.append(f"- {r['id']} ({r['type']}): refused ({s['refusal_reason']}) but answerable")
        elif s["correctness"] and s["correctness"]["share"] < 1:
            out.append(f"- {r['id']} ({r['type']}): missing {', '.join(s['correctness']['missing'])}")
        if not r["answerable"] and not refused:
            out.append(f"- {r['id']} ({r['type']}): answered, should refuse")
        if s["forecast_leak"]:
            out.append(f"- {r['id']} ({r['type']}): forecast leak")
    return out[:limit] + ([f"- … and {len(out) - limit} more (see results.jsonl)"] if len(out) > limit else [])


def write_charts(summary: dict, results: dict[str, list[dict]], out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    systems = summary["systems"]
    types = list(systems["pipeline"]["by_type"])
    fig, axes = plt.subplots(2, 1, figsize=(max(8, 1.4 * len(types)), 8))
    width = 0.8 / len(systems)
    for i, (name, s) in enumerate(systems.items()):
        score = [
            s["by_type"][t].get("refusal_recall" if t in REFUSAL_TYPES else "answer_correctness") or 0 for t in types
        ]
        axes[0].bar(np.arange(len(types)) + i * width, score, width, label=name)
    axes[0].set_title("Answer correctness (answerable types) / refusal recall (refusal types)")
    parts = [
        ("hit_at_k", f"hit@{summary['k']}"),
        ("citation_recall", "citation recall"),
        ("citation_precision", "citation precision"),
        ("answer_correctness", "correctness"),
    ]
    width2 = 0.8 / len(parts)
    for i, (key, label) in enumerate(parts):
        axes[1].bar(
            np.arange(len(types)) + i * width2,
            [systems["pipeline"]["by_type"][t].get(key) or 0 for t in types],
            width2,
            label=label,
        )
    axes[1].set_title("Our pipeline per question type")
    for ax, w, count in ((axes[0], width, len(systems)), (axes[1], width2, len(parts))):
        ax.set_xticks(np.arange(len(types)) + w * (count - 1) / 2)
        ax.set_xticklabels([f"{t}\n(n={systems['pipeline']['by_type'][t]['n']})" for t in types], fontsize=8)
        ax.set_ylim(0, 1.05)
        ax.legend(fontsize=8, loc="lower right")
    fig.suptitle(f"{summary['question_set']}: scores per question type")
    fig.tight_layout()
    fig.savefig(out_dir / CHART_TYPES, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4))
    all_ms = [r["response"]["timings_ms"].get("total_ms", 0) for recs in results.values() for r in recs]
    bins = np.logspace(np.log10(max(min(all_ms), 0.1)), np.log10(max(all_ms) * 1.05 + 0.1), 40)
    for name, recs in results.items():
        ax.hist(
            [r["response"]["timings_ms"].get("total_ms", 0) for r in recs],
            bins=bins,
            histtype="step",
            linewidth=1.6,
            label=name,
        )
    for p, style in ((50, "--"), (95, ":")):
        ax.axvline(
            systems["pipeline"]["metrics"]["latency_total_ms_p" + str(p)]["value"],
            color="black",
            linestyle=style,
            linewidth=1,
            label=f"pipeline p{p}",
        )
    ax.set_xscale("log")
    ax.set_xlabel("end-to-end latency per question (ms, log scale)")
    ax.set_ylabel("questions")
    ax.set_title(f"{summary['question_set']}: latency")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_dir / CHART_LATENCY, dpi=110)
    plt.close(fig)


def write_report(summary: dict, results: dict[str, list[dict]], out_dir: Path) -> None:
    write_charts(summary, results, out_dir)
    s = summary
    types = ", ".join(f"{t} {n}" for t, n in s["types"].items())
    lines = [
        f"# Evaluation: {s['question_set']}",
        "",
        f"`{s['questions_file']}`: {s['n_questions']} questions ({types}). k = {s['k']}; support judge `{s['judge']}`; "
        f"index `{s['settings']['index']}`, generator `{s['settings']['generator']}`; run {s['created']}. "
        "Metric definitions: evals/README.md.",
        "",
        "## Our pipeline and the baselines",
        "",
        f"Pipeline values carry a 95% bootstrap interval ({s['bootstrap']['resamples']} resamples of the questions). "
        "Baseline cells show the value and, in brackets, its ratio to our pipeline (baseline ÷ pipeline): "
        "below 1 on an ↑ metric, or above 1 on a ↓ metric, means the baseline does worse (· = no better direction). "
        "n = questions, sentences or citations our pipeline's value is pooled over.",
        "",
        *comparison_table(s),
        "",
        "## Our pipeline per question type",
        "",
        *type_table(s),
        "",
        f"![scores per question type]({CHART_TYPES})",
        "",
        "## Latency of our pipeline per stage (ms)",
        "",
        *latency_table(s),
        "",
        f"![latency histogram]({CHART_LATENCY})",
        "",
        "## Support-judge calibration",
        "",
        calibration_markdown(s["calibration"])
        if s.get("calibration")
        else "No calibration file found; run `python -m assistant.evaluation.calibrate`.",
        "",
    ]
    found = findings(results["pipeline"])
    lines += ["## Questions to look at (our pipeline)", "", *(found or ["None."]), ""]
    (out_dir / "report.md").write_text("\n".join(lines), encoding="utf-8")


__all__ = ["write_report", "write_charts", "CHART_TYPES", "CHART_LATENCY"]
