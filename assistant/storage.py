"""The audit database's one schema, for both databases it runs on: SQLite (embedded default, a file, no
server) and PostgreSQL (`ASSISTANT_DATABASE_URL=postgresql+psycopg://...`, shared by every node).

    engine = open_engine("var/audit.sqlite3")                         # or a SQLAlchemy URL
    create_schema(engine)                                             # creates or upgrades, idempotent
    with engine.begin() as conn:
        insert_new(conn, answers, rows)                               # rows already there are skipped

Tables (SQLAlchemy Core): `answers` (one row per answer, id a uuid), `feedback` (ratings, `uid` a uuid so
a row copied twice from the spool is stored once), `conversations` (started before their first answer),
`admin_actions` (the content team's changes to the sources, with the admin key's id).
Times are ISO-8601 UTC text with milliseconds, as the SQLite files written before this module hold them,
so they sort as text in both databases. The same tables back the local spool that keeps rows while the
shared database is unreachable (`audit.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from .errors import ConfigError

metadata = MetaData()

answers = Table(
    "answers",
    metadata,
    Column("id", Text, primary_key=True),
    Column("created_at", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("conversation_id", Text),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("refused", Boolean, nullable=False),
    Column("refusal_reason", Text),
    Column("citations", JSON, nullable=False),
    Column("timings", JSON, nullable=False),
)
Index("answers_created", answers.c.created_at)
Index("answers_conversation", answers.c.conversation_id)

feedback = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("answer_id", Text, ForeignKey("answers.id"), nullable=False),
    Column("created_at", Text, nullable=False),
    Column("rating", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=""),
    Column("channel", Text, nullable=False, server_default=""),
    Column("uid", Text),  # added after the first release; NULL for rows written before it
    sqlite_autoincrement=True,
)
Index("feedback_uid", feedback.c.uid, unique=True)
Index("feedback_answer", feedback.c.answer_id)

conversations = Table(
    "conversations",
    metadata,
    Column("id", Text, primary_key=True),
    Column("created_at", Text, nullable=False),
    Column("channel", Text, nullable=False, server_default=""),
)

# What the content team did on the /beheer page: one row per action, with the admin key's id (never the key).
admin_actions = Table(
    "admin_actions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("created_at", Text, nullable=False),
    Column("key_id", Text, nullable=False),
    Column("action", Text, nullable=False),  # add | update | replace | approve | withdraw | delete | reindex
    Column("source_id", Text, nullable=False, server_default=""),
    Column("outcome", Text, nullable=False, server_default="ok"),  # ok | refused | failed
    Column("detail", JSON, nullable=False),
)
Index("admin_actions_created", admin_actions.c.created_at)

DIALECTS = ("sqlite", "postgresql")
_SCHEMA_LOCK = 0x41494D49  # any constant: serialises schema creation when several nodes start at once


def is_url(target: str | Path) -> bool:
    return isinstance(target, str) and "://" in target


def open_engine(target: str | Path) -> Engine:
    """An engine for a SQLite file path or a SQLAlchemy URL (sqlite:///..., postgresql+psycopg://...)."""
    if not is_url(target):
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        url = make_url(f"sqlite:///{path}")
    else:
        try:
            url = make_url(str(target))
        except ArgumentError as exc:
            raise ConfigError(f"ASSISTANT_DATABASE_URL is not a database URL: {exc}") from None
    if url.get_backend_name() not in DIALECTS:
        raise ConfigError(
            f"Unsupported database {url.get_backend_name()!r}; use postgresql+psycopg://... or sqlite:///... "
            "(ASSISTANT_DATABASE_URL)."
        )
    try:
        if url.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            # pre-ping: after a database restart the pooled connections are dead; test each before use.
            # connect_timeout: an unreachable host fails within seconds instead of hanging an answer.
            engine = create_engine(
                url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args={"connect_timeout": 5}
            )
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise ConfigError(
            f"No database driver for {url.drivername!r} ({exc}); install psycopg[binary] and use "
            "postgresql+psycopg://..."
        ) from exc
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.close()


def create_schema(engine: Engine) -> None:
    """Create missing tables and indexes and add columns later releases introduced; safe to run on every start."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
        metadata.create_all(conn)
        columns = {c["name"] for c in inspect(conn).get_columns("feedback")}
        if "uid" not in columns:
            conn.execute(text("ALTER TABLE feedback ADD COLUMN uid TEXT"))
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(conn, checkfirst=True)


def insert_new(conn: Connection, table: Table, rows: Iterable[dict]) -> int:
    """Insert rows, skipping those whose key (primary key, feedback uid) is already stored; returns how many
    were new. This is what makes copying the spool to the database safe to repeat."""
    rows = list(rows)
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    result = conn.execute(insert(table).on_conflict_do_nothing(), rows)
    return max(result.rowcount, 0)


__all__ = [
    "answers",
    "feedback",
    "conversations",
    "admin_actions",
    "metadata",
    "open_engine",
    "create_schema",
    "insert_new",
    "is_url",
]
