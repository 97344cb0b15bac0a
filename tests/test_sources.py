"""Manifest validation, loaders (PDF, text, CSV) and structure-aware chunking on real files."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from conftest import CORPUS
from pypdf import PdfReader, PdfWriter

from assistant.chunking import chunk_document as chunk_with
from assistant.chunking import chunk_sentences, document_sentences, split_sentences
from assistant.errors import ConfigError, CorpusError
from assistant.lexicon import Lexicon
from assistant.settings import ChunkingSettings
from assistant.sources import load_document, load_manifest

LEXICON = Lexicon.load(CORPUS / "lexicon.toml")


def chunk_document(doc, settings):
    return chunk_with(doc, settings, LEXICON)


REPORT = CORPUS / "regio-in-beeld-2025-2026-groningen.pdf"
TODAY = date(2026, 1, 15)


def entry(id_: str, file: str, kind: str = "report", **extra) -> str:
    fields = {
        "id": f'"{id_}"',
        "title": f'"Titel {id_}"',
        "publisher": '"UWV"',
        "kind": f'"{kind}"',
        "file": f'"{file}"',
        "published": "2025-11-01",
        "approved": "true",
        "approved_by": '"test"',
    }
    fields.update(extra)
    return "[[source]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()) + "\n"


def write_manifest(folder: Path, *entries: str) -> Path:
    path = folder / "manifest.toml"
    path.write_text("".join(entries), encoding="utf-8")
    return path


def test_statuses_cover_approved_expired_unapproved_and_missing(tmp_path):
    (tmp_path / "a.md").write_text("Tekst.", encoding="utf-8")
    manifest = write_manifest(
        tmp_path,
        entry("ok", "a.md"),
        entry("old", "a.md", valid_until="2025-12-31"),
        entry("draft", "a.md", approved="false"),
        entry("gone", "missing.pdf"),
    )
    statuses = {s.source.id: s.status for s in load_manifest(manifest, TODAY)}
    assert statuses == {"ok": "approved", "old": "expired", "draft": "unapproved", "gone": "missing file"}


def test_sources_that_expire_within_30_days_or_have_no_valid_until_are_flagged(tmp_path):
    (tmp_path / "a.md").write_text("Tekst.", encoding="utf-8")
    manifest = write_manifest(
        tmp_path,
        entry("soon", "a.md", valid_until="2026-01-25"),
        entry("later", "a.md", valid_until="2026-06-30"),
        entry("open", "a.md"),
        entry("old", "a.md", valid_until="2025-12-31"),
    )
    warnings = {s.source.id: s.warning for s in load_manifest(manifest, TODAY)}
    assert warnings["soon"].startswith("Verloopt over 10 dagen (geldig tot 2026-01-25)")
    assert warnings["later"] == "" and warnings["old"] == ""  # expired says its status, not a warning
    assert "valid_until" in warnings["open"]


@pytest.mark.parametrize(
    "entries, message",
    [
        ([entry("x", "a.md"), entry("x", "a.md")], "duplicate source id 'x'"),
        ([entry("x", "a.md", kind="podcast")], "field 'kind'"),
        (["[[source]]\nid = 'x'\n"], "source #1 (x)"),
    ],
)
def test_bad_manifest_entries_name_the_problem(tmp_path, entries, message):
    manifest = write_manifest(tmp_path, *entries)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_manifest(manifest, TODAY)


def test_pdf_pages_carry_printed_page_numbers():
    status = next(s for s in load_manifest(CORPUS / "manifest.toml", TODAY) if s.source.kind == "report")
    doc = load_document(status)
    assert len(doc.pages) == 32
    assert [p.number for p in doc.pages[:3]] == ["3", "4", "5"] and doc.pages[-1].number == "34"
    assert "Regio in Beeld 2025-2026 Groningen  3" not in doc.pages[0].text  # footer stripped
    text = " ".join(p.text for p in doc.pages)
    assert "Noord-Drenthe" in text and "jaar-op-jaardaling" in text  # compounds over a line break stay hyphenated


def _status(tmp_path: Path, filename: str, kind: str = "report", **extra):
    manifest = write_manifest(tmp_path, entry("s", filename, kind, **extra))
    return load_manifest(manifest, TODAY)[0]


def test_corrupt_pdf_is_a_clear_corpus_error(tmp_path):
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.7\nthis is not really a pdf\n%%EOF")
    with pytest.raises(CorpusError, match="bad.pdf"):
        load_document(_status(tmp_path, "bad.pdf"))


def test_encrypted_pdf_is_refused_with_advice(tmp_path):
    writer = PdfWriter()
    writer.append(PdfReader(REPORT), pages=(0, 1))
    writer.encrypt("geheim")
    with open(tmp_path / "locked.pdf", "wb") as fh:
        writer.write(fh)
    with pytest.raises(CorpusError, match="encrypted"):
        load_document(_status(tmp_path, "locked.pdf"))


def test_pdf_without_any_text_is_refused(tmp_path):
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with open(tmp_path / "scan.pdf", "wb") as fh:
        writer.write(fh)
    with pytest.raises(CorpusError, match="no extractable text"):
        load_document(_status(tmp_path, "scan.pdf"))


def test_a_blank_page_inside_a_pdf_is_skipped(tmp_path):
    writer = PdfWriter()
    writer.append(PdfReader(REPORT), pages=(0, 2))
    writer.add_blank_page(width=595, height=842)
    with open(tmp_path / "mixed.pdf", "wb") as fh:
        writer.write(fh)
    doc = load_document(_status(tmp_path, "mixed.pdf"))
    assert doc.pages[2].text == ""
    chunks = chunk_document(doc, ChunkingSettings())
    assert chunks and {c.page for c in chunks} <= {"3", "4"}


def test_empty_and_non_utf8_files(tmp_path):
    (tmp_path / "empty.md").write_text("", encoding="utf-8")
    with pytest.raises(CorpusError, match="empty"):
        load_document(_status(tmp_path, "empty.md"))
    (tmp_path / "latin.txt").write_bytes("Werkloosheid daalt in één jaar.".encode("latin-1"))
    with pytest.raises(CorpusError, match="not UTF-8"):
        load_document(_status(tmp_path, "latin.txt"))


def test_csv_rows_become_passages_naming_table_row_columns_unit_and_period(tmp_path):
    shutil.copy(CORPUS / "tables" / "onbenut-arbeidspotentieel-groningen.csv", tmp_path / "t.csv")
    doc = load_document(_status(tmp_path, "t.csv", kind="table", period='"2024"', unit='"personen"'))
    chunks = chunk_document(doc, ChunkingSettings())
    row = next(c for c in chunks if c.row_label == "Werklozen")
    assert row.page == "rij 2"
    assert row.text.startswith("Titel s. groep: Werklozen.")
    assert "aantal personen 2024: 18.000" in row.text
    assert "periode: 2024" in row.text and "eenheid: personen" in row.text


def test_dutch_sentence_splitting_keeps_abbreviations_and_numbers():
    text = "Dat geldt o.a. voor de zorg. Het aandeel steeg naar 71,4% in 2024. ◼ 25.000 deeltijders. Zij werken al."
    assert split_sentences(text) == [
        "Dat geldt o.a. voor de zorg.",
        "Het aandeel steeg naar 71,4% in 2024.",
        "◼ 25.000 deeltijders.",
        "Zij werken al.",
    ]


def test_chunks_keep_sections_pages_and_stable_ids():
    status = next(s for s in load_manifest(CORPUS / "manifest.toml", TODAY) if s.source.kind == "report")
    doc = load_document(status)
    settings = ChunkingSettings(chunk_size=600, overlap_sentences=1)
    chunks = chunk_document(doc, settings)
    assert [c.id for c in chunks] == [c.id for c in chunk_document(doc, settings)]  # stable
    assert len({c.id for c in chunks}) == len(chunks)
    sections = {c.section for c in chunks}
    assert any(s.endswith("1.1 Gematigde economische groei in onzekere tijden") for s in sections)
    assert any("Box 2.1" in s for s in sections)
    assert any(s.startswith("Begrippen › Onderbenutte deeltijders") for s in sections)
    sentences = {s.text for s in document_sentences(doc, LEXICON)}
    for c in chunks:  # sentences are never cut: every chunk is made of whole sentences
        assert all(s in sentences for s in chunk_sentences(c.text))
        assert len(c.text) <= 600 or len(chunk_sentences(c.text)) == 1
    bigger = chunk_document(doc, ChunkingSettings(chunk_size=1500, overlap_sentences=0))
    assert len(bigger) < len(chunks)
