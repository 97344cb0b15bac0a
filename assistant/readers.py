"""Readers for the formats that need a library: DOCX (python-docx), HTML (trafilatura) and XLSX (openpyxl).

Only this module imports those libraries (as `backends.py` alone imports the models and Chroma). A reader
turns a file's bytes into plain values, and `sources.py` makes pages with provenance of them:

    read_docx(raw, name) -> [Block]   headings with their level, paragraphs, list items, tables; Word's pages
    read_html(raw, name) -> [Block]   the page's main text only (no navigation, header or footer)
    read_xlsx(raw, name) -> [Sheet]   per visible sheet its non-empty rows as text, computed values only

Library errors are wrapped in CorpusError naming the file.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

from .errors import CorpusError

BlockKind = Literal["heading", "paragraph", "item", "table"]


@dataclass
class Block:
    """One piece of a document in reading order."""

    kind: BlockKind
    text: str = ""
    level: int = 0  # headings: 1 for a title or chapter, 2, 3 ... below it
    rows: list[list[str]] = field(default_factory=list)  # tables: the header row first
    page: int = 1  # DOCX: the page as Word last laid the document out (1 when the file does not say)


@dataclass
class Sheet:
    name: str
    rows: list[tuple[int, list[str]]]  # (the spreadsheet's row number, the cells as text), empty rows left out


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ------------------------------------------------------------------ DOCX

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(?:heading|kop)\s*([1-9])$", re.IGNORECASE)
_TITLE_STYLES = {"title", "titel"}
_LIST_STYLE = re.compile(r"^(?:list|lijst)", re.IGNORECASE)


def read_docx(raw: bytes, name: str) -> list[Block]:
    """The body of a Word document in reading order. A paragraph is a heading when its style (or a style
    it is based on) is Title/Heading n, in English or Dutch ("Kop 2"), or it has an outline level. Pages
    come from the page breaks Word recorded when it last laid the file out (w:lastRenderedPageBreak); a
    file without them (written by another program) counts its hard page breaks instead."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(raw))
        body = document.element.body
        rendered = next(body.iter(f"{_W}lastRenderedPageBreak"), None) is not None
        blocks: list[Block] = []
        page = 1
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                page = _docx_table(item, page, rendered, blocks)
                continue
            lead, rest = _page_breaks(item._p, rendered)
            page += lead
            text = _clean(item.text)
            if text:
                level = _heading_level(item)
                if level:
                    blocks.append(Block("heading", text, level=level, page=page))
                else:
                    blocks.append(Block("item" if _is_list(item) else "paragraph", text, page=page))
            page += rest
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, SyntaxError) as exc:
        raise CorpusError(
            f"{name} is not a readable Word document ({exc}); replace the file.",
            f"Het bestand {name} is geen leesbaar Word-document. Vervang het bestand.",
        ) from exc
    return blocks


def _docx_table(table, page: int, rendered: bool, blocks: list[Block]) -> int:
    """A table with a header row and at least one row of two cells becomes a table block per page it
    spans (each with the header); any other table (a layout table, one column) is read as paragraphs."""
    rows: list[tuple[int, list[str]]] = []
    for row in table.rows:
        lead, rest = _page_breaks(row._tr, rendered)
        page += lead
        cells, previous = [], None
        for cell in row.cells:
            if cell._tc is previous:  # a merged cell is returned once per grid column it spans
                continue
            previous = cell._tc
            cells.append(_clean(cell.text))
        if any(cells):
            rows.append((page, cells))
        page += rest
    if len(rows) < 2 or max(len(c) for _, c in rows) < 2:
        blocks += [Block("paragraph", text, page=p) for p, cells in rows for text in cells if text]
        return page
    header = rows[0][1]
    for p, cells in rows[1:]:
        if not blocks or blocks[-1].kind != "table" or blocks[-1].page != p:
            blocks.append(Block("table", rows=[header], page=p))
        blocks[-1].rows.append(cells)
    return page


def _page_breaks(element, rendered: bool) -> tuple[int, int]:
    """Page breaks in a paragraph or table row: (before its first text, after it). Word's recorded breaks
    when the file has them, else hard breaks and 'page break before'."""
    lead = rest = 0
    if not rendered:
        before = element.find(f"{_W}pPr/{_W}pageBreakBefore")
        if before is not None and before.get(f"{_W}val", "true") not in ("0", "false"):
            lead += 1
    seen_text = False
    for el in element.iter(f"{_W}t", f"{_W}br", f"{_W}lastRenderedPageBreak"):
        if el.tag == f"{_W}t":
            seen_text = seen_text or bool((el.text or "").strip())
            continue
        if rendered != (el.tag == f"{_W}lastRenderedPageBreak"):
            continue
        if el.tag == f"{_W}br" and el.get(f"{_W}type") != "page":
            continue
        if seen_text:
            rest += 1
        else:
            lead += 1
    return lead, rest


def _heading_level(paragraph) -> int:
    style = paragraph.style
    while style is not None:
        style_name = (style.name or "").strip()
        if style_name.lower() in _TITLE_STYLES:
            return 1
        if m := _HEADING_STYLE.match(style_name):
            return int(m.group(1))
        style = style.base_style
    outline = paragraph._p.find(f"{_W}pPr/{_W}outlineLvl")
    if outline is not None and (value := outline.get(f"{_W}val", "")).isdigit() and int(value) < 9:
        return int(value) + 1  # 9 is Word's "body text"
    return 0


def _is_list(paragraph) -> bool:
    if paragraph._p.find(f"{_W}pPr/{_W}numPr") is not None:
        return True
    style = paragraph.style
    while style is not None:
        if _LIST_STYLE.match(style.name or ""):
            return True
        style = style.base_style
    return False


# ------------------------------------------------------------------ HTML


def read_html(raw: bytes, name: str) -> list[Block]:
    """The main text of a web page, found by trafilatura: headings (h1 level 1, h2 level 2, ...),
    paragraphs, list items and tables; navigation, header, footer, comments and cookie bars are left out."""
    import trafilatura
    from lxml import etree

    xml = trafilatura.extract(
        raw,
        output_format="xml",
        include_tables=True,
        include_comments=False,
        include_images=False,
        include_links=False,
        with_metadata=False,
        deduplicate=False,
    )
    if not xml:
        raise CorpusError(
            f"{name}: no main text found in the page (only navigation, or too short); save the article itself."
        )
    try:
        main = etree.fromstring(xml.encode("utf-8")).find("main")
    except etree.XMLSyntaxError as exc:
        raise CorpusError(
            f"{name}: the page's text could not be read ({exc}).",
            f"De tekst van de webpagina {name} kon niet worden gelezen.",
        ) from exc
    blocks: list[Block] = []
    for el in main if main is not None else ():
        if el.tag == "head":
            level = re.fullmatch(r"h([1-6])", el.get("rend", ""))
            blocks.append(Block("heading", _text(el), level=int(level.group(1)) if level else 2))
        elif el.tag == "list":
            blocks += [Block("item", _text(item, skip="list")) for item in el.iter("item")]
        elif el.tag == "table":
            rows = [[_text(cell) for cell in row.iter("cell")] for row in el.iter("row")]
            rows = [r for r in rows if any(r)]
            if len(rows) >= 2 and max(len(r) for r in rows) >= 2:
                blocks.append(Block("table", rows=rows))
            else:
                blocks += [Block("paragraph", c) for r in rows for c in r if c]
        elif el.tag in ("p", "quote", "code"):
            blocks.append(Block("paragraph", _text(el)))
    blocks = [b for b in blocks if b.text or b.rows]
    if not blocks:
        raise CorpusError(
            f"{name}: no main text found in the page; save the article itself.",
            f"In de webpagina {name} staat geen hoofdtekst (alleen navigatie?). Sla het artikel zelf op.",
        )
    return blocks


def _text(el, skip: str = "") -> str:
    """The text of an element and its children, without a nested `skip` element (a list in a list item)."""
    parts = [el.text or ""]
    for child in el:
        if child.tag != skip:
            parts.append(_text(child, skip))
        parts.append(child.tail or "")
    return _clean("".join(parts))


# ------------------------------------------------------------------ XLSX

_MONTHS = "januari februari maart april mei juni juli augustus september oktober november december".split()


def read_xlsx(raw: bytes, name: str) -> list[Sheet]:
    """Every visible sheet's non-empty rows as text: the values Excel computed, never formulas (read with
    data_only). A sheet whose formulas have no computed value at all was never calculated (written by a
    program that does not calculate): refused, as its figures are not in the file. Numbers are written the
    Dutch way (71,4; 7,1% for a percentage format; 12.500 where the format groups thousands), dates as
    "30 juni 2025"; trailing empty cells are dropped. Hidden sheets are skipped."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        values = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        formulas = load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
        try:
            sheets = [_sheet(ws, formulas[ws.title], name) for ws in values.worksheets if ws.sheet_state == "visible"]
        finally:
            values.close()
            formulas.close()
    except (InvalidFileException, KeyError, ValueError, TypeError, zipfile.BadZipFile, SyntaxError) as exc:
        raise CorpusError(
            f"{name} is not a readable Excel workbook ({exc}); replace the file.",
            f"Het bestand {name} is geen leesbare Excel-werkmap. Vervang het bestand.",
        ) from exc
    return sheets


def _sheet(ws, formula_ws, name: str) -> Sheet:
    from openpyxl.utils.cell import coordinate_to_tuple

    ws.reset_dimensions()  # a file's stored dimensions can be wrong; read every row there is
    formula_ws.reset_dimensions()
    formula_cells = {c.coordinate for row in formula_ws.iter_rows() for c in row if getattr(c, "data_type", "") == "f"}
    rows: list[tuple[int, list[str]]] = []
    computed = 0
    for row in ws.iter_rows():
        cells = [c for c in row if hasattr(c, "coordinate")]  # read-only mode pads with EmptyCell
        if not cells:
            continue
        texts: dict[int, str] = {}
        for c in cells:
            if c.coordinate in formula_cells and c.value is not None:
                computed += 1
            texts[c.column] = _cell_text(c.value, c.number_format)
        width = max((col for col, t in texts.items() if t), default=0)
        if width:
            rows.append((cells[0].row, [texts.get(col, "") for col in range(1, width + 1)]))
    if formula_cells and not computed:
        first = min(formula_cells, key=coordinate_to_tuple)
        raise CorpusError(
            f"{name}, sheet {ws.title!r}: its {len(formula_cells)} formulas (first {first}) have no computed "
            "values; the file was saved by a program that does not calculate. Open it in Excel or LibreOffice, "
            "save it, and ingest again.",
            f"In {name} (blad {ws.title}) staan formules zonder berekende waarden. Open het bestand in Excel of "
            "LibreOffice, sla het op en lever het opnieuw aan.",
        )
    return Sheet(ws.title, rows)


def _cell_text(value, number_format: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, datetime) and value.time() == time(0):
        value = value.date()
    if isinstance(value, datetime):
        return f"{value.day} {_MONTHS[value.month - 1]} {value.year} {value:%H:%M}"
    if isinstance(value, date):
        return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"
    if isinstance(value, (int, float)):
        fmt = (number_format or "General").split(";")[0]
        decimals = re.search(r"\.([0#]+)", fmt)
        places = len(decimals.group(1)) if decimals else (0 if fmt != "General" else None)
        if "%" in fmt:
            return _dutch_number(value * 100, places) + "%"
        return _dutch_number(value, places, grouped="," in fmt)
    return _clean(str(value))


def _dutch_number(value: float, places: int | None, grouped: bool = False) -> str:
    if places is None:
        text = f"{value:.15g}"
        if "e" in text:
            text = f"{value:f}".rstrip("0").rstrip(".")
    else:
        text = f"{value:{',' if grouped else ''}.{places}f}"
    return text.translate(str.maketrans(",.", ".,"))


__all__ = ["Block", "Sheet", "read_docx", "read_html", "read_xlsx"]
