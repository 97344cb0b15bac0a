"""Load benchmark: N concurrent clients ask the dev questions for a while, against running servers or against
a cluster it starts itself (two nodes x two workers sharing a Chroma server, PostgreSQL and Redis).

    python benchmarks/load.py --cluster                                   # the issue's run: 50 clients, 300 s
    python benchmarks/load.py --cluster --clients 10 --duration 30 --out benchmarks/results/load-cluster.txt
    ASSISTANT_WEB__RATE_LIMIT_PER_MINUTE=1000000 assistant serve          # or: a server of your own ...
    python benchmarks/load.py --url http://127.0.0.1:8000 --clients 20 --duration 60   # ... and its URL(s)

Each client loops over evals/dev_questions.jsonl (from its own starting point) and POSTs each question to
/api/ask (or /api/chat) of one of the `--url`s (client n uses url n mod the number of urls), waiting for each
answer before sending the next. Prints requests/s, latency percentiles and the errors (non-2xx and transport
errors). The server's rate limit counts per client address, so raise it for a benchmark; 429s are reported as
errors. With `--database-url` (set by `--cluster`), the audit rows the database gained during the run are
counted after the nodes' spools have drained, against the answers served (each answer writes one row).

`--cluster` starts, on localhost and in a temporary folder: `chroma run`, a PostgreSQL cluster (Debian's
binaries), `redis-server`, an `assistant ingest` into the Chroma server, then two `assistant serve --workers 2`
nodes (tests/servers.py has the helpers; they are the test suite's). Copy an embedding cache beside it with
`--embedding-cache` (default index/embedding-cache.sqlite3 when present) and the ingest takes seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Iterator

import httpx

from assistant.evaluation.records import read_jsonl

ROOT = Path(__file__).resolve().parent.parent


async def client_loop(
    n: int,
    client: httpx.AsyncClient,
    url: str,
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
            response = await client.post(url, json={"question": question})
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


def audit_rows(database_url: str | None) -> int | None:
    """Rows in the audit database's answers table (None without a database URL)."""
    if not database_url:
        return None
    import sqlalchemy

    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sqlalchemy.text("SELECT count(*) FROM answers")).scalar_one()
    finally:
        engine.dispose()


async def run(args: argparse.Namespace) -> str:
    questions = [row["question"] for _, row in read_jsonl(args.questions)]
    if not questions:
        raise SystemExit(f"No questions in {args.questions}.")
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    path = f"/api/{args.endpoint}"
    async with httpx.AsyncClient(headers=headers, timeout=args.timeout, limits=limits) as client:
        for url in args.url:
            ready = await client.get(f"{url}/readyz")
            if ready.status_code != 200:
                raise SystemExit(f"{url}/readyz answered {ready.status_code}: {ready.text}")
        rows_before = audit_rows(args.database_url)
        load_at_start = os.getloadavg()[0]
        latencies: list[float] = []
        errors: Counter = Counter()
        started = time.perf_counter()
        stop_at = started + args.duration
        await asyncio.gather(
            *(
                client_loop(n, client, args.url[n % len(args.url)] + path, questions, stop_at, latencies, errors)
                for n in range(args.clients)
            )
        )
        elapsed = time.perf_counter() - started
    done = sorted(latencies)
    shown = args.questions.relative_to(ROOT) if args.questions.is_relative_to(ROOT) else args.questions
    total = len(done) + sum(errors.values())
    lines = [
        f"server      {', '.join(args.url)} ({path}); {len(questions)} questions from {shown}",
        f"load        {args.clients} concurrent clients for {elapsed:.1f} s (requested {args.duration:g} s)",
        f"machine     {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (server, clients and "
        "anything else on the machine)",
        f"requests    {total} ({len(done)} ok, {sum(errors.values())} errors)",
        f"throughput  {len(done) / elapsed:.1f} requests/s",
        f"latency     p50 {percentile(done, 50) * 1000:.0f} ms, p95 {percentile(done, 95) * 1000:.0f} ms, "
        f"p99 {percentile(done, 99) * 1000:.0f} ms, max {(done[-1] if done else float('nan')) * 1000:.0f} ms",
        f"errors      {sum(errors.values())}"
        + (" (" + ", ".join(f"{k}: {v}" for k, v in errors.most_common()) + ")" if errors else ""),
    ]
    if rows_before is not None:
        written = await asyncio.to_thread(settled_rows, args.database_url, rows_before, len(done), args.settle)
        lines.append(
            f"audit       {written} rows written for {len(done)} answers served"
            + (" (equal)" if written == len(done) else f" (MISMATCH: {written - len(done):+d})")
        )
    if errors.get("HTTP 429"):
        lines.append(
            "note        429 = the server's rate limit; raise ASSISTANT_WEB__RATE_LIMIT_PER_MINUTE for benchmarks"
        )
    return "\n".join(lines)


def settled_rows(database_url: str, before: int, served: int, settle_s: float) -> int:
    """Rows added since `before`: at once when they equal `served`, else after up to `settle_s` seconds for
    spooled rows to arrive."""
    deadline = time.monotonic() + settle_s
    added = audit_rows(database_url) - before
    while added != served and time.monotonic() < deadline:
        time.sleep(1)
        added = audit_rows(database_url) - before
    return added


# ---------------------------------------------------------------- the cluster (--cluster)


@contextlib.contextmanager
def cluster(args: argparse.Namespace) -> Iterator[tuple[list[str], str, list]]:
    """Chroma server, PostgreSQL, Redis, an ingest and two nodes x `args.workers` on localhost; yields the
    node URLs, the database URL and the nodes. Everything is stopped and removed afterwards."""
    sys.path.insert(0, str(ROOT / "tests"))
    import pwd

    from servers import Chroma, Node, Postgres, Redis, chroma_bin, node_env, postgres_bin, redis_bin

    from assistant.index import ingest
    from assistant.settings import Settings

    missing = [
        n for n, found in (("chroma", chroma_bin()), ("postgres", postgres_bin()), ("redis", redis_bin())) if not found
    ]
    if missing:
        raise SystemExit(f"--cluster needs these servers installed: {', '.join(missing)} (make install-test)")
    root = Path(tempfile.mkdtemp(prefix="aimi-load-"))
    user = None
    if os.geteuid() == 0:  # postgres refuses to run as root
        user = "postgres"
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    (root / "pg").mkdir()
    if user:
        os.chown(root / "pg", entry.pw_uid, entry.pw_gid)
    chroma, redis = Chroma(chroma_bin(), root), Redis(redis_bin(), root)
    postgres = Postgres(postgres_bin(), root / "pg", user)
    nodes: list = []
    try:
        postgres.init()
        postgres.start()
        redis.start()
        chroma.start()
        database = postgres.database()
        cache = root / "embedding-cache.sqlite3"
        if args.embedding_cache and args.embedding_cache.exists():
            shutil.copy(args.embedding_cache, cache)
        t = time.perf_counter()
        report = ingest(Settings(index_dir=root / "ingest", embedding_cache=cache, chroma_url=chroma.url))
        if report.failed:
            raise SystemExit(f"ingest failed: {report.failed}")
        print(f"ingest into the Chroma server: {time.perf_counter() - t:.0f} s", file=sys.stderr)
        for name in ("a", "b"):
            home = root / name
            (home / "index").mkdir(parents=True)
            shutil.copy(cache, home / "index" / "embedding-cache.sqlite3")
            env = node_env(
                home,
                index_dir=str(home / "index"),
                chroma_url=chroma.url,
                database_url=database,
                redis_url=redis.url,
                web__rate_limit_per_minute="1000000",  # every client is 127.0.0.1
            )
            nodes.append(Node(name, home, env, workers=args.workers))
        t = time.perf_counter()
        for node in nodes:
            node.start()
        print(f"two nodes x {args.workers} workers ready: {time.perf_counter() - t:.0f} s", file=sys.stderr)
        yield [n.url for n in nodes], database, nodes
    finally:
        for node in nodes:
            node.stop()
        chroma.stop()
        redis.stop()
        if postgres.running():
            postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", action="append", default=None, help="Base URL of a running server; repeat for several nodes."
    )
    parser.add_argument(
        "--cluster", action="store_true", help="Start two nodes x --workers with Chroma, PostgreSQL, Redis."
    )
    parser.add_argument("--workers", type=int, default=2, help="Workers per node with --cluster.")
    parser.add_argument("--clients", type=int, default=50, help="Concurrent clients.")
    parser.add_argument("--duration", type=float, default=300.0, help="Seconds to keep asking.")
    parser.add_argument(
        "--database-url", default=None, help="The servers' audit database: count its rows against answers served."
    )
    parser.add_argument("--settle", type=float, default=60.0, help="Seconds to wait for spooled audit rows.")
    parser.add_argument(
        "--embedding-cache",
        type=Path,
        default=ROOT / "index" / "embedding-cache.sqlite3",
        help="Embedding cache copied for the cluster's ingest (makes it quick).",
    )
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
    if args.cluster:
        if args.url:
            parser.error("--cluster starts its own nodes; leave out --url")
        with cluster(args) as (urls, database, nodes):
            args.url, args.database_url = urls, database
            report = asyncio.run(run(args))
            report += (
                f"\nnodes       {len(nodes)} x {args.workers} workers, Chroma server, PostgreSQL, Redis (localhost)"
            )
    else:
        args.url = args.url or ["http://127.0.0.1:8000"]
        report = asyncio.run(run(args))
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
