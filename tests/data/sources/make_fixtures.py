"""Build the loader fixtures in this folder: small sources with INVENTED figures (all marked "fictief").

    python tests/data/sources/make_fixtures.py

Writes factsheet.docx (python-docx), werkgelegenheid.xlsx (openpyxl, with the cached values Excel would
store for its formulas written in afterwards), pagina.html and statline.csv. Zip entries get a fixed date,
so a rebuild gives the same bytes. The generated files are committed beside this script.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXED = (2025, 1, 1, 0, 0, 0)


def docx_factsheet(path: Path) -> None:
    from docx import Document

    doc = Document()
    doc.core_properties.title = "Factsheet Zorg en Welzijn Noord-Drenthe 2025 (fictief)"
    doc.add_heading("Factsheet Zorg en Welzijn Noord-Drenthe 2025 (fictief)", level=0)
    doc.add_paragraph(
        "Dit is een testbestand met verzonnen cijfers. Het is geen echte bron en beschrijft geen werkelijke situatie."
    )
    doc.add_heading("Werkgelegenheid", level=1)
    doc.add_paragraph("In 2025 werkten in Noord-Drenthe 7.340 mensen in zorg en welzijn.")
    doc.add_heading("Wijkverpleging", level=2)
    doc.add_paragraph("Eind juni 2025 stonden in Noord-Drenthe 186 vacatures voor wijkverpleegkundigen open.")
    doc.add_paragraph("Dat waren er 23 meer dan een jaar eerder.")
    doc.add_paragraph("Vooral in Tynaarlo zochten thuiszorgorganisaties wijkverpleegkundigen.", style="List Bullet")
    doc.add_paragraph("In Aa en Hunze bleef de vraag naar wijkverpleegkundigen gelijk.", style="List Bullet")
    doc.add_page_break()
    doc.add_heading("Vacatures per beroep", level=1)
    doc.add_paragraph("De tabel geeft per beroep de openstaande vacatures en de werkzoekenden eind juni 2025.")
    rows = [
        ("Beroep", "Openstaande vacatures juni 2025", "Werkzoekenden juni 2025"),
        ("Verzorgende IG", "142", "37"),
        ("Helpende zorg en welzijn", "58", "61"),
        ("Pedagogisch medewerker", "44", "29"),
    ]
    table = doc.add_table(rows=len(rows), cols=3)
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            table.cell(r, c).text = value
    doc.add_paragraph("Bron: testfixture met verzonnen cijfers.")
    doc.save(path)
    _fix_zip(path)


def xlsx_workbook(path: Path) -> None:
    """Two sheets. Formulas get the value Excel would have cached, patched into the XML, because openpyxl
    writes formulas without one (a file saved that way is 'never calculated', see tests/test_loaders.py)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Vacatures"
    ws["A1"] = "Openstaande vacatures in zorg en welzijn, Noord-Drenthe (fictief)"
    ws.append([])
    ws.append(["Gemeente", "Periode", "Openstaande vacatures", "Aandeel in alle vacatures", "Peildatum"])
    data = [("Aa en Hunze", 61, 0.213), ("Noordenveld", 74, 0.198), ("Tynaarlo", 109, 0.241)]
    for name, count, share in data:
        ws.append([name, "2025KW02", count, share, date(2025, 6, 30)])
    ws.append(["Noord-Drenthe", "2025KW02", "=SUM(C4:C6)", None, date(2025, 6, 30)])
    for row in range(4, 8):
        ws.cell(row, 4).number_format = "0.0%"
        ws.cell(row, 5).number_format = "d-m-yyyy"
    ws.append([])
    ws.append(["Bron: testfixture met verzonnen cijfers."])

    ws2 = wb.create_sheet("Werkzoekenden")
    ws2.append(["Beroep", "Werkzoekenden juni 2024", "Werkzoekenden juni 2025", "Verschil"])
    ws2.append(["Verzorgende IG", 41, 37, "=C2-B2"])
    ws2.append(["Helpende zorg en welzijn", 55, 61, "=C3-B3"])
    ws2.append(["Zorg en welzijn totaal", 1180, 1252, "=C4-B4"])
    for row in range(2, 5):
        for col in range(2, 5):
            ws2.cell(row, col).number_format = "#,##0"
    hidden = wb.create_sheet("Hulpblad")
    hidden.append(["sleutel", "waarde"])
    hidden.append(["verborgen", 999])
    hidden.sheet_state = "hidden"
    wb.save(path)
    _fix_zip(path, cached={"=SUM(C4:C6)": "244", "=C2-B2": "-4", "=C3-B3": "6", "=C4-B4": "72"})


def _fix_zip(path: Path, cached: dict[str, str] | None = None) -> None:
    """Rewrite the zip with fixed dates (entries, document properties); with `cached`, give each formula its
    cached value."""
    with zipfile.ZipFile(path) as zf:
        entries = [(info.filename, zf.read(info)) for info in zf.infolist()]
    patched = dict.fromkeys(cached or {}, 0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            if cached and name.startswith("xl/worksheets/sheet"):
                text = data.decode("utf-8")
                for formula, value in cached.items():
                    pattern = rf"<f>{re.escape(formula[1:])}</f><v\s*/?>(?:</v>)?"
                    text, n = re.subn(pattern, f"<f>{formula[1:]}</f><v>{value}</v>", text)
                    patched[formula] += n
                data = text.encode("utf-8")
            if name == "docProps/core.xml":  # openpyxl stamps the time of saving
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2025-01-01T00:00:00Z", data)
            zf.writestr(zipfile.ZipInfo(name, FIXED), data, zipfile.ZIP_DEFLATED)
    assert all(n == 1 for n in patched.values()), f"formulas not patched exactly once: {patched}"


HTML = """<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>Kinderopvang in Noord-Drenthe 2025 (fictief) | Voorbeeldgemeente</title>
</head>
<body>
<div class="cookiebar">Deze website gebruikt cookies. <a href="/cookies">Cookie-instellingen wijzigen</a></div>
<header>
  <a href="/" class="logo">Voorbeeldgemeente</a>
  <nav aria-label="Hoofdmenu">
    <ul>
      <li><a href="/">Home</a></li>
      <li><a href="/werk-en-inkomen">Werk en inkomen</a></li>
      <li><a href="/nieuws">Nieuwsoverzicht</a></li>
      <li><a href="/contact">Contact opnemen</a></li>
    </ul>
  </nav>
</header>
<main>
<article>
  <h1>Kinderopvang in Noord-Drenthe 2025 (fictief)</h1>
  <p>Deze pagina is een testbestand met verzonnen cijfers. Zij is geen echte bron en de cijfers zijn nergens
  op gebaseerd.</p>
  <h2>Vacatures</h2>
  <p>Eind juni 2025 stonden in Noord-Drenthe 312 vacatures voor pedagogisch medewerkers in de kinderopvang
  open. Dat waren er 27 meer dan een jaar eerder.</p>
  <h3>Per gemeente</h3>
  <table>
    <thead><tr><th>Gemeente</th><th>Vacatures kinderopvang juni 2025</th></tr></thead>
    <tbody>
      <tr><td>Tynaarlo</td><td>121</td></tr>
      <tr><td>Noordenveld</td><td>97</td></tr>
      <tr><td>Aa en Hunze</td><td>94</td></tr>
    </tbody>
  </table>
  <h2>Werkzoekenden</h2>
  <p>Het aantal werkzoekenden met een achtergrond in de kinderopvang daalde in 2025 naar 415 personen.</p>
  <ul>
    <li>Vooral gediplomeerde pedagogisch medewerkers vonden snel werk.</li>
    <li>Zij-instromers zonder diploma zochten langer.</li>
  </ul>
</article>
<aside><h2>Lees ook</h2><p><a href="/nieuwsbrief">Meld u aan voor de nieuwsbrief</a></p></aside>
</main>
<footer>
  <p>© 2025 Voorbeeldgemeente (fictief)</p>
  <ul>
    <li><a href="/privacy">Privacyverklaring</a></li>
    <li><a href="/toegankelijkheid">Toegankelijkheidsverklaring</a></li>
    <li><a href="/cookies">Cookies</a></li>
  </ul>
</footer>
</body>
</html>
"""

# A CBS StatLine export as its CSV download looks (semicolons, every field quoted, decimal comma, a title and
# notes around the table, "." missing and "x" secret), with invented figures.
STATLINE = """\
"Banen en vacatures in zorg en welzijn; regio, kwartaal (fictief)"
"TESTFIXTUUR: verzonnen cijfers in het CBS StatLine-exportformaat, geen echte bron"

"Regio's";"Perioden";"Banen zorg en welzijn (x 1 000)";"Openstaande vacatures zorg en welzijn";"Aandeel deeltijd (%)"
"Noord-Drenthe (CR)";"2024JJ00";"7,1";"410";"71,5"
"Noord-Drenthe (CR)";"2025KW01";"7,2";"395";"."
"Noord-Drenthe (CR)";"2025KW02";"7,3";"412";"72,0"
"Tynaarlo (GM)";"2025KW02";"2,6";"x";"70,4"
"Groningen (gemeente)";"2025KW02";"21,9";"1020";"68,8"
"Dinkelland (gemeente)";"2025KW02";"15,4";"830";"69,1"
"Drenthe (PV)";"2025KW02";"38,6";"2140";"73,2"
"Toelichting: een punt (.) betekent dat gegevens ontbreken; een x betekent geheim"
"Bron: testfixture, verzonnen cijfers"
"Stand van: 12 december 2025"
"""


def main() -> None:
    docx_factsheet(HERE / "factsheet.docx")
    xlsx_workbook(HERE / "werkgelegenheid.xlsx")
    (HERE / "pagina.html").write_text(HTML, encoding="utf-8")
    (HERE / "statline.csv").write_text(STATLINE, encoding="utf-8")


if __name__ == "__main__":
    main()
