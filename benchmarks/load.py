"""Load benchmark for a running server: N concurrent clients ask the dev questions for a while.

    ASSISTANT_WEB__RATE_LIMIT_PER_MINUTE=1000000 assistant serve          # in one shell
    python benchmarks/load.py                                             # 20 clients, 60 s
    python benchmarks/load.py --clients 5 --duration 20 --endpoint chat --url http://127.0.0.1:8000

Each client loops over evals/dev_questions.jsonl (from its own starting point) and POSTs
each question to /api/ask (or /api/chat), waiting for each answer before sending the next.
Prints requests/s, latency percentiles and the errors (non-2xx and transport errors).
The server's rate limit counts per client address, so raise it for a benchmark; 429s are
reported as errors. Every answer is written to the server's audit log, so point
ASSISTANT_AUDIT_DB at a scratch file when the log matters.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import time
from collections import Counter
from pathlib import Path

import httpx

from assistant.evaluation.records import read_jsonl

ROOT = Path(__file__).resolve().parent.parent


async def client_loop(
    n: int,
    client: httpx.AsyncClient,
    path: str,
    questions: list[str],
    stop_at: float,
    latencies: list[float],
    errors: Counter,
) -> None:
    i = n * 7  # clients start at different questions
    while time.perf_counter() < stop_at:
        question = questions[i % len(questions)]
        i += 1
        started = time.perf_counter()
        try:
            response = await client.post(path, json={"question": question})
            ok = response.is_success
            if not ok:
                errors[f"HTTP {response.status_code}"] += 1
        except httpx.HTTPError as exc:
            ok = False
            errors[type(exc).__name__] += 1
        if ok:
            latencies.append(time.perf_counter() - started)


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


async def run(args: argparse.Namespace) -> str:
    questions = [row["question"] for _, row in read_jsonl(args.questions)]
    if not questions:
        raise SystemExit(f"No questions in {args.questions}.")
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    async with httpx.AsyncClient(base_url=args.url, headers=headers, timeout=args.timeout, limits=limits) as client:
        ready = await client.get("/readyz")
        if ready.status_code != 200:
            raise SystemExit(f"{args.url}/readyz answered {ready.status_code}: {ready.text}")
        latencies: list[float] = []
        errors: Counter = Counter()
        path = f"/api/{args.endpoint}"
        started = time.perf_counter()
        stop_at = started + args.duration
        await asyncio.gather(
            *(client_loop(n, client, path, questions, stop_at, latencies, errors) for n in range(args.clients))
        )
        elapsed = time.perf_counter() - started
    done = sorted(latencies)
    shown = args.questions.relative_to(ROOT) if args.questions.is_relative_to(ROOT) else args.questions
    total = len(done) + sum(errors.values())
    lines = [
        f"server      {args.url} ({path}); {len(questions)} questions from {shown}",
        f"load        {args.clients} concurrent clients for {elapsed:.1f} s (requested {args.duration:g} s)",
        f"machine     {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at the end (server, clients and anything else on the machine)",
        f"requests    {total} ({len(done)} ok, {sum(errors.values())} errors)",
        f"throughput  {len(done) / elapsed:.1f} requests/s",
        f"latency     p50 {percentile(done, 50) * 1000:.0f} ms, p95 {percentile(done, 95) * 1000:.0f} ms, "
        f"p99 {percentile(done, 99) * 1000:.0f} ms, max {(done[-1] if done else float('nan')) * 1000:.0f} ms",
        f"errors      {sum(errors.values())}"
        + (" (" + ", ".join(f"{k}: {v}" for k, v in errors.most_common()) + ")" if errors else ""),
    ]
    if errors.get("HTTP 429"):
        lines.append(
            "note        429 = the server's rate limit; raise ASSISTANT_WEB__RATE_LIMIT_PER_MINUTE for benchmarks"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="Base URL of the running server.")
    parser.add_argument("--clients", type=int, default=20, help="Concurrent clients.")
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds to keep asking.")
    parser.add_argument(
        "--questions", type=Path, default=ROOT / "evals" / "dev_questions.jsonl", help="JSONL with a 'question' field."
    )
    parser.add_argument("--endpoint", choices=["ask", "chat"], default="ask", help="POST /api/ask or /api/chat.")
    parser.add_argument(
        "--api-key", default=os.environ.get("ASSISTANT_API_KEY", ""), help="Bearer key, when the server requires one."
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="Per-request timeout in seconds.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the report to this file.")
    args = parser.parse_args()
    args.questions = args.questions.resolve()
    report = asyncio.run(run(args))
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
