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
