"""Audit log and feedback store (embedded SQLite): every answered question with its
citations, refusal reason, timings and channel; feedback rows join their answer.

Channels call `AuditLog.record(answer, channel)` after each answer and
`AuditLog.feedback(answer_id, rating, note)` when an advisor rates it. A conversation
is known once it is started (`start_conversation`) or once an answer is recorded under it.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from .errors import QuestionError
from .types import Answer

Rating = Literal["helpful", "not_helpful", "missing_source"]
RATINGS: tuple[str, ...] = ("helpful", "not_helpful", "missing_source")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    channel TEXT NOT NULL,
    conversation_id TEXT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    refused INTEGER NOT NULL,
    refusal_reason TEXT,
    citations TEXT NOT NULL,
    timings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id TEXT NOT NULL REFERENCES answers(id),
    created_at TEXT NOT NULL,
    rating TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS answers_created ON answers(created_at);
CREATE INDEX IF NOT EXISTS answers_conversation ON answers(conversation_id);
"""


class AuditLog:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def record(
        self, answer: Answer, channel: str, conversation_id: str | None = None, versions: dict[str, str] | None = None
    ) -> str:
        """Store one answer; returns its id (used for feedback)."""
        answer_id = uuid.uuid4().hex
        citations = [
            {
                "n": c.n,
                "source_id": c.source_id,
                "page": c.page,
                "chunk_id": c.chunk_id,
                "source_version": (versions or {}).get(c.source_id, ""),
            }
            for c in answer.citations
        ]
        with self._lock:
            self._db.execute(
                "INSERT INTO answers VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    answer_id,
                    _now(),
                    channel,
                    conversation_id,
                    answer.question,
                    answer.answer,
                    int(answer.refused),
                    answer.refusal_reason,
                    json.dumps(citations),
                    json.dumps(answer.timings_ms),
                ),
            )
            self._db.commit()
        return answer_id

    def history(self, conversation_id: str) -> list[str]:
        """Earlier questions of a conversation, oldest first (empty for an unknown id)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT question FROM answers WHERE conversation_id=? ORDER BY created_at", (conversation_id,)
            ).fetchall()
        return [r["question"] for r in rows]

    def start_conversation(self, channel: str = "") -> str:
        """Register a new conversation (known before its first answer); returns its id."""
        conversation_id = uuid.uuid4().hex
        with self._lock:
            self._db.execute("INSERT INTO conversations VALUES (?,?,?)", (conversation_id, _now(), channel))
            self._db.commit()
        return conversation_id

    def has_conversation(self, conversation_id: str) -> bool:
        """True for a started conversation and for any conversation id an answer was recorded under."""
        with self._lock:
            return bool(
                self._db.execute("SELECT 1 FROM conversations WHERE id=?", (conversation_id,)).fetchone()
                or self._db.execute(
                    "SELECT 1 FROM answers WHERE conversation_id=? LIMIT 1", (conversation_id,)
                ).fetchone()
            )

    def has_answer(self, answer_id: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM answers WHERE id=?", (answer_id,)).fetchone() is not None

    def feedback(self, answer_id: str, rating: str, note: str = "", channel: str = "") -> None:
        if rating not in RATINGS:
            raise QuestionError(
                f"Unknown rating {rating!r}; use one of {', '.join(RATINGS)}.", "Onbekende beoordeling."
            )
        with self._lock:
            if not self._db.execute("SELECT 1 FROM answers WHERE id=?", (answer_id,)).fetchone():
                raise QuestionError(
                    f"No answer with id {answer_id!r}.",
                    "Dit antwoord is niet (meer) bekend; feedback is niet opgeslagen.",
                )
            self._db.execute(
                "INSERT INTO feedback (answer_id, created_at, rating, note, channel) VALUES (?,?,?,?,?)",
                (answer_id, _now(), rating, note[:2000], channel),
            )
            self._db.commit()

    def recent(self, limit: int = 50) -> list[dict]:
        """Newest answers first, each with its citations and feedback."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM answers ORDER BY created_at DESC LIMIT ?", (limit,)).fetchall()
            out = []
            for r in rows:
                fb = self._db.execute(
                    "SELECT rating, note, channel, created_at FROM feedback WHERE answer_id=? ORDER BY id", (r["id"],)
                ).fetchall()
                item = dict(r)
                item["refused"] = bool(item["refused"])
                item["citations"] = json.loads(item["citations"])
                item["timings"] = json.loads(item["timings"])
                item["feedback"] = [dict(f) for f in fb]
                out.append(item)
            return out

    def export(self, fmt: str, limit: int = 1000) -> str:
        records = self.recent(limit)
        if fmt == "jsonl":
            return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        if fmt == "csv":
            buf = io.StringIO()
            fields = [
                "id",
                "created_at",
                "channel",
                "conversation_id",
                "question",
                "answer",
                "refused",
                "refusal_reason",
                "citations",
                "timings",
                "feedback",
            ]
            writer = csv.DictWriter(buf, fieldnames=fields)
            writer.writeheader()
            for r in records:
                writer.writerow(
                    {
                        k: json.dumps(r[k], ensure_ascii=False) if isinstance(r[k], (list, dict)) else r[k]
                        for k in fields
                    }
                )
            return buf.getvalue()
        raise ValueError(f"Unknown export format {fmt!r}; use csv or jsonl.")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
