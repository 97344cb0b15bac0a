"""The loader registry and each format's loader on small invented sources (tests/data/sources/), with the
page, section or row each passage is cited by; the content checks that refuse a file before it is read."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from conftest import CORPUS, DATA

from assistant import sources
from assistant.chunking import chunk_document
from assistant.errors import CorpusError
from assistant.facts import annotate_chunk
from assistant.lexicon import Lexicon
from assistant.settings import ChunkingSettings
from assistant.sources import load_document, load_manifest
from assistant.types import Page

LEXICON = Lexicon.load(CORPUS / "lexicon.toml")
FIXTURES = DATA / "sources"
TODAY = date(2026, 1, 15)


def status_for(folder: Path, filename: str, kind: str = "factsheet", **extra: str):
    """The manifest status of one approved source `filename` (relative to `folder`, or absolute); the
    manifest is written in `folder`."""
    fields = {
        "id": f'"{Path(filename).stem}"',
        "title": '"Testbron (fictief)"',
        "publisher": '"Testfixture"',
        "kind": f'"{kind}"',
        "file": f'"{filename}"',
        "published": "2025-12-12",
        "approved": "true",
        **extra,
    }
    manifest = folder / f"manifest-{Path(filename).stem}.toml"
    manifest.write_text("[[source]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()), encoding="utf-8")
    return load_manifest(manifest, TODAY)[0]


def fixture(tmp_path: Path, filename: str, kind: str = "factsheet"):
    """A fixture of tests/data/sources/ as an approved source about Noord-Drenthe."""
    return status_for(tmp_path, str(FIXTURES / filename), kind, region='"Noord-Drenthe"')


def chunks_of(status):
    return chunk_document(load_document(status), ChunkingSettings(), LEXICON)


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
        ("tabel.xlsx", "factsheet.docx", "a Word document (.docx)"),  # a Word file renamed .xlsx
        ("factsheet.docx", "werkgelegenheid.xlsx", "an Excel workbook (.xlsx)"),
        ("factsheet.docx", b"PK\x03\x04" + bytes(64), "a zip archive"),  # damaged, or another zip
        ("factsheet.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "a password-protected or old-format"),
        ("pagina.html", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF"),
        ("tabel.csv", b"\x00\x01\x02binary\x00", "binary data, not text"),
        ("rapport.pdf", b"<!DOCTYPE html><html><body><p>Geen PDF.</p></body></html>", "text"),
    ],
)
def test_content_that_does_not_match_its_suffix_is_refused(tmp_path, filename, content, found):
    raw = (FIXTURES / content).read_bytes() if isinstance(content, str) else content
    (tmp_path / filename).write_bytes(raw)
    with pytest.raises(CorpusError, match="should be .* but its content is " + re.escape(found)):
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
    assert "above the limit of 1,048 bytes (ASSISTANT_SOURCES__MAX_FILE_MB)" in report.failed["notitie"]


# ------------------------------------------------------------------ DOCX


def test_docx_headings_are_sections_and_word_pages_are_pages(tmp_path):
    chunks = chunks_of(fixture(tmp_path, "factsheet.docx"))
    where = {c.text.split("\n")[0]: (c.page, c.section) for c in chunks}
    assert where["Eind juni 2025 stonden in Noord-Drenthe 186 vacatures voor wijkverpleegkundigen open."] == (
        "1",
        "Werkgelegenheid › Wijkverpleging",
    )
    assert where["In 2025 werkten in Noord-Drenthe 7.340 mensen in zorg en welzijn."] == ("1", "Werkgelegenheid")
    # the text under the title (a Title style) stands in the title's section
    assert where["Dit is een testbestand met verzonnen cijfers."] == (
        "1",
        "Factsheet Zorg en Welzijn Noord-Drenthe 2025 (fictief)",
    )
    table = next(c for c in chunks if c.section == "Vacatures per beroep")
    assert table.page == "2"  # after the hard page break
    text = "\n".join(c.text for c in chunks)
    assert "◼ Vooral in Tynaarlo zochten thuiszorgorganisaties wijkverpleegkundigen." in text.split("\n")
    for heading in ("Werkgelegenheid", "Wijkverpleging", "Vacatures per beroep"):
        assert heading not in text.split("\n")  # headings are sections, not sentences


def test_docx_table_rows_are_sentences_whose_figures_carry_the_row_and_column(tmp_path):
    status = fixture(tmp_path, "factsheet.docx")
    (table,) = [c for c in chunks_of(status) if c.section == "Vacatures per beroep"]
    rows = table.text.split("\n")
    assert "Verzorgende IG: Openstaande vacatures juni 2025 142; Werkzoekenden juni 2025 37." in rows
    assert "Pedagogisch medewerker: Openstaande vacatures juni 2025 44; Werkzoekenden juni 2025 29." in rows
    infos = annotate_chunk(table, status.source, LEXICON)
    facts = {f.raw: f for info in infos for f in info.facts}
    assert facts["142"].measure == "Openstaande vacatures juni 2025 142"
    assert facts["142"].period.label == "juni 2025" and facts["142"].place.name == "Noord-Drenthe"


def test_docx_heading_styles_in_dutch_or_based_on_a_heading_and_word_recorded_pages(tmp_path):
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml.ns import qn
    from lxml import etree

    doc = Document()
    kop = doc.styles.add_style("Kop 2", WD_STYLE_TYPE.PARAGRAPH)  # as a Dutch template names it
    own = doc.styles.add_style("Tussenkop huisstijl", WD_STYLE_TYPE.PARAGRAPH)
    own.base_style = doc.styles["Heading 3"]
    doc.add_heading("Hoofdstuk", level=1)
    doc.add_paragraph("Paragraaf", style=kop)
    doc.add_paragraph("Eerste alinea op pagina een.")
    doc.add_page_break()  # a hard break Word's own record below supersedes
    doc.add_paragraph("Subparagraaf", style=own)
    late = doc.add_paragraph("Deze alinea begon bij de laatste opmaak van Word op een nieuwe pagina.")
    late.runs[0]._r.insert(0, etree.SubElement(late.runs[0]._r, qn("w:lastRenderedPageBreak")))
    second = doc.add_paragraph("Tweede alinea.")
    second.runs[0]._r.insert(0, etree.SubElement(second.runs[0]._r, qn("w:lastRenderedPageBreak")))
    doc.save(tmp_path / "kop.docx")
    pages = load_document(status_for(tmp_path, "kop.docx")).pages
    assert [(p.number, p.section, p.text.strip()) for p in pages] == [
        ("1", "Hoofdstuk › Paragraaf", "Eerste alinea op pagina een."),
        (
            "2",
            "Hoofdstuk › Paragraaf › Subparagraaf",
            "Deze alinea begon bij de laatste opmaak van Word op een nieuwe pagina.",
        ),
        ("3", "Hoofdstuk › Paragraaf › Subparagraaf", "Tweede alinea."),
    ]


def test_a_damaged_docx_is_a_clear_corpus_error(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "kapot.docx", "w") as zf:
        zf.writestr("word/document.xml", "<w:document><niet-af")
    with pytest.raises(CorpusError, match="kapot.docx is not a readable Word document"):
        load_document(status_for(tmp_path, "kapot.docx"))


# ------------------------------------------------------------------ HTML


def test_html_main_text_with_headings_as_sections_and_no_navigation_or_footer(tmp_path):
    chunks = chunks_of(fixture(tmp_path, "pagina.html"))
    text = "\n".join(f"{c.section}\n{c.text}" for c in chunks)
    for boilerplate in (
        "Home",
        "Werk en inkomen",
        "Nieuwsoverzicht",
        "Contact opnemen",
        "Privacyverklaring",
        "Toegankelijkheidsverklaring",
        "Cookie",
        "nieuwsbrief",
        "Voorbeeldgemeente",
        "©",
    ):
        assert boilerplate not in text, boilerplate
    lead = next(c for c in chunks if "312 vacatures" in c.text)
    assert lead.section == "Kinderopvang in Noord-Drenthe 2025 (fictief) › Vacatures" and lead.page == "1"
    rows = next(c for c in chunks if c.section.endswith("› Per gemeente"))
    assert rows.text.split("\n") == [
        "Tynaarlo: Vacatures kinderopvang juni 2025 121.",
        "Noordenveld: Vacatures kinderopvang juni 2025 97.",
        "Aa en Hunze: Vacatures kinderopvang juni 2025 94.",
    ]
    assert any(
        c.section.endswith("› Werkzoekenden") and "◼ Zij-instromers zonder diploma zochten langer." in c.text
        for c in chunks
    )


def test_a_page_with_only_navigation_is_refused(tmp_path):
    (tmp_path / "menu.html").write_text(
        "<html><body><nav><a href='/'>Home</a> <a href='/contact'>Contact</a></nav></body></html>", encoding="utf-8"
    )
    with pytest.raises(CorpusError, match="menu.html: no main text found"):
        load_document(status_for(tmp_path, "menu.html"))


# ------------------------------------------------------------------ XLSX


def test_xlsx_rows_are_citable_per_sheet_with_values_never_formulas(tmp_path):
    chunks = chunks_of(fixture(tmp_path, "werkgelegenheid.xlsx", kind="table"))
    by_page = {c.page: c for c in chunks}
    assert list(by_page) == [
        "blad Vacatures, rij 4",
        "blad Vacatures, rij 5",
        "blad Vacatures, rij 6",
        "blad Vacatures, rij 7",
        "blad Werkzoekenden, rij 2",
        "blad Werkzoekenden, rij 3",
        "blad Werkzoekenden, rij 4",
    ]  # the title row, the note below the table and the hidden sheet are no rows
    total = by_page["blad Vacatures, rij 7"]
    assert total.row_label == "Noord-Drenthe"
    assert "Openstaande vacatures: 244;" in total.text  # the value Excel computed for =SUM(C4:C6)
    assert by_page["blad Werkzoekenden, rij 2"].text.endswith("Verschil: -4.")
    every = "\n".join(c.text for c in chunks)
    assert "=" not in every and "SUM" not in every and "verborgen" not in every
    tynaarlo = by_page["blad Vacatures, rij 6"]
    assert tynaarlo.text == (
        "Testbron (fictief), blad Vacatures. Gemeente: Tynaarlo. Periode: 2025KW02 (tweede kwartaal 2025); "
        "Openstaande vacatures: 109; Aandeel in alle vacatures: 24,1%; Peildatum: 30 juni 2025."
    )
    assert "Werkzoekenden juni 2025: 1.252" in by_page["blad Werkzoekenden, rij 4"].text  # format #,##0


def test_xlsx_row_facts_carry_the_rows_period_and_place(tmp_path):
    status = fixture(tmp_path, "werkgelegenheid.xlsx", kind="table")
    row = next(c for c in chunks_of(status) if c.page == "blad Vacatures, rij 6")
    (info,) = annotate_chunk(row, status.source, LEXICON)
    facts = {f.measure: f for f in info.facts}
    assert facts["Openstaande vacatures"].value == 109 and facts["Aandeel in alle vacatures"].kind == "percent"
    assert {(f.period.label, f.place.name) for f in info.facts} == {("tweede kwartaal 2025", "Tynaarlo")}


@pytest.mark.parametrize("constants", [False, True], ids=["only formulas", "constants and uncalculated totals"])
def test_an_xlsx_that_was_never_calculated_is_refused(tmp_path, constants):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Totalen"
    ws.append(["Gemeente", "Vacatures"])
    if constants:
        ws.append(["Tynaarlo", 109])
        ws.append(["Totaal", "=SUM(B2:B2)"])
    else:
        ws.append(['="Tyn"&"aarlo"', "=100+9"])
    wb.save(tmp_path / "formules.xlsx")  # openpyxl stores formulas without computed values
    with pytest.raises(CorpusError) as exc:
        load_document(status_for(tmp_path, "formules.xlsx", kind="table"))
    assert "formules.xlsx, sheet 'Totalen'" in str(exc.value) and "have no computed values" in str(exc.value)
    assert "formules zonder berekende waarden" in exc.value.message_nl


# ------------------------------------------------------------------ CBS StatLine CSV


def test_statline_export_rows_with_metadata_missing_marks_and_period_codes(tmp_path):
    chunks = chunks_of(fixture(tmp_path, "statline.csv", kind="table"))
    assert [c.page for c in chunks] == [f"rij {n}" for n in range(1, 8)]
    every = "\n".join(c.text for c in chunks)
    for metadata in ("TESTFIXTUUR", "Toelichting", "Stand van", "Bron:"):
        assert metadata not in every
    assert chunks[0].text.startswith(
        "Testbron (fictief). Regio's: Noord-Drenthe (CR). Perioden: 2024JJ00 (2024); "
        "Banen zorg en welzijn (x 1 000): 7,1;"
    )
    assert "Aandeel deeltijd (%): . (ontbreekt)." in chunks[1].text
    assert "Openstaande vacatures zorg en welzijn: x (geheim);" in chunks[3].text


def test_statline_row_facts_carry_the_rows_period_and_region(tmp_path):
    status = fixture(tmp_path, "statline.csv", kind="table")
    facts = {}
    for c in chunks_of(status):
        (info,) = annotate_chunk(c, status.source, LEXICON)
        facts[c.row_label + " " + c.cells[1][1]] = info.facts
    seen = {
        key: {(f.measure, f.period.label if f.period else None, f.place.name if f.place else None) for f in fs}
        for key, fs in facts.items()
    }
    assert seen["Noord-Drenthe (CR) 2024JJ00"] == {
        ("Banen zorg en welzijn", "2024", "Noord-Drenthe"),
        ("Openstaande vacatures zorg en welzijn", "2024", "Noord-Drenthe"),
        ("Aandeel deeltijd", "2024", "Noord-Drenthe"),
    }
    assert facts["Noord-Drenthe (CR) 2024JJ00"][0].value == 7100  # "(x 1 000)"
    assert {m for m, _, _ in seen["Noord-Drenthe (CR) 2025KW01"]} == {
        "Banen zorg en welzijn",
        "Openstaande vacatures zorg en welzijn",
    }  # "." is no figure
    assert seen["Tynaarlo (GM) 2025KW02"] == {
        ("Banen zorg en welzijn", "tweede kwartaal 2025", "Tynaarlo"),
        ("Aandeel deeltijd", "tweede kwartaal 2025", "Tynaarlo"),
    }  # "x" (secret) is no figure
    # "(gemeente)" is the municipality, not the labour-market region a bare "Groningen" in a "Regio's" column reads as
    assert {p for _, _, p in seen["Groningen (gemeente) 2025KW02"]} == {"gemeente Groningen"}
    assert {p for _, _, p in seen["Drenthe (PV) 2025KW02"]} == {"Drenthe"}
    # a coded region the language file does not know is not the source's own region (Noord-Drenthe)
    assert {p for _, _, p in seen["Dinkelland (gemeente) 2025KW02"]} == {None}
    assert all(f.period_stated and f.period is not None for fs in facts.values() for f in fs)


@pytest.mark.parametrize("code", ["2025XX07", "2025KW05", "2025MM13", "2025JJ01"])
def test_an_unknown_statline_period_code_names_the_row_and_the_code(tmp_path, code):
    (tmp_path / "t.csv").write_text(
        f'"Regio\'s";"Perioden";"Werkloosheidspercentage (%)"\n"Drenthe (PV)";"2025KW02";"3,7"\n'
        f'"Drenthe (PV)";"{code}";"4,8"\n',
        encoding="utf-8",
    )
    with pytest.raises(CorpusError, match=rf"t\.csv, row 3: unknown StatLine period code '{code}'"):
        load_document(status_for(tmp_path, "t.csv", kind="table"))


# ------------------------------------------------------------------ end to end


def test_an_approved_docx_is_ingested_and_cited_with_its_section(tmp_path, embedding_cache):
    import shutil

    from assistant.core import Assistant
    from assistant.index import ingest
    from assistant.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(FIXTURES / "factsheet.docx", corpus / "factsheet-zorg.docx")
    (corpus / "manifest.toml").write_text(
        """
[[source]]
id = "factsheet-zorg-noord-drenthe-2025"
title = "Factsheet Zorg en Welzijn Noord-Drenthe 2025 (fictief)"
publisher = "Testfixture"
kind = "factsheet"
file = "factsheet-zorg.docx"
published = 2025-09-01
approved = true
approved_by = "test"
region = "Noord-Drenthe"
period = "2025"
""",
        encoding="utf-8",
    )
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", embedding_cache=embedding_cache)
    report = ingest(settings)
    assert report.added == ["factsheet-zorg-noord-drenthe-2025"] and not report.failed, report.failed

    answer = Assistant.open(settings).ask(
        "Hoeveel vacatures voor wijkverpleegkundigen stonden er eind juni 2025 open in Noord-Drenthe?"
    )
    assert not answer.refused, answer.answer
    assert "186" in answer.answer
    cited = next(c for c in answer.citations if "186" in c.quote)
    assert cited.source_id == "factsheet-zorg-noord-drenthe-2025"
    assert cited.section == "Werkgelegenheid › Wijkverpleging" and cited.page == "1"
    assert cited.quote == "Eind juni 2025 stonden in Noord-Drenthe 186 vacatures voor wijkverpleegkundigen open."

    row = Assistant.open(settings).ask("Hoeveel openstaande vacatures waren er eind juni 2025 voor verzorgende IG?")
    assert "142" in row.answer, row.answer
    assert any(c.section == "Vacatures per beroep" and c.page == "2" for c in row.citations if "142" in c.quote)


def test_text_that_merely_starts_like_a_program_or_mentions_a_pdf_header_is_still_text(tmp_path):
    (tmp_path / "mz.txt").write_text("MZ-regeling: in 2025 telde Drenthe 120 deelnemers (fictief).", encoding="utf-8")
    assert "MZ-regeling" in load_document(status_for(tmp_path, "mz.txt")).pages[0].text
    (tmp_path / "uitleg.md").write_text("# Uitleg\n\nEen PDF begint met %PDF-1.7 in de eerste regel.", encoding="utf-8")
    assert "%PDF-1.7" in load_document(status_for(tmp_path, "uitleg.md")).pages[0].text
