"""Audit log and feedback store: every answered question with its citations, refusal reason, timings and
channel; feedback rows join their answer; conversations are known once started or answered.

    audit = AuditLog.from_settings(settings)    # PostgreSQL when ASSISTANT_DATABASE_URL is set, else SQLite
    answer_id = audit.record(answer, "web", conversation_id)
    audit.feedback(answer_id, "helpful")

Channels call `AuditLog.record(answer, channel)` after each answer and `AuditLog.feedback(answer_id, rating,
note)` when an advisor rates it. A conversation is known once it is started (`start_conversation`) or once an
answer is recorded under it. The tables are those of `storage.py`, on whichever database is configured.

When the database cannot be reached (a PostgreSQL restart, a network fault), answers are still served: every
row then goes to a local spool, an SQLite file with the same tables on this node's disk, and is copied to the
database by a background flush every `flush_s` seconds and on the first write that reaches the database again.
Rows carry uuids, so a copy interrupted half-way and repeated stores nothing twice. Meanwhile a conversation's
history reads the spool too (so follow-ups on this node keep working), and ids the database cannot be asked
about count as known: feedback for an answer the database turns out not to have is dropped, with a warning,
when the spool is written.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal, TypeVar

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from . import storage
from .errors import QuestionError, StoreUnavailable
from .settings import ROOT
from .storage import admin_actions, answers, conversations, feedback
from .types import Answer

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger(__name__)

Rating = Literal["helpful", "not_helpful", "missing_source"]
RATINGS: tuple[str, ...] = ("helpful", "not_helpful", "missing_source")

T = TypeVar("T")
FLUSH_BATCH = 500  # rows per statement when the spool is written: well below every database's parameter limit


class _Down(Exception):
    """The database is unreachable (or was a moment ago); the caller uses the spool."""


class AuditLog:
    def __init__(
        self, target: Path | str, spool: Path | None = None, *, flush_s: float = 30.0, retry_s: float | None = None
    ):
        """`target`: a SQLite file path or a SQLAlchemy URL. `spool`: the local file rows wait in while the
        database is unreachable (default: beside a SQLite target, else var/audit-spool.sqlite3). `flush_s`:
        seconds between attempts to write the spool to the database. `retry_s`: after a failure, writes go
        straight to the spool for this long (default: `flush_s`, at most 5 s), so an unreachable host
        costs one connection timeout, not one per answer."""
        self.target = target
        self.flush_s = flush_s
        self.retry_s = min(flush_s, 5.0) if retry_s is None else retry_s
        self._db = storage.open_engine(target)
        if spool is None:
            base = Path(target) if not storage.is_url(target) else ROOT / "var" / "audit.sqlite3"
            spool = base.with_name(base.stem + "-spool.sqlite3")
        self.spool_path = spool
        self._spool = None  # the spool's engine, opened on first use
        self._schema_ready = False
        self._down_until = 0.0
        self._pending = 0
        self._flush_lock = threading.Lock()
        self._schema_lock = threading.Lock()
        self._spool_lock = threading.Lock()  # a spool write and the count of pending rows change together
        self._state_lock = threading.Lock()
        self._flusher: threading.Thread | None = None
        self._closed = threading.Event()
        try:
            self._primary(lambda conn: None)
        except _Down:
            pass  # logged; the node serves and spools until the database is back
        if self.spool_path.exists():
            self._pending = self._spool_count()
            if self._pending:
                log.warning("%d audit rows from an earlier run wait in %s.", self._pending, self.spool_path)
                self._start_flusher()

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditLog:
        """The audit log the settings ask for: `database_url` when set, else the SQLite file `audit_db`."""
        spool = settings.audit_spool or settings.audit_db.with_name("audit-spool.sqlite3")
        return cls(settings.database_url or settings.audit_db, spool, flush_s=settings.audit_flush_s)

    @property
    def dialect(self) -> str:
        return self._db.dialect.name

    @property
    def pending(self) -> int:
        """Rows in the local spool, not yet in the database."""
        return self._pending

    # -- writing

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
        self._write(
            answers,
            {
                "id": answer_id,
                "created_at": _now(),
                "channel": channel,
                "conversation_id": conversation_id,
                "question": answer.question,
                "answer": answer.answer,
                "refused": bool(answer.refused),
                "refusal_reason": answer.refusal_reason,
                "citations": citations,
                "timings": answer.timings_ms,
            },
        )
        return answer_id

    def start_conversation(self, channel: str = "") -> str:
        """Register a new conversation (known before its first answer); returns its id."""
        conversation_id = uuid.uuid4().hex
        self._write(conversations, {"id": conversation_id, "created_at": _now(), "channel": channel})
        return conversation_id

    def feedback(self, answer_id: str, rating: str, note: str = "", channel: str = "") -> None:
        if rating not in RATINGS:
            raise QuestionError(
                f"Unknown rating {rating!r}; use one of {', '.join(RATINGS)}.", "Onbekende beoordeling."
            )
        if not self.has_answer(answer_id):
            raise QuestionError(
                f"No answer with id {answer_id!r}.",
                "Dit antwoord is niet (meer) bekend; feedback is niet opgeslagen.",
            )
        row = {
            "uid": uuid.uuid4().hex,
            "answer_id": answer_id,
            "created_at": _now(),
            "rating": rating,
            "note": note[:2000],
            "channel": channel,
        }
        self._write(feedback, row)

    def admin_action(
        self, key_id: str, action: str, source_id: str = "", outcome: str = "ok", detail: dict | None = None
    ) -> str:
        """Record one action of the content team (the /beheer page); returns its id."""
        action_id = uuid.uuid4().hex
        row = {
            "id": action_id,
            "created_at": _now(),
            "key_id": key_id,
            "action": action,
            "source_id": source_id,
            "outcome": outcome,
            "detail": detail or {},
        }
        self._write(admin_actions, row)
        return action_id

    def admin_actions(self, limit: int = 100) -> list[dict]:
        """The content team's actions, newest first (spooled rows included)."""
        query = select(admin_actions).order_by(admin_actions.c.created_at.desc()).limit(limit)
        rows = {r.id: dict(r._mapping) for r in self._read(lambda conn: conn.execute(query).all(), default=[])}
        rows.update({r.id: dict(r._mapping) for r in self._from_spool(lambda conn: conn.execute(query).all(), [])})
        return sorted(rows.values(), key=lambda r: r["created_at"], reverse=True)[:limit]

    def _write(self, table, row: dict) -> None:
        try:
            self._primary(lambda conn: conn.execute(insert(table), [row]))
        except _Down:
            self._to_spool(table, row)
            return
        if self._pending:
            try:
                self.flush()  # the database is back: the spooled rows follow this one
            except Exception:  # the answer is stored; the spool is tried again by the background flush
                log.exception("Writing the audit spool to the database failed.")

    # -- reading

    def history(self, conversation_id: str) -> list[str]:
        """Earlier questions of a conversation, oldest first (empty for an unknown id)."""
        query = (
            select(answers.c.id, answers.c.created_at, answers.c.question)
            .where(answers.c.conversation_id == conversation_id)
            .order_by(answers.c.created_at)
        )
        rows = {r.id: r for r in self._read(lambda conn: conn.execute(query).all(), default=[])}
        rows.update({r.id: r for r in self._from_spool(lambda conn: conn.execute(query).all(), [])})
        return [r.question for r in sorted(rows.values(), key=lambda r: r.created_at)]

    def has_conversation(self, conversation_id: str) -> bool:
        """True for a started conversation and for any conversation id an answer was recorded under (and while
        the database cannot be asked: an advisor's conversation is not thrown away over an outage)."""

        def known(conn: Connection) -> bool:
            return bool(
                conn.execute(select(conversations.c.id).where(conversations.c.id == conversation_id)).first()
                or conn.execute(
                    select(answers.c.id).where(answers.c.conversation_id == conversation_id).limit(1)
                ).first()
            )

        return self._from_spool(known, False) or self._read(known, default=True)

    def has_answer(self, answer_id: str) -> bool:
        """True for a recorded answer (and while the database cannot be asked; see the module docstring)."""

        def known(conn: Connection) -> bool:
            return conn.execute(select(answers.c.id).where(answers.c.id == answer_id)).first() is not None

        return self._from_spool(known, False) or self._read(known, default=True)

    def recent(self, limit: int = 50) -> list[dict]:
        """Newest answers first, each with its citations and feedback (rows still in the spool included).
        Raises StoreUnavailable while the database cannot be reached."""
        try:
            records = self._primary(lambda conn: _recent(conn, limit), force=True)
        except _Down:
            raise StoreUnavailable(
                f"The audit database {self._where()} is unreachable; {self._pending} rows wait in {self.spool_path}.",
                "Het auditlogboek is even niet bereikbaar. Probeer het over een paar minuten opnieuw.",
            ) from None
        spooled = self._from_spool(lambda conn: _recent(conn, limit), [])
        if not spooled:
            return records
        merged = {r["id"]: r for r in records}
        for r in spooled:
            if r["id"] in merged:  # spooled feedback for an answer already in the database
                merged[r["id"]]["feedback"] += r["feedback"]
            else:
                merged[r["id"]] = r
        return sorted(merged.values(), key=lambda r: r["created_at"], reverse=True)[:limit]

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

    # -- the database, and the spool while it is away

    def _primary(self, work: Callable[[Connection], T], *, force: bool = False) -> T:
        """Run `work` in one transaction on the database; raises _Down when it is unreachable."""
        if not force and time.monotonic() < self._down_until:
            raise _Down
        try:
            if not self._schema_ready:
                with self._schema_lock:
                    if not self._schema_ready:
                        storage.create_schema(self._db)
                        self._schema_ready = True
            with self._db.begin() as conn:
                return work(conn)
        except (OperationalError, InterfaceError, PoolTimeout) as exc:
            self._mark_down(exc)
            raise _Down from exc
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            self._mark_down(exc)
            raise _Down from exc

    def _read(self, work: Callable[[Connection], T], default: T) -> T:
        try:
            return self._primary(work)
        except _Down:
            return default

    def _mark_down(self, exc: Exception) -> None:
        with self._state_lock:
            first = self._down_until == 0.0
            self._down_until = time.monotonic() + self.retry_s
        if first:
            log.warning(
                "Audit database %s unreachable (%s); answers go on, rows are spooled to %s.",
                self._where(),
                _short(exc),
                self.spool_path,
            )

    def _spool_engine(self):
        with self._state_lock:
            if self._spool is None:
                engine = storage.open_engine(self.spool_path)
                try:
                    storage.create_schema(engine)
                except OperationalError:  # another worker of this node (same spool file) created it just now
                    storage.create_schema(engine)
                self._spool = engine
            return self._spool

    def _to_spool(self, table, row: dict) -> None:
        engine = self._spool_engine()
        with self._spool_lock:
            with engine.begin() as conn:
                conn.execute(insert(table), [row])
            self._pending += 1
        self._start_flusher()

    def _from_spool(self, work: Callable[[Connection], T], default: T) -> T:
        if not self._pending:
            return default
        with self._spool_engine().connect() as conn:
            return work(conn)

    def _spool_count(self) -> int:
        with self._spool_engine().connect() as conn:
            return sum(
                conn.execute(select(func.count()).select_from(t)).scalar_one() for t in storage.metadata.tables.values()
            )

    def flush(self) -> int:
        """Copy the spooled rows to the database and remove them from the spool; returns how many were copied
        (0 while the database is still unreachable). Safe to call at any time, from any thread, and to repeat:
        a row the database already holds is skipped."""
        with self._flush_lock:
            if not self.spool_path.exists():
                return 0
            copied = 0
            # conversations and answers first: feedback needs its answer (a foreign key)
            for table, order in (
                (conversations, conversations.c.created_at),
                (answers, answers.c.created_at),
                (admin_actions, admin_actions.c.created_at),
            ):
                while rows := self._spooled(table, order):
                    try:
                        self._primary(lambda conn: storage.insert_new(conn, table, rows), force=True)
                    except _Down:
                        return copied
                    copied += self._unspool(table, table.c.id, [r["id"] for r in rows])
            while rows := self._spooled(feedback, feedback.c.id):
                try:
                    kept, dropped = self._primary(lambda conn: self._copy_feedback(conn, rows), force=True)
                except _Down:
                    return copied
                for f in dropped:
                    log.warning("Dropped spooled feedback %s: the database has no answer %s.", f["uid"], f["answer_id"])
                self._unspool(feedback, feedback.c.id, [f["id"] for f in dropped])
                copied += self._unspool(feedback, feedback.c.id, [f["id"] for f in kept])
                if not kept and not dropped:
                    break  # feedback whose answer was spooled meanwhile: the next flush takes both
            with self._state_lock:
                self._down_until = 0.0
            with self._spool_lock:
                self._pending = self._spool_count()
            if copied:
                log.warning("Audit database %s is back: %d spooled rows written.", self._where(), copied)
            return copied

    def _spooled(self, table, order) -> list[dict]:
        with self._spool_engine().connect() as conn:
            return [dict(r._mapping) for r in conn.execute(select(table).order_by(order).limit(FLUSH_BATCH)).all()]

    def _copy_feedback(self, conn: Connection, rows: list[dict]) -> tuple[list[dict], list[dict]]:
        """Write the feedback rows whose answer the database has; returns (written, dropped). A row whose answer
        still waits in the spool is neither (it goes with the next flush)."""
        wanted = {f["answer_id"] for f in rows}
        known = set(conn.execute(select(answers.c.id).where(answers.c.id.in_(wanted))).scalars())
        with self._spool_engine().connect() as spool:
            waiting = set(spool.execute(select(answers.c.id).where(answers.c.id.in_(wanted - known))).scalars())
        kept = [f for f in rows if f["answer_id"] in known]
        storage.insert_new(conn, feedback, [{k: v for k, v in f.items() if k != "id"} for f in kept])
        return kept, [f for f in rows if f["answer_id"] not in known | waiting]

    def _unspool(self, table, key, values: list) -> int:
        """Remove the given rows (only those: rows spooled meanwhile stay) from the spool; returns how many."""
        if not values:
            return 0
        engine = self._spool_engine()
        with self._spool_lock:
            with engine.begin() as conn:
                conn.execute(delete(table).where(key.in_(values)))
            self._pending = max(0, self._pending - len(values))
        return len(values)

    def _start_flusher(self) -> None:
        with self._state_lock:
            if self._flusher is not None and self._flusher.is_alive():
                return
            self._flusher = threading.Thread(target=self._flush_loop, name="audit-spool-flush", daemon=True)
            self._flusher.start()

    def _flush_loop(self) -> None:
        while not self._closed.wait(self.flush_s):
            try:
                self.flush()
            except Exception:
                log.exception("Writing the audit spool to the database failed; trying again in %.0f s.", self.flush_s)
            with self._state_lock:
                if not self._pending:
                    self._flusher = None
                    return

    def close(self) -> None:
        """Stop the background flush and close the connections (the spool file stays)."""
        self._closed.set()
        self._db.dispose()
        if self._spool is not None:
            self._spool.dispose()

    def _where(self) -> str:
        return self._db.url.render_as_string(hide_password=True)


def _recent(conn: Connection, limit: int) -> list[dict]:
    rows = conn.execute(select(answers).order_by(answers.c.created_at.desc()).limit(limit)).all()
    out = []
    for r in rows:
        fb = conn.execute(
            select(feedback.c.rating, feedback.c.note, feedback.c.channel, feedback.c.created_at)
            .where(feedback.c.answer_id == r.id)
            .order_by(feedback.c.created_at, feedback.c.id)
        ).all()
        item = dict(r._mapping)
        item["refused"] = bool(item["refused"])
        item["feedback"] = [dict(f._mapping) for f in fb]
        out.append(item)
    return out


def _short(exc: Exception) -> str:
    return " ".join(str(getattr(exc, "orig", None) or exc).split())[:200]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")
