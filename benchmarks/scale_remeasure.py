"""Measure start-up, memory and latency again on indexes benchmarks/scale.py built (no new ingest),
after a change to the answering code: adds `runs_final` to each row of a results file.

    .venv/bin/python benchmarks/scale_remeasure.py benchmarks/results/scale-hashing-1000-10000.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scale  # noqa: E402


def main() -> None:
    path = Path(sys.argv[1])
    data = json.loads(path.read_text())
    for row in data["rows"]:
        work = scale.ROOT / "var" / "scale" / f"{row['embedder']}-{row['size_target']}"
        server, url = None, None
        if row["store"] == "server":
            server, url = scale.start_chroma(work / "chroma-server")
        try:
            cmd = [sys.executable, scale.__file__, "--worker", "--corpus", str(work / "corpus")]
            cmd += ["--index", str(work / f"index-{row['store']}"), "--embedder", row["embedder"]]
            cmd += ["--questions", "evals/questions/answer_dev.jsonl", "--n-questions", "100"]
            if url:
                cmd += ["--chroma-url", url]
            out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(scale.ROOT)})
            if out.returncode:
                raise RuntimeError(out.stderr[-3000:])
            run = json.loads(out.stdout.strip().splitlines()[-1])
            if server:
                run["chroma_server_rss_mb"] = round(scale.rss_mb(server.pid), 1)
            row["runs_final"] = [run]
            print(row["size_target"], row["store"], json.dumps(run), flush=True)
        finally:
            if server:
                server.terminate()
                server.wait(timeout=30)
    data["meta"]["remeasured"] = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(sys.argv),
        "why": "runs_final: the final answering code (after the Chroma count and version-filter changes and the "
        "fact lookup caches); runs: the code at the time of the ingest",
    }
    path.write_text(json.dumps(data, indent=2) + "\n")


if __name__ == "__main__":
    main()
