"""Audit log: what `Services.answer` records for every channel, feedback, conversations,
exports, and the `assistant audit` command that lists and exports them, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from click.testing import CliRunner

from assistant.audit import RATINGS, AuditLog
from assistant.channels import Services
from assistant.cli import main
from assistant.errors import QuestionError
from assistant.types import Answer

FACTUAL = "Hoeveel vacatures stonden er eind tweede kwartaal 2025 open in Groningen?"
PREDICTION = "Wat is jouw eigen voorspelling voor het aantal vacatures in Groningen in 2031?"


@pytest.fixture
def audit_path(tmp_path):
    return tmp_path / "audit.sqlite3"  # the path ASSISTANT_AUDIT_DB points at (conftest), so the CLI reads it too


@pytest.fixture(params=["sqlite", "postgresql"])
def audit_target(request, audit_path, monkeypatch):
    """Every test below on both databases of the one schema: the SQLite file and a real PostgreSQL
    (tests/servers.py; the CLI finds it through ASSISTANT_DATABASE_URL)."""
    if request.param == "sqlite":
        return audit_path
    url = request.getfixturevalue("postgres_url")
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", url)
    return url


@pytest.fixture
def services(index_settings, assistant, audit_path, audit_target) -> Services:
    url = audit_target if isinstance(audit_target, str) else None
    settings = index_settings.model_copy(update={"audit_db": audit_path, "database_url": url})
    audit = AuditLog(audit_target, audit_path.with_name("spool.sqlite3"))
    assert audit.dialect == ("postgresql" if url else "sqlite")
    return Services(settings, audit, _assistant=assistant)


def test_answer_is_recorded_with_citations_versions_timings_and_channel(services, assistant):
    answer, answer_id = services.answer(FACTUAL, "web", "gesprek-1")
    (record,) = services.audit.recent(5)
    assert record["id"] == answer_id and record["channel"] == "web" and record["conversation_id"] == "gesprek-1"
    assert record["question"] == FACTUAL and record["answer"] == answer.answer and record["refused"] is False
    assert (
        record["refusal_reason"] is None
        and record["timings"] == answer.timings_ms
        and record["timings"]["total_ms"] > 0
    )
    assert record["citations"] == [
        {
            "n": c.n,
            "source_id": c.source_id,
            "page": c.page,
            "chunk_id": c.chunk_id,
            "source_version": assistant.snapshot.meta_versions[c.source_id],
        }
        for c in answer.citations
    ]
    assert record["citations"] and all(c["source_version"] for c in record["citations"])


def test_refusal_is_recorded_with_its_reason(services):
    answer, _ = services.answer(PREDICTION, "api")
    record = services.audit.recent(1)[0]
    assert answer.refused and record["refused"] is True and record["refusal_reason"] == "prediction"
    assert record["channel"] == "api" and record["conversation_id"] is None


def test_history_is_per_conversation_oldest_first(services):
    services.answer(FACTUAL, "web", "a")
    services.answer(PREDICTION, "web", "b")
    services.answer("En in de zorg?", "web", "a")
    assert services.audit.history("a") == [FACTUAL, "En in de zorg?"]
    assert services.audit.history("b") == [PREDICTION]
    assert services.audit.history("onbekend") == []


def test_conversations_are_known_once_started_or_answered(services):
    audit = services.audit
    started = audit.start_conversation("web")
    assert audit.has_conversation(started) and audit.history(started) == []
    assert not audit.has_conversation("slack:C01:123")
    services.answer(FACTUAL, "slack", "slack:C01:123")  # channels that bring their own ids
    assert audit.has_conversation("slack:C01:123")
    assert audit.start_conversation() != started


def test_feedback_ratings_and_errors(services):
    _, answer_id = services.answer(FACTUAL, "web")
    assert services.audit.has_answer(answer_id) and not services.audit.has_answer("onbekend")
    for rating in RATINGS:
        services.audit.feedback(answer_id, rating, f"notitie {rating}", channel="web")
    feedback = services.audit.recent(1)[0]["feedback"]
    assert [(f["rating"], f["note"], f["channel"]) for f in feedback] == [(r, f"notitie {r}", "web") for r in RATINGS]
    with pytest.raises(QuestionError) as bad_rating:
        services.audit.feedback(answer_id, "geweldig")
    assert bad_rating.value.message_nl == "Onbekende beoordeling."
    with pytest.raises(QuestionError):
        services.audit.feedback("onbekend", "helpful")
    services.audit.feedback(answer_id, "not_helpful", "x" * 5000)
    assert len(services.audit.recent(1)[0]["feedback"][-1]["note"]) == 2000


# the answers table as the first audit log version wrote it
OLD_ANSWERS_TABLE = (
    "CREATE TABLE answers (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, channel TEXT NOT NULL,"
    " conversation_id TEXT, question TEXT NOT NULL, answer TEXT NOT NULL, refused INTEGER NOT NULL,"
    " refusal_reason TEXT, citations TEXT NOT NULL, timings TEXT NOT NULL);"
)


def old_database(path, sql: str):
    """An audit file as an earlier version left it: its answers table, then `sql`."""
    db = sqlite3.connect(path)
    db.executescript(OLD_ANSWERS_TABLE + sql)
    db.commit()
    db.close()
    return path


def test_existing_database_without_conversations_table_is_upgraded(tmp_path):
    path = old_database(
        tmp_path / "old.sqlite3",
        "INSERT INTO answers VALUES ('a1', '2025-01-01T00:00:00', 'web', 'oud', 'v', 'a', 0, NULL, '[]', '{}');",
    )
    audit = AuditLog(path)
    assert audit.has_conversation("oud") and audit.has_conversation(audit.start_conversation("web"))


def test_export_formats(services):
    services.answer(FACTUAL, "web", "c")
    _, refused_id = services.answer(PREDICTION, "api")
    services.audit.feedback(refused_id, "missing_source", "prognose UWV ontbreekt")
    rows = [json.loads(line) for line in services.audit.export("jsonl").splitlines()]
    assert [r["question"] for r in rows] == [PREDICTION, FACTUAL]
    assert rows[0]["feedback"][0]["rating"] == "missing_source" and rows[1]["citations"][0]["source_version"]
    table = list(csv.DictReader(io.StringIO(services.audit.export("csv"))))
    assert [r["refusal_reason"] for r in table] == ["prediction", ""]
    assert (
        json.loads(table[1]["citations"])[0]["chunk_id"]
        and json.loads(table[0]["feedback"])[0]["note"] == "prognose UWV ontbreekt"
    )
    with pytest.raises(ValueError):
        services.audit.export("xml")


def test_cli_audit_lists_and_exports(services, tmp_path):
    services.answer(FACTUAL, "web", "c")
    _, refused_id = services.answer(PREDICTION, "api")
    services.audit.feedback(refused_id, "not_helpful")
    runner = CliRunner()

    listing = runner.invoke(main, ["audit", "--limit", "10"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0, listing.output
    assert (
        "prediction" in listing.output
        and "not_helpful" in listing.output
        and "web" in listing.output
        and "api" in listing.output
    )

    exported = runner.invoke(main, ["audit", "--export", "jsonl"])
    assert exported.exit_code == 0
    assert [json.loads(line)["channel"] for line in exported.output.splitlines()] == ["api", "web"]

    out = tmp_path / "audit.csv"
    written = runner.invoke(main, ["audit", "--export", "csv", "--out", str(out), "--limit", "1"])
    assert written.exit_code == 0 and str(out) in written.output.replace("\n", "")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 1 and rows[0]["refusal_reason"] == "prediction"


def test_existing_feedback_table_gets_its_uid_column_and_old_rows_stay(tmp_path):
    path = old_database(
        tmp_path / "old.sqlite3",
        "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id TEXT NOT NULL REFERENCES answers(id),"
        " created_at TEXT NOT NULL, rating TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL"
        " DEFAULT '');"
        "INSERT INTO answers VALUES ('a1', '2025-01-01T00:00:00', 'web', NULL, 'v', 'a', 1, 'prediction', '[]', '{}');"
        "INSERT INTO feedback (answer_id, created_at, rating) VALUES ('a1', '2025-01-01T00:00:01', 'helpful');",
    )
    audit = AuditLog(path)
    audit.feedback("a1", "not_helpful", "nieuw")
    (record,) = audit.recent(5)
    assert record["refused"] is True and record["citations"] == [] and record["timings"] == {}
    assert [(f["rating"], f["note"]) for f in record["feedback"]] == [("helpful", ""), ("not_helpful", "nieuw")]
    uids = [r[0] for r in sqlite3.connect(path).execute("SELECT uid FROM feedback ORDER BY id")]
    assert uids[0] is None and len(uids[1]) == 32  # old rows keep no uid; new rows get one


def test_every_row_written_while_the_database_is_unreachable_waits_in_the_spool(tmp_path):
    """The spool with the embedded database: a file that cannot be opened as the database spools, like a
    stopped server does (the PostgreSQL case: tests/test_shared_state.py)."""
    blocked = tmp_path / "db"
    audit = AuditLog(blocked / "audit.sqlite3", tmp_path / "spool.sqlite3", retry_s=0)
    answer = Answer(question="Hoeveel?", answer="Veel. [1]", timings_ms={"total_ms": 1.0})
    first = audit.record(answer, "web", "c")
    audit._db.dispose()  # close the pooled connection, as a server that went away does
    blocked.rename(tmp_path / "moved")
    blocked.write_text("no folder here")  # the database's folder is now a file: it cannot be opened
    second = audit.record(answer, "web", "c")
    assert audit.pending == 1 and audit.history("c") == ["Hoeveel?"]  # only what the spool holds
    blocked.unlink()
    (tmp_path / "moved").rename(blocked)
    third = audit.record(answer, "web", "c")
    assert audit.pending == 0
    assert sorted(r["id"] for r in audit.recent(10)) == sorted([first, second, third])
