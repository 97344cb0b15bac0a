"""Incremental and crash-safe ingest into a real Chroma store (embedded and server mode)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT

from assistant.backends import get_store
from assistant.core import Assistant
from assistant.index import ingest, load_snapshot
from assistant.settings import Settings

NOTE_V1 = """# Factsheet werkgelegenheid

In de regio Westerkwartier werkten in 2024 zo'n 41.000 mensen in loondienst.

Het aantal openstaande vacatures in het Westerkwartier bedroeg 1.250 in het tweede kwartaal van 2025.
"""
NOTE_V2 = NOTE_V1.replace("1.250", "1.375")

MANIFEST = """
[[source]]
id = "factsheet-westerkwartier"
title = "Factsheet Westerkwartier"
publisher = "Gemeente Westerkwartier"
kind = "factsheet"
file = "factsheet.md"
published = 2025-10-01
approved = true
approved_by = "test"

[[source]]
id = "onbenut"
title = "Onbenut arbeidspotentieel naar groep, Groningen 2024"
publisher = "UWV"
kind = "table"
file = "onbenut.csv"
published = 2025-11-01
approved = true
approved_by = "test"
period = "2024"
unit = "personen"
"""


@pytest.fixture
def small_corpus(tmp_path, embedding_cache) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    (corpus / "factsheet.md").write_text(NOTE_V1, encoding="utf-8")
    shutil.copy(CORPUS / "tables" / "onbenut-arbeidspotentieel-groningen.csv", corpus / "onbenut.csv")
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", embedding_cache=embedding_cache)


def texts(settings: Settings) -> str:
    return "\n".join(c.text for c in load_snapshot(get_store(settings)).chunks)


def test_reingest_skips_unchanged_replaces_changed_and_deletes_removed(small_corpus):
    first = ingest(small_corpus)
    assert sorted(first.added) == ["factsheet-westerkwartier", "onbenut"] and not first.failed

    again = ingest(small_corpus)
    assert sorted(again.unchanged) == ["factsheet-westerkwartier", "onbenut"] and not again.added

    (small_corpus.corpus_dir / "factsheet.md").write_text(NOTE_V2, encoding="utf-8")
    changed = ingest(small_corpus)
    assert changed.replaced == ["factsheet-westerkwartier"] and changed.unchanged == ["onbenut"]
    assert "1.375" in texts(small_corpus) and "1.250" not in texts(small_corpus)

    manifest = small_corpus.manifest_path
    manifest.write_text(
        manifest.read_text().replace(
            'approved = true\napproved_by = "test"\nperiod', 'approved = false\napproved_by = "test"\nperiod'
        )
    )
    removed = ingest(small_corpus)
    assert removed.removed == ["onbenut"] and removed.skipped == {"onbenut": "unapproved"}
    store = get_store(small_corpus)
    assert {c.source_id for c in load_snapshot(store).chunks} == {"factsheet-westerkwartier"}
    assert all(m["source_id"] == "factsheet-westerkwartier" for _, _, m in store.get())  # old rows really deleted


def test_a_broken_source_keeps_its_previous_version_and_the_others(small_corpus):
    ingest(small_corpus)
    (small_corpus.corpus_dir / "factsheet.md").write_bytes("Kapotte tekst \xe9\xe9n".encode("latin-1"))
    report = ingest(small_corpus)
    assert "factsheet-westerkwartier" in report.failed and "UTF-8" in report.failed["factsheet-westerkwartier"]
    assert report.unchanged == ["onbenut"]
    assert "1.250" in texts(small_corpus)  # the previous version is still served


_KILL_AFTER_FIRST_UPSERT = textwrap.dedent(
    """
    import os, signal
    from assistant.backends import ChromaStore
    from assistant.index import ingest
    from assistant.settings import Settings

    real_upsert = ChromaStore.upsert
    def upsert_then_die(self, *args, **kwargs):
        real_upsert(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)  # as if the machine went down mid-ingest
    ChromaStore.upsert = upsert_then_die
    ingest(Settings())
    """
)


def test_an_ingest_killed_halfway_leaves_the_previous_index_usable(small_corpus):
    ingest(small_corpus)
    before = texts(small_corpus)
    (small_corpus.corpus_dir / "factsheet.md").write_text(NOTE_V2, encoding="utf-8")
    env = {
        **os.environ,
        "ASSISTANT_CORPUS_DIR": str(small_corpus.corpus_dir),
        "ASSISTANT_INDEX_DIR": str(small_corpus.index_dir),
        "ASSISTANT_EMBEDDING_CACHE": str(small_corpus.embedding_cache),
    }
    proc = subprocess.run(
        [sys.executable, "-c", _KILL_AFTER_FIRST_UPSERT], env=env, cwd=ROOT, capture_output=True, timeout=300
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]

    assert texts(small_corpus) == before  # readers see exactly the old version
    answer = Assistant.open(small_corpus).ask("Hoeveel openstaande vacatures had het Westerkwartier?")
    assert "1.250" in answer.answer and not answer.refused

    report = ingest(small_corpus)  # the next run finishes the job and sweeps the leftovers
    assert report.replaced == ["factsheet-westerkwartier"]
    assert "1.375" in texts(small_corpus) and "1.250" not in texts(small_corpus)
    versions = {m["version"] for _, _, m in get_store(small_corpus).get()}
    assert len(versions) == 2  # one per source: no orphaned rows of the killed run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    """A real `chroma run` server on localhost."""
    binary = Path(sys.executable).parent / "chroma"
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [str(binary), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma server did not start")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


def test_chroma_server_mode_ingests_and_answers(chroma_server, small_corpus):
    settings = small_corpus.model_copy(update={"chroma_url": chroma_server})
    report = ingest(settings)
    assert sorted(report.added) == ["factsheet-westerkwartier", "onbenut"]
    assert not (settings.index_dir / settings.index_name).exists()  # nothing stored locally
    assistant = Assistant.open(settings)
    hits = assistant.retriever.retrieve("Hoeveel werklozen telde Groningen in 2024?", k=3, mode="dense")
    assert hits[0].chunk.row_label == "Werklozen" and hits[0].chunk.page == "rij 2"  # dense search ran on the server
    answer = assistant.ask("Hoeveel openstaande vacatures had het Westerkwartier?")
    assert "1.250" in answer.answer and answer.citations[0].source_id == "factsheet-westerkwartier"
    assert ingest(settings).unchanged == sorted(["factsheet-westerkwartier", "onbenut"])
