"""The loader registry and each format's loader on small invented sources (tests/data/sources/), with the
page, section or row each passage is cited by; the content checks that refuse a file before it is read."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import CORPUS, DATA

from assistant import sources
from assistant.errors import CorpusError
from assistant.lexicon import Lexicon
from assistant.sources import load_document, load_manifest
from assistant.types import Page

LEXICON = Lexicon.load(CORPUS / "lexicon.toml")
FIXTURES = DATA / "sources"
TODAY = date(2026, 1, 15)


def status_for(folder: Path, filename: str, kind: str = "factsheet", **extra: str):
    """The manifest status of one approved source `filename` in `folder` (the manifest is written there)."""
    fields = {
        "id": '"s"',
        "title": '"Testbron (fictief)"',
        "publisher": '"Testfixture"',
        "kind": f'"{kind}"',
        "file": f'"{filename}"',
        "published": "2025-11-01",
        "approved": "true",
        **extra,
    }
    manifest = folder / f"manifest-{Path(filename).stem}.toml"
    manifest.write_text("[[source]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()), encoding="utf-8")
    return load_manifest(manifest, TODAY)[0]


# ------------------------------------------------------------------ registry


def test_an_unsupported_suffix_names_every_registered_one(tmp_path):
    (tmp_path / "notes.odt").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(CorpusError) as exc:
        load_document(status_for(tmp_path, "notes.odt"))
    message = str(exc.value)
    assert "unsupported file type '.odt'" in message
    for suffix in (".pdf", ".txt", ".md", ".csv"):
        assert suffix in message


def test_a_new_format_plugs_in_through_the_registry(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "LOADERS", dict(sources.LOADERS))

    @sources.register(".toy", content="text")
    def load_toy(raw: bytes, path: Path, info) -> list[Page]:
        return [Page(number="7", index=1, text=raw.decode().upper())]

    (tmp_path / "a.toy").write_text("speelgoed.", encoding="utf-8")
    doc = load_document(status_for(tmp_path, "a.toy"))
    assert [(p.number, p.text) for p in doc.pages] == [("7", "SPEELGOED.")]
    (tmp_path / "b.unknown").write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"\.toy"):
        load_document(status_for(tmp_path, "b.unknown"))


# ------------------------------------------------------------------ content checks before loading


def test_a_windows_program_renamed_pdf_is_refused_for_what_it_is(tmp_path):
    (tmp_path / "rapport.pdf").write_bytes(b"MZ\x90\x00\x03\x00\x00\x00" + bytes(4096))
    with pytest.raises(CorpusError) as exc:
        load_document(status_for(tmp_path, "rapport.pdf"))
    assert str(exc.value).startswith("rapport.pdf should be a PDF but its content is a Windows program (.exe)")
    assert exc.value.message_nl.startswith(
        "Het bestand rapport.pdf hoort een PDF te zijn, maar is een Windows-programma"
    )


@pytest.mark.parametrize(
    ("filename", "content", "found"),
    [
        ("tabel.csv", b"\x00\x01\x02binary\x00", "binary data, not text"),
        ("rapport.pdf", b"<!DOCTYPE html><html><body><p>Geen PDF.</p></body></html>", "text"),
    ],
)
def test_content_that_does_not_match_its_suffix_is_refused(tmp_path, filename, content, found):
    raw = (FIXTURES / content).read_bytes() if isinstance(content, str) else content
    (tmp_path / filename).write_bytes(raw)
    with pytest.raises(CorpusError, match="should be .* but its content is " + found.replace("(", r"\(")):
        load_document(status_for(tmp_path, filename))


def test_an_encrypted_pdf_is_refused_in_english_and_dutch(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(CORPUS / "regio-in-beeld-2025-2026-groningen.pdf"), pages=(0, 1))
    writer.encrypt("geheim")
    with open(tmp_path / "beveiligd.pdf", "wb") as fh:
        writer.write(fh)
    with pytest.raises(CorpusError) as exc:
        load_document(status_for(tmp_path, "beveiligd.pdf"))
    assert str(exc.value) == "beveiligd.pdf is encrypted; provide an unprotected copy."
    assert "beveiligd met een wachtwoord" in exc.value.message_nl


def test_a_60_mb_file_is_refused_without_being_read_into_memory(tmp_path):
    import tracemalloc

    from assistant.sources import file_sha256

    big = tmp_path / "groot.pdf"
    with open(big, "wb") as fh:  # sparse: 60 MB on paper, nothing written
        fh.write(b"%PDF-1.7\n")
        fh.truncate(60 * 1024 * 1024)
    status = status_for(tmp_path, "groot.pdf")
    tracemalloc.start()
    try:
        file_sha256(big)  # ingest hashes every file first, to skip unchanged ones
        with pytest.raises(CorpusError) as exc:
            load_document(status)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(exc.value).startswith("groot.pdf is 60 MB, above the limit of 50 MB (ASSISTANT_SOURCES__MAX_FILE_MB)")
    assert "te groot (60 MB; de grens is 50 MB)" in exc.value.message_nl
    assert peak < 8 * 1024 * 1024, f"{peak / 2**20:.1f} MB held while refusing a 60 MB file"


def test_ingest_applies_the_size_setting(tmp_path, monkeypatch):
    from assistant.backends import get_store
    from assistant.index import ingest
    from assistant.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notitie.md").write_text(
        "# Notitie\n\nIn 2025 waren er 12 vacatures (fictief).\n" * 200, encoding="utf-8"
    )
    status_for(corpus, "notitie.md")
    (corpus / "manifest-notitie.toml").rename(corpus / "manifest.toml")
    monkeypatch.setenv("ASSISTANT_SOURCES__MAX_FILE_MB", "0.001")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    assert settings.sources.max_file_bytes == 1048
    # nothing is embedded when the only source is refused, so no embedder is needed
    report = ingest(settings, store=get_store(settings), embedder=object())
    assert "above the limit of 1,048 bytes (ASSISTANT_SOURCES__MAX_FILE_MB)" in report.failed["s"]
