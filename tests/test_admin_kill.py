"""Kill the server during a re-index: a real `assistant serve` process (uvicorn) over a small corpus, a
re-index started through the admin API, SIGKILL while it reads a new source, then a restart. The previous
index still answers, the manifest is whole and unchanged, and the job reads as interrupted."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest
from admin_corpus import ADMIN_ID, ADMIN_KEY, ADVISOR_KEY, CORPUS, TABLE_QUESTION, admin_settings, small_corpus
from conftest import free_port

from assistant.index import ingest

ROOT = Path(__file__).resolve().parent.parent
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
ADVISOR = {"Authorization": f"Bearer {ADVISOR_KEY}"}
REPORT = "rib-groningen-2025"  # the full report: long enough to read that the kill lands mid-job


class Server:
    def __init__(self, env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "serve", "--port", str(self.port)],
            env=env,
            cwd=ROOT,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"server not ready: {self.log.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)


@pytest.fixture
def corpus_env(tmp_path, embedding_cache):
    corpus = small_corpus(tmp_path / "corpus")
    settings = admin_settings(tmp_path, corpus, embedding_cache)
    assert not ingest(settings).failed  # the tables: the index the server starts with
    # then the report is added, approved, by hand: the next re-index has a large new source to read
    report = [s for s in tomllib.loads((CORPUS / "manifest.toml").read_text())["source"] if s["id"] == REPORT][0]
    shutil.copy2(CORPUS / report["file"], corpus / report["file"])
    entry = (CORPUS / "manifest.toml").read_text(encoding="utf-8").split("[[source]]")[1]
    assert f'id = "{REPORT}"' in entry
    with (corpus / "manifest.toml").open("a", encoding="utf-8") as fh:
        fh.write("\n[[source]]" + entry)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ASSISTANT_CORPUS_DIR": str(corpus),
        "ASSISTANT_INDEX_DIR": str(settings.index_dir),
        # an empty cache of its own: the report's passages are embedded in the server, which takes a while
        "ASSISTANT_EMBEDDING_CACHE": str(tmp_path / "server-cache.sqlite3"),
        "ASSISTANT_AUDIT_DB": str(tmp_path / "audit.sqlite3"),
        "ASSISTANT_WEB__API_KEYS": json.dumps([ADVISOR_KEY]),
        "ASSISTANT_WEB__ADMIN_KEYS": json.dumps([f"{ADMIN_ID}:{ADMIN_KEY}"]),
    }
    return env, corpus, tmp_path


def test_a_server_killed_mid_reindex_restarts_on_the_previous_index_with_the_manifest_whole(corpus_env):
    env, corpus, tmp_path = corpus_env
    manifest_before = (corpus / "manifest.toml").read_bytes()
    server = Server(env, tmp_path / "server.log")
    try:
        server.wait_ready()
        before = httpx.post(server.url + "/api/ask", headers=ADVISOR, json={"question": TABLE_QUESTION}, timeout=60)
        assert before.status_code == 200 and not before.json()["refused"]
        started = httpx.post(server.url + "/api/admin/reindex", headers=ADMIN, timeout=30)
        assert started.status_code == 202, started.text
        job_id = started.json()["job_id"]
        deadline = time.monotonic() + 120
        while True:
            job = httpx.get(f"{server.url}/api/admin/jobs/{job_id}", headers=ADMIN, timeout=30).json()
            if job["current"] == REPORT:
                break
            assert job["status"] == "running", job
            assert time.monotonic() < deadline, "the re-index never reached the report"
            time.sleep(0.1)
        time.sleep(1.0)  # well inside reading and embedding the report
        job = httpx.get(f"{server.url}/api/admin/jobs/{job_id}", headers=ADMIN, timeout=30).json()
        assert job["status"] == "running" and job["current"] == REPORT, "the kill must land mid-job"
        server.kill()
    finally:
        server.kill()

    manifest = corpus / "manifest.toml"
    assert manifest.read_bytes() == manifest_before
    assert {s["id"] for s in tomllib.loads(manifest.read_text(encoding="utf-8"))["source"]} == {
        "rib-groningen-2025-vacatures-per-sector",
        "rib-groningen-2025-onbenut-arbeidspotentieel",
        REPORT,
    }
    assert not list(corpus.glob(".*.tmp"))

    restarted = Server(env, tmp_path / "server-2.log")
    try:
        restarted.wait_ready()
        answer = httpx.post(restarted.url + "/api/ask", headers=ADVISOR, json={"question": TABLE_QUESTION}, timeout=60)
        assert answer.status_code == 200 and not answer.json()["refused"]
        assert answer.json()["citations"][0]["source_id"] == "rib-groningen-2025-onbenut-arbeidspotentieel"
        assert answer.json()["answer"] == before.json()["answer"]  # the same index as before the kill
        listed = httpx.get(restarted.url + "/api/admin/sources", headers=ADMIN, timeout=30).json()
        by_id = {s["id"]: s for s in listed["sources"]}
        assert by_id[REPORT]["indexed"] == "absent" and by_id[REPORT]["passages"] == 0  # the switch never came
        assert {by_id[s]["indexed"] for s in by_id if s != REPORT} == {"current"}
        job = httpx.get(f"{restarted.url}/api/admin/jobs/{job_id}", headers=ADMIN, timeout=30).json()
        assert job["status"] == "interrupted" and "vorige index is nog in gebruik" in job["message"]
        assert listed["job"]["id"] == job_id
    finally:
        restarted.kill()
