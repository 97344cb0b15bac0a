"""LLM-mode benchmark (a script, not a test): the `openai` generator behind the verifier against the
extractive generator, in the same run, on the same questions.

    .venv/bin/python benchmarks/llm.py [--questions evals/dev_questions.jsonl --questions ...] \
        [--limit 40] [--base-url http://HOST:PORT/v1 --model NAME] [--out benchmarks/results/llm.md]

Without --base-url it starts the packaged llama.cpp server (xllamacpp and Qwen2.5-Coder-0.5B from
the `llm` extra) on a free port and stops it afterwards. Per question set it reports, for each
generator: key facts (must_contain share over answerable questions with a must_contain list), the
share of the model's sentences the verifier dropped, how often the answer fell back to extractive
(and why), how often the model said it cannot answer, p50/p95 answer latency, and the time to the
first streamed text. Follow-up questions are asked with their conversation (`history`). Only the
figures are read, never the answers one by one, so a blind set stays blind.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from load import percentile  # benchmarks/load.py: the nearest-rank percentile of the load benchmark

from assistant.core import Assistant
from assistant.evaluation.harness import load_questions
from assistant.evaluation.metrics import correctness
from assistant.llama_server import NotReady, wait_ready
from assistant.settings import LLMSettings, Settings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETS = [ROOT / "evals" / "dev_questions.jsonl", ROOT / "evals" / "questions" / "answer_blind.jsonl"]


def start_llama() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "assistant.llama_server", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, timeout_s=300)
    except NotReady as e:
        hint = "; run `make install-test` (extra `llm`) first" if e.exited else ""
        raise SystemExit(f"{e}{hint}") from e
    return proc, url + "/v1"


def run_set(extractive: Assistant, llm: Assistant, questions: list[dict]) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    for name, assistant in (("extractive", extractive), ("openai + verifier", llm)):
        facts, latency, first, kept, dropped = [], [], [], 0, 0
        fallbacks: Counter[str] = Counter()
        cannot = answered = 0
        for q in questions:
            seen: list[float] = []
            t0 = time.perf_counter()
            answer = assistant.ask(
                q["question"], history=q["history"], on_text=lambda _t: seen or seen.append(time.perf_counter())
            )
            latency.append((time.perf_counter() - t0) * 1000)
            if seen:
                first.append((seen[0] - t0) * 1000)
            c = correctness(answer.answer, q["must_contain"]) if q["answerable"] else None
            if c is not None:
                facts.append(c["share"])
            gen = answer.trace.generation if answer.trace else {}
            checks = gen.get("checks") or []
            kept += sum(1 for ch in checks if ch["ok"])
            dropped += sum(1 for ch in checks if not ch["ok"])
            notes = gen.get("notes") or []
            if "model: cannot answer" in notes:
                cannot += 1
            if name != "extractive" and not answer.refused:
                answered += 1
                for n in notes:
                    if n.startswith("fallback to extractive: "):
                        fallbacks[n.removeprefix("fallback to extractive: ").split(":")[0]] += 1
        rows[name] = {
            "key_facts": statistics.mean(facts) if facts else float("nan"),
            "n_facts": len(facts),
            "dropped": dropped / (kept + dropped) if kept + dropped else float("nan"),
            "sentences": kept + dropped,
            "fallback": sum(fallbacks.values()) / answered if answered else float("nan"),
            "fallbacks": fallbacks,
            "cannot": cannot,
            "p50": percentile(sorted(latency), 50),
            "p95": percentile(sorted(latency), 95),
            "ttft50": percentile(sorted(first), 50),
            "n": len(questions),
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, action="append", help="question set (repeatable)")
    parser.add_argument("--limit", type=int, default=40, help="first N questions of each set (0: all)")
    parser.add_argument("--base-url", default="", help="an OpenAI-compatible server; default: start llama.cpp")
    parser.add_argument("--model", default="qwen2.5-coder-0.5b-instruct-q4_k_m")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "llm.md")
    args = parser.parse_args()
    proc = None
    base_url = args.base_url
    if not base_url:
        proc, base_url = start_llama()
    try:
        settings = Settings()
        extractive = Assistant.open(settings)
        llm_settings = LLMSettings(base_url=base_url, model=args.model, timeout_s=args.timeout)
        llm = Assistant.open(settings.model_copy(update={"generator": "openai", "llm": llm_settings}))
        lines = [
            "# LLM-mode benchmark",
            "",
            f"Server: {'packaged llama.cpp, Qwen2.5-Coder-0.5B Q4_K_M' if proc else base_url}; "
            f"machine: 2 cores; `benchmarks/llm.py --limit {args.limit}`; run {time.strftime('%Y-%m-%d %H:%M')}.",
            "",
        ]
        for path in args.questions or DEFAULT_SETS:
            questions = load_questions(path)
            if args.limit:
                questions = questions[: args.limit]
            rows = run_set(extractive, llm, questions)
            lines += [
                f"## {path.name} (first {len(questions)} questions)",
                "",
                "| generator | key facts (n) | sentences dropped | fallback to extractive | 'cannot answer' "
                "| latency p50 / p95 | first text p50 |",
                "|---|---|---|---|---|---|---|",
            ]
            for name, r in rows.items():
                first = "-" if r["ttft50"] != r["ttft50"] else f"{r['ttft50']:.0f} ms"  # NaN: nothing streamed
                lines.append(
                    f"| {name} | {r['key_facts']:.3f} ({r['n_facts']}) | {r['dropped']:.3f} of {r['sentences']} "
                    f"| {r['fallback']:.3f} | {r['cannot']} | {r['p50']:.0f} / {r['p95']:.0f} ms | {first} |"
                )
            reasons = rows["openai + verifier"]["fallbacks"]
            if reasons:
                lines += ["", "Fallback reasons: " + "; ".join(f"{k} ({v})" for k, v in reasons.most_common()) + "."]
            lines.append("")
            print("\n".join(lines), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
