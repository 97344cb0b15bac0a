"""Real PostgreSQL, Redis and Chroma servers on localhost for the tests of shared state and of several nodes
(tests/test_shared_state.py, tests/test_nodes.py), started once per session and stopped at its end; a test may
stop and start them again (a fault). Also the app itself as a separate process (`Node`), as
`assistant serve` runs it, and the load benchmark's cluster (benchmarks/load.py) built from the same parts.

    postgres_server   a temporary cluster: initdb into a temporary folder, pg_ctl start on a free port with
                      its unix socket in that folder (as the `postgres` user when the tests run as root, since
                      postgres refuses to run as root); `.database()` makes an empty database, returns its URL
    redis_server      `redis-server --port <free> --save '' --appendonly no`; `.url`, `.stop()`, `.start()`
    chroma_server     `chroma run --path <tmp> --port <free>` (the CLI of the chromadb package); `.url`, `.stop()`,
                      `.start()` on the same data folder, so a restarted server has the same collections
    Node              `python -m assistant.cli serve --port <free> [--workers N]` with the given environment;
                      `.start()` waits for /healthz, `.log()` is what it wrote, `.stop()`

Each server fixture is skipped, with the reason, only when its binaries are not installed (`make install-test` installs
them: Debian's postgresql and redis-server). The binaries are found on the PATH or under
/usr/lib/postgresql/<version>/bin, where Debian puts PostgreSQL's.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: on the PATH, else Debian's newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).parent
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3].split(".")[0])
    )
    return Path(candidates[-1]).parent if candidates else None


def redis_bin() -> str | None:
    return shutil.which("redis-server") or next(
        (p for p in ("/usr/bin/redis-server", "/usr/sbin/redis-server") if os.access(p, os.X_OK)), None
    )


class Postgres:
    """A throwaway cluster in `root`, run as `user` (None: the current user)."""

    def __init__(self, bin_dir: Path, root: Path, user: str | None):
        self.bin, self.root, self.user = bin_dir, root, user
        self.data, self.log = root / "data", root / "postgres.log"
        self.port = free_port()

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            args, user=self.user, cwd=self.root, capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args)} failed: {result.stdout}{result.stderr}\n{log}")
        return result

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")

    def start(self) -> None:
        # fsync off: a test cluster need not survive a power cut, and the tests run faster
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off"
        )
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.root}&port={self.port}"

    def database(self) -> str:
        """A new, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(host=str(self.root), port=self.port, user="postgres", dbname="postgres") as conn:
            conn.autocommit = True
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


class Redis:
    def __init__(self, binary: str, root: Path):
        self.binary, self.root = binary, root
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.proc = subprocess.Popen(
            args + ["--dir", str(self.root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def flush(self) -> None:
        import redis

        redis.Redis.from_url(self.url).flushall()


def chroma_bin() -> str | None:
    """The `chroma` CLI of the installed chromadb package (beside this Python), else on the PATH."""
    beside = Path(sys.executable).parent / "chroma"
    return str(beside) if os.access(beside, os.X_OK) else shutil.which("chroma")


def wait_http(url: str, proc: subprocess.Popen | None, timeout_s: float, what: str) -> None:
    """Until `url` answers 200; raises with `what` when `proc` exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer {url} within {timeout_s:.0f} s")


class Chroma:
    """`chroma run` on a free port; its data folder outlives a stop, as a real server's disk does."""

    def __init__(self, binary: str, root: Path):
        self.binary, self.root = binary, root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        args = [self.binary, "run", "--path", str(self.root / "data"), "--host", "127.0.0.1", "--port", str(self.port)]
        with open(self.root / "chroma.log", "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        wait_http(f"{self.url}/api/v2/heartbeat", self.proc, 30, "chroma run")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class Node:
    """The app as its own process, as `assistant serve` runs it on one machine of several."""

    def __init__(self, name: str, root: Path, env: dict[str, str], workers: int = 1, port: int | None = None):
        self.name, self.root, self.workers = name, root, workers
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = env
        self.log_path = root / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout_s: float = 180) -> None:
        args = [
            sys.executable,
            "-m",
            "assistant.cli",
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        try:
            wait_http(f"{self.url}/readyz", self.proc, timeout_s, f"node {self.name}")
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; its log:\n{self.log()[-3000:]}") from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


def node_env(root: Path, **settings: str) -> dict[str, str]:
    """The environment of one node: this process's, the repository importable, and ASSISTANT_* settings."""
    repo = str(Path(__file__).resolve().parent.parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["PYTHONPATH"] = repo + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update({"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1"})
    env["ASSISTANT_AUDIT_DB"] = str(root / "audit.sqlite3")
    env.update({f"ASSISTANT_{k.upper()}": v for k, v in settings.items()})
    return env


def _postgres_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    pytest.skip("running as root and no non-root user (postgres, nobody) to run PostgreSQL as")


@pytest.fixture(scope="session")
def postgres_server():
    bin_dir = postgres_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin")
    user = _postgres_user()
    # not under pytest's tmp folder: that is private to root, and the server runs as another user
    root = Path(tempfile.mkdtemp(prefix="aimi-pg-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = Postgres(bin_dir, root, user)
    try:
        server.init()
        server.start()
        yield server
    finally:
        if server.running():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    binary = redis_bin()
    if binary is None:
        pytest.skip("redis-server not found on PATH (Debian: apt-get install redis-server)")
    server = Redis(binary, tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """An empty database of its own for one test (the server restarted if an earlier test left it stopped)."""
    if not postgres_server.running():
        postgres_server.start()
    return postgres_server.database()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The session's Redis, emptied and running, for one test."""
    if not redis_server.running():
        redis_server.start()
    redis_server.flush()
    return redis_server.url


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    binary = chroma_bin()
    if binary is None:
        pytest.skip("the `chroma` CLI (chromadb package) not found")
    server = Chroma(binary, tmp_path_factory.mktemp("chroma"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
