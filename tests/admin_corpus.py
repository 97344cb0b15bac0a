"""A small corpus for the content team's tests: the report's two tables, copied with their manifest entries
into a temporary folder (the repository's corpus/ is never written), and an invented DOCX factsheet.

    corpus = small_corpus(tmp_path / "corpus")
    settings = admin_settings(tmp_path, corpus, embedding_cache)
"""

from __future__ import annotations

import functools
import io
import shutil
from pathlib import Path

import tomlkit

from assistant.settings import Settings, WebSettings

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
TABLES = ("rib-groningen-2025-vacatures-per-sector", "rib-groningen-2025-onbenut-arbeidspotentieel")
ADVISOR_KEY = "adviseur-sleutel-123"
ADMIN_KEY = "beheer-sleutel-456"
ADMIN_ID = "redactie-noord"
TABLE_QUESTION = "Hoeveel onderbenutte deeltijders waren er in 2024?"  # answered by the onbenut table only

# The factsheet's one fact, found nowhere else in the corpus (invented).
FACTSHEET_TITLE = "Factsheet dronepiloten Zeewolde 2026"
FACTSHEET_QUESTION = "Hoeveel dronepiloten werkten er in januari 2026 in Zeewolde?"
FACTSHEET_FIGURE = "4.321"


def small_corpus(folder: Path, ids: tuple[str, ...] = TABLES) -> Path:
    """`folder` with manifest.toml holding the real manifest's entries `ids`, their files copied."""
    doc = tomlkit.parse((CORPUS / "manifest.toml").read_text(encoding="utf-8"))
    kept = tomlkit.aot()
    for table in doc["source"]:
        if table["id"] in ids:
            kept.append(table)
            target = folder / str(table["file"])
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(CORPUS / str(table["file"]), target)
    doc["source"] = kept
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    return folder


def admin_settings(tmp_path: Path, corpus: Path, embedding_cache: Path, index_dir: Path | None = None) -> Settings:
    return Settings(
        corpus_dir=corpus,
        index_dir=index_dir or tmp_path / "index",
        embedding_cache=embedding_cache,
        audit_db=tmp_path / "audit.sqlite3",
        web=WebSettings(api_keys=[ADVISOR_KEY], admin_keys=[f"{ADMIN_ID}:{ADMIN_KEY}"]),
    )


@functools.cache
def factsheet_docx() -> bytes:
    """A one-page Word factsheet (python-docx) with a heading, a paragraph and a table; invented figures.
    Made once: the zip records the time it was written, so two calls a second apart differ in bytes."""
    from docx import Document

    doc = Document()
    doc.add_heading(FACTSHEET_TITLE, 0)
    doc.add_heading("Werkgelegenheid", 1)
    doc.add_paragraph(
        f"In januari 2026 werkten in Zeewolde {FACTSHEET_FIGURE} dronepiloten (fictief cijfer voor een test)."
    )
    table = doc.add_table(rows=2, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Beroep", "Werkenden januari 2026"
    table.rows[1].cells[0].text, table.rows[1].cells[1].text = "Dronepiloot", FACTSHEET_FIGURE
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


FACTSHEET_FORM = {
    "title": FACTSHEET_TITLE,
    "publisher": "UWV",
    "kind": "factsheet",
    "published": "2026-01-15",
    "valid_until": "2099-12-31",
    "region": "Zeewolde",
    "period": "januari 2026",
}


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (the lock file aside): to show nothing changed."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != ".manifest.lock"
    }
