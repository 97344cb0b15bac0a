"""Approved sources: the manifest and one registry of loaders, a loader per file suffix.

A source is citable only when it is approved, not expired and its file loads.
Loaders return a `Document` whose pages carry the printed page label (PDF footer)
and text with line wraps and hyphenation repaired.

A new format plugs in with `@register(".ext", content=...)` on a function
`(raw: bytes, path: Path, info: SourceInfo) -> list[Page]`; `content` says what the file's
bytes must be (see `sniff`), checked before the loader runs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import tomllib
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

from pydantic import ValidationError

from .errors import ConfigError, CorpusError
from .types import Document, Page, SourceInfo

# Footer such as "Regio in Beeld 2025-2026 Groningen  3" or a bare "12".
_FOOTER = re.compile(r"^(?:.{0,120}?\s)?(\d{1,4})\s*$")
_URL_LINE = re.compile(r"^\s*https?://\S+\s*$")


@dataclass
class SourceStatus:
    source: SourceInfo
    path: Path
    status: str  # approved | expired | unapproved | missing file
    warning: str = ""  # for the content team, in Dutch: expires soon, or has no valid_until

    @property
    def usable(self) -> bool:
        return self.status == "approved"


EXPIRY_WARNING_DAYS = 30


def expiry_warning(info: SourceInfo, today: date) -> str:
    """A source that expires within 30 days, or says nothing about until when it holds."""
    if info.valid_until is None:
        return "Geen geldigheidsdatum (valid_until): vul in tot wanneer deze bron gebruikt mag worden."
    days = (info.valid_until - today).days
    if 0 <= days <= EXPIRY_WARNING_DAYS:
        when = "vandaag" if days == 0 else f"over {days} dag{'en' if days != 1 else ''}"
        return f"Verloopt {when} (geldig tot {info.valid_until.isoformat()}); daarna wordt de bron niet meer geciteerd."
    return ""


def is_expired(info: SourceInfo, today: date) -> bool:
    """Past its valid_until: never cited, also by a server that indexed it before that day."""
    return bool(info.valid_until and info.valid_until < today)


def load_manifest(manifest_path: Path, today: date) -> list[SourceStatus]:
    """Read and validate the manifest; raise ConfigError naming the bad entry."""
    if not manifest_path.exists():
        raise ConfigError(f"No manifest at {manifest_path}; create it (see corpus/manifest.toml in the repository).")
    statuses: list[SourceStatus] = []
    for info in parse_manifest(manifest_path.read_bytes(), manifest_path):
        path = (manifest_path.parent / info.file).resolve()
        if not path.exists():
            status = "missing file"
        elif not info.approved:
            status = "unapproved"
        elif is_expired(info, today):
            status = "expired"
        else:
            status = "approved"
        statuses.append(SourceStatus(info, path, status, expiry_warning(info, today) if status != "expired" else ""))
    return statuses


# Free-text fields of an entry, shown on the pages: no markup in them (the pages escape, other readers may not).
TEXT_FIELDS = ("title", "publisher", "region", "period", "provenance", "unit", "approved_by")
FIELD_NAMES_NL = {
    "id": "id",
    "title": "titel",
    "publisher": "uitgever",
    "url": "url",
    "kind": "soort",
    "file": "bestand",
    "published": "publicatiedatum (published)",
    "valid_until": "geldig tot (valid_until)",
    "approved": "goedgekeurd",
    "approved_by": "goedgekeurd door",
    "approved_at": "goedgekeurd op",
    "region": "regio",
    "period": "periode",
    "provenance": "herkomst",
    "unit": "eenheid",
}
_PYDANTIC_NL = {
    "missing": "ontbreekt",
    "string_type": "moet tekst zijn",
    "literal_error": "heeft een onbekende waarde",
    "date_type": "moet een datum zijn (JJJJ-MM-DD)",
    "date_parsing": "is geen geldige datum (JJJJ-MM-DD)",
    "date_from_datetime_parsing": "is geen geldige datum (JJJJ-MM-DD)",
    "date_from_datetime_inexact": "is geen geldige datum (JJJJ-MM-DD)",
    "bool_type": "moet true of false zijn",
    "bool_parsing": "moet true of false zijn",
}


def parse_manifest(raw: bytes, where: Path) -> list[SourceInfo]:
    """The manifest's entries, validated: TOML, every entry a `SourceInfo`, unique ids, `valid_until` not
    before `published`, no markup in the text fields, a web address as url. Raises ConfigError naming the
    entry and the field (in English, and in Dutch for the content team). The one check of a manifest, used
    when it is read (`load_manifest`) and before the /beheer page writes one (`admin.py`)."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"{where} is not valid TOML: {exc}", f"Het bronnenbestand {where.name} is geen geldige TOML ({exc})."
        ) from exc
    entries = data.get("source", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: use [[source]] tables for the sources.")
    infos: list[SourceInfo] = []
    seen: set[str] = set()
    for i, raw_entry in enumerate(entries, 1):
        name = raw_entry.get("id", "?") if isinstance(raw_entry, dict) else "?"
        try:
            info = SourceInfo(**raw_entry)
        except (ValidationError, TypeError) as exc:
            first = exc.errors()[0] if isinstance(exc, ValidationError) else {"loc": ("?",), "msg": str(exc)}
            field = ".".join(str(p) for p in first["loc"])
            what = _PYDANTIC_NL.get(first.get("type", ""), "is ongeldig")
            if first.get("type") == "literal_error" and first.get("ctx", {}).get("expected"):
                what += f" (kies uit {first['ctx']['expected']})"
            raise ConfigError(
                f"{where}: source #{i} ({name}): field {field!r}: {first['msg']}",
                f"Bron {name}: het veld '{FIELD_NAMES_NL.get(field, field)}' {what}.",
            ) from exc
        _check_entry(info, where, i)
        if info.id in seen:
            raise ConfigError(
                f"{where}: duplicate source id {info.id!r}; every id must be unique.",
                f"Er is al een bron met id '{info.id}'. Kies een andere id.",
            )
        seen.add(info.id)
        infos.append(info)
    return infos


def _check_entry(info: SourceInfo, where: Path, i: int) -> None:
    def bad(field: str, en: str, nl: str) -> ConfigError:
        return ConfigError(f"{where}: source #{i} ({info.id}): field {field!r}: {en}", f"Bron {info.id}: {nl}")

    if info.valid_until is not None and info.valid_until < info.published:
        raise bad(
            "valid_until",
            f"{info.valid_until} is before published ({info.published}).",
            f"'geldig tot' ({info.valid_until:%d-%m-%Y}) ligt vóór de publicatiedatum ({info.published:%d-%m-%Y}). "
            "Een bron kan niet verlopen voordat hij verschenen is.",
        )
    for field in ("id", *TEXT_FIELDS):
        value = getattr(info, field)
        if "<" in value or ">" in value:
            raise bad(
                field,
                "must not contain markup (< or >).",
                f"het veld '{FIELD_NAMES_NL[field]}' mag geen HTML of de tekens < en > bevatten.",
            )
        if any(ord(c) < 32 and c not in "\t" for c in value):
            raise bad(
                field,
                "must not contain control characters.",
                f"het veld '{FIELD_NAMES_NL[field]}' bevat onzichtbare besturingstekens.",
            )
    if not info.id.strip() or not info.title.strip():
        raise bad("title" if info.id.strip() else "id", "must not be empty.", "id en titel mogen niet leeg zijn.")
    if info.url and not re.match(r"^https?://[^\s<>\"']+$", info.url):
        raise bad(
            "url",
            "must be a web address (http:// or https://).",
            "de url moet een webadres zijn dat begint met http:// of https://.",
        )


def file_sha256(path: Path) -> str:
    """The file's hash, read in blocks (a file too large to load is never held in memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


# Past this a source is refused before it is read (the `sources.max_file_mb` setting; ingest passes it).
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024

Loader = Callable[[bytes, Path, SourceInfo], list[Page]]


@dataclass(frozen=True)
class Format:
    load: Loader
    content: str  # what `sniff` must find in the file's bytes: "pdf", "text", "docx", "xlsx"


LOADERS: dict[str, Format] = {}


def register(*suffixes: str, content: str) -> Callable[[Loader], Loader]:
    """Register a loader for file suffixes (".docx"); `content` is the kind of bytes it accepts."""

    def add(load: Loader) -> Loader:
        for suffix in suffixes:
            LOADERS[suffix] = Format(load, content)
        return load

    return add


def load_document(status: SourceStatus, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Document:
    """Load one source file into pages; raise CorpusError with the file and the reason.

    Before any loader runs: the suffix must be registered, the file at most `max_bytes` (checked on the
    file's size, then on a read bounded by it), and its bytes what the suffix promises (`sniff`)."""
    path = status.path
    suffix = path.suffix.lower()
    fmt = LOADERS.get(suffix)
    if fmt is None:
        raise CorpusError(
            f"{path.name}: unsupported file type {suffix!r}; use {_suffix_list()}.",
            f"Bestanden van het type {suffix or '(zonder extensie)'} kan de assistent niet lezen "
            f"({path.name}). Gebruik {_suffix_list('of')}.",
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise _too_large(path, size, max_bytes)
    with path.open("rb") as fh:
        raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:  # grew since stat, or a device that reports no size
        raise _too_large(path, len(raw), max_bytes, more=True)
    if not raw.strip():
        raise CorpusError(
            f"{path.name} is empty; replace it or remove it from the manifest.",
            f"Het bestand {path.name} is leeg. Vervang het door het juiste bestand.",
        )
    _check_content(raw, path, fmt.content, max_bytes)
    pages = fmt.load(raw, path, status.source)
    return Document(source=status.source, pages=pages, sha256=hashlib.sha256(raw).hexdigest())


def _too_large(path: Path, size: int, max_bytes: int, more: bool = False) -> CorpusError:
    at_least = ("more than ", "meer dan ") if more else ("", "")
    return CorpusError(
        f"{path.name} is {at_least[0]}{_size(size)}, above the limit of {_size(max_bytes)} "
        "(ASSISTANT_SOURCES__MAX_FILE_MB); split or compress it, or raise the limit.",
        f"Het bestand {path.name} is te groot ({at_least[1]}{_size(size, nl=True)}; de grens is "
        f"{_size(max_bytes, nl=True)}). Splits of verklein het bestand.",
    )


def _size(n: int, nl: bool = False) -> str:
    """50 MB, 60.0 MB, 1,048 bytes; Dutch: 60,0 MB, 1.048 bytes."""
    if n % 2**20 == 0:
        text = f"{n // 2**20:,} MB"
    elif n >= 2**20:
        text = f"{n / 2**20:,.1f} MB"
    else:
        text = f"{n:,} bytes"
    return text.translate(str.maketrans(",.", ".,")) if nl else text


# What a file's first bytes say it is, in English (logs) and Dutch (the content team).
CONTENT_NAMES = {
    "pdf": ("a PDF", "een PDF"),
    "docx": ("a Word document (.docx)", "een Word-document (.docx)"),
    "xlsx": ("an Excel workbook (.xlsx)", "een Excel-werkmap (.xlsx)"),
    "text": ("text", "tekst"),
    "exe": ("a Windows program (.exe)", "een Windows-programma (.exe)"),
    "ole": (
        "a password-protected or old-format Office file (.doc, .xls)",
        "een met een wachtwoord beveiligd of oud Office-bestand (.doc, .xls)",
    ),
    "zip": ("a zip archive", "een zip-archief"),
    "image": ("an image", "een afbeelding"),
    "binary": ("binary data, not text", "geen tekst maar binaire gegevens"),
}
_SIGNATURES = (
    (b"MZ", "exe"),
    (b"\x7fELF", "exe"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def sniff(raw: bytes) -> str:
    """What the bytes are, by their magic numbers: a key of CONTENT_NAMES. A zip is "docx" or "xlsx"
    when it holds Word's word/ or Excel's xl/ part; text is anything without NUL bytes near the start."""
    if raw.lstrip(b" \t\r\n\f").startswith(b"%PDF-"):
        return "pdf"
    if raw.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(raw)).namelist()
        except (zipfile.BadZipFile, ValueError):
            return "zip"
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        return "zip"
    for signature, kind in _SIGNATURES:
        # a program's header holds NUL bytes at once: a text that happens to start with "MZ" is no program
        if raw.startswith(signature) and (kind != "exe" or b"\x00" in raw[:64]):
            return kind
    if raw.startswith(_UTF16_BOMS):
        return "text"  # read as text, so the decoder says to save it as UTF-8
    return "binary" if b"\x00" in raw[:8192] else "text"


def _check_content(raw: bytes, path: Path, expected: str, max_bytes: int) -> None:
    found = sniff(raw)
    if expected == "pdf" and b"%PDF-" in raw[:1024]:
        found = "pdf"  # readers accept a PDF header after up to 1 kB of junk (a mail gateway's prefix)
    if found != expected:
        (want, want_nl), (got, got_nl) = CONTENT_NAMES[expected], CONTENT_NAMES[found]
        raise CorpusError(
            f"{path.name} should be {want} but its content is {got}; replace it with the real file "
            "or give it the suffix of what it is.",
            f"Het bestand {path.name} hoort {want_nl} te zijn, maar is {got_nl}. Vervang het door het juiste bestand.",
        )
    if found in ("docx", "xlsx"):  # a zip bomb would be inflated by the loader
        unpacked = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(raw)).infolist())
        if unpacked > 10 * max_bytes:
            raise CorpusError(
                f"{path.name} unpacks to {unpacked / 2**20:.0f} MB, more than ten times the file limit; "
                "refused as a possible zip bomb.",
                f"Het bestand {path.name} is uitgepakt te groot ({unpacked / 2**20:.0f} MB) en wordt niet gelezen.",
            )


def _suffix_list(last: str = "or") -> str:
    suffixes = sorted(LOADERS)
    return ", ".join(suffixes[:-1]) + f" {last} {suffixes[-1]}" if len(suffixes) > 1 else "".join(suffixes)


def _decode(raw: bytes, path: Path) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{path.name} is not UTF-8 (byte {exc.start}); save it as UTF-8 and ingest again.",
            f"Het bestand {path.name} is geen UTF-8-tekst. Sla het op als UTF-8 en probeer het opnieuw.",
        ) from exc


@register(".pdf", content="pdf")
def _load_pdf(raw: bytes, path: Path, info: SourceInfo) -> list[Page]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise CorpusError(
                f"{path.name} is encrypted; provide an unprotected copy.",
                f"Het bestand {path.name} is beveiligd met een wachtwoord. Lever een onbeveiligde versie aan.",
            )
        raw_pages = [p.extract_text() or "" for p in reader.pages]
    except CorpusError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise CorpusError(
            f"{path.name} is not a readable PDF ({exc}); replace the file.",
            f"Het bestand {path.name} is geen leesbare PDF. Vervang het door een werkende PDF.",
        ) from exc
    if not any(t.strip() for t in raw_pages):
        raise CorpusError(
            f"{path.name} has no extractable text (scanned?); provide a text PDF.",
            f"In {path.name} staat geen leesbare tekst (een scan?). Lever een PDF met tekst aan.",
        )
    vocabulary = set(re.findall(r"\w+", " ".join(raw_pages).lower()))
    pages = []
    for i, text in enumerate(raw_pages, 1):
        lines = [ln.rstrip() for ln in text.splitlines()]
        label = str(i)
        while lines and not lines[-1].strip():
            lines.pop()
        if lines and (m := _FOOTER.match(lines[-1])):
            label = m.group(1)
            lines.pop()
        lines = [ln for ln in lines if not _URL_LINE.match(ln)]
        pages.append(Page(number=label, index=i, text=repair_lines(lines, vocabulary)))
    return pages


@register(".txt", content="text")
def _load_text(raw: bytes, path: Path, info: SourceInfo) -> list[Page]:
    return [Page(number="1", index=1, text=repair_lines(_decode(raw, path).splitlines()))]


@register(".md", ".markdown", content="text")
def _load_markdown(raw: bytes, path: Path, info: SourceInfo) -> list[Page]:
    return [Page(number="1", index=1, text=repair_lines(markdown_lines(_decode(raw, path))))]


def repair_lines(lines: list[str], vocabulary: set[str] | None = None) -> str:
    """Join wrapped lines, keeping line breaks only where a new block starts.

    A line ending in "-" glued to a lowercase continuation is a word split over two lines:
    the hyphen is dropped when the joined word occurs elsewhere in the document (a
    hyphenation), and kept otherwise (a Dutch compound such as "jaar-op-jaardaling").
    """
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if not line:
            out.append("")
            continue
        if out and out[-1] and out[-1].endswith("-") and not out[-1].endswith(" -"):
            prev = out[-1]
            head = re.search(r"(\w+)-$", prev)
            tail = re.match(r"\w+", line)
            if (
                head
                and tail
                and line[0].islower()
                and vocabulary
                and (head.group(1) + tail.group(0)).lower() in vocabulary
            ):
                out[-1] = prev[:-1] + line
            else:
                out[-1] = prev + line
            continue
        out.append(line)
    return "\n".join(out)


_MD_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_MD_BULLET = re.compile(r"^\s*[-*+]\s+")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(\S(?:.*?\S)?)\1")
_MD_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def markdown_lines(text: str) -> list[str]:
    """Markdown as the chunker reads text: headings on lines of their own, bullets as "◼ ", emphasis and
    comments removed, links as "text (url)", and each table row as one line "label: header value; ..."."""
    out: list[str] = []
    header: list[str] | None = None
    for line in _MD_COMMENT.sub("", text).splitlines():
        if line.strip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if _MD_RULE.match(line):
                continue
            if header is None:
                header = cells
                continue
            out += [row_sentence(header, cells), ""]
            continue
        header = None
        if m := _MD_HEADING.match(line):
            out += ["", m.group(1).strip(), ""]
            continue
        line = _MD_LINK.sub(r"\1 (\2)", line)
        line = _MD_EMPHASIS.sub(r"\2", line)
        out.append(_MD_BULLET.sub("◼ ", line))
    return out


def row_sentence(header: list[str], cells: list[str]) -> str:
    """A table row inside a text as one sentence, "label: header value; header value.", so that each figure
    stands in one clause with what it counts (facts.py splits clauses at ":" and ";")."""
    rest = "; ".join(f"{h} {c}" for h, c in zip(header[1:], cells[1:]) if c)
    return f"{cells[0]}: {rest}." if rest else f"{cells[0]}."


# StatLine writes periods as codes: 2024KW02 (quarter), 2024JJ00 (year), 2024MM06 (month), 2024HJ01 (half).
_PERIOD_CODE = re.compile(r"^(\d{4})([A-Z]{2})(\d{2})$")
_KNOWN_CODES = {"KW": range(1, 5), "JJ": range(0, 1), "MM": range(1, 13), "HJ": range(1, 3)}  # numbers each takes
_MISSING = {".": "ontbreekt", "x": "geheim", "-": "nihil"}


def _csv_rows(text: str, path: Path) -> list[list[str]]:
    """The non-empty rows of a CSV file; comment lines (#) skipped; comma or semicolon (StatLine)."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    sample = "\n".join(lines[:20])
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter))
    except csv.Error as exc:
        raise CorpusError(
            f"{path.name} is not valid CSV: {exc}", f"Het bestand {path.name} is geen geldig CSV-bestand."
        ) from exc
    return [r for r in rows if any(c.strip() for c in r)]


@register(".csv", content="text")
def _load_csv(raw: bytes, path: Path, info: SourceInfo) -> list[Page]:
    """Each data row becomes one page-like block that names table, row, columns, unit and period,
    with its cells kept for the facts. A StatLine export's metadata lines (single cells above and
    below the table) are skipped; its missing-value marks ("." and "x") are written out."""
    rows = _csv_rows(_decode(raw, path), path)
    width = max((len(r) for r in rows), default=0)
    table = [r for r in rows if len(r) > 1]
    if len(table) < 2 or width < 2:
        raise CorpusError(
            f"{path.name} needs a header row and at least one data row.",
            f"In {path.name} ontbreekt een kopregel met minstens één rij gegevens eronder.",
        )
    header, data = table[0], table[1:]
    return table_pages(header, [TableRow(r, f"rij {n}", f"row {n + 1}") for n, r in enumerate(data, 1)], path, info)


@dataclass(frozen=True)
class TableRow:
    cells: list[str]
    page: str  # where a citation points: "rij 3" (CSV), "blad Vacatures, rij 5" (XLSX)
    at: str  # the same for error messages: "row 4", "sheet 'Vacatures', row 5"


def table_pages(
    header: list[str], rows: list[TableRow], path: Path, info: SourceInfo, caption: str = "", first_index: int = 1
) -> list[Page]:
    """Each data row of a table (CSV, an XLSX sheet) as one page-like block that names the table
    (`caption`, default the source's title), the row, its columns, unit and period, with its cells kept
    for the facts."""
    pages = []
    meta = "; ".join(x for x in (info.period and f"periode: {info.period}", info.unit and f"eenheid: {info.unit}") if x)
    for i, row in enumerate(rows):
        if len(row.cells) != len(header):
            raise CorpusError(
                f"{path.name}, {row.at}: {len(row.cells)} cells, header has {len(header)}.",
                f"{path.name}, {row.page}: {len(row.cells)} cellen, terwijl de kopregel er {len(header)} heeft.",
            )
        values = [_cell(path, row, h, c) for h, c in zip(header, row.cells)]
        cells = "; ".join(f"{_header(h)}: {v}" for h, v in zip(header[1:], values[1:]) if v)
        line = f"{caption or info.title}. {_header(header[0])}: {values[0]}. {cells}."
        if meta:
            line += f" ({meta})"
        pairs = [[_header(h), c.strip()] for h, c in zip(header, row.cells)]
        pages.append(Page(number=row.page, index=first_index + i, text=line, cells=pairs))
    return pages


def _cell(path: Path, row: TableRow, header: str, value: str) -> str:
    """A cell as the passage shows it: a StatLine period code with its reading, a missing mark written out."""
    value = value.strip()
    if value in _MISSING:
        return f"{value} ({_MISSING[value]})"
    if "(%)" in header and re.fullmatch(r"-?\d+(?:[.,]\d+)?", value):
        return f"{value}%"  # the percentage column's unit, written with the value as a sentence would
    m = _PERIOD_CODE.match(value)
    if m and "period" in header.lower():
        year, code, num = int(m.group(1)), m.group(2), int(m.group(3))
        if num not in _KNOWN_CODES.get(code, ()):
            raise CorpusError(
                f"{path.name}, {row.at}: unknown StatLine period code {value!r}; "
                "expected YYYYKW01-04, YYYYJJ00, YYYYMM01-12 or YYYYHJ01-02.",
                f"{path.name}, {row.page}: onbekende StatLine-periodecode '{value}'. Bekend zijn JJJJKW01-04 "
                "(kwartaal), JJJJJJ00 (jaar), JJJJMM01-12 (maand) en JJJJHJ01-02 (halfjaar).",
            )
        return f"{value} ({_code_label(year, code, num)})"
    return value


def _code_label(year: int, code: str, num: int) -> str:
    ordinals = ["eerste", "tweede", "derde", "vierde"]
    if code == "KW" and 1 <= num <= 4:
        return f"{ordinals[num - 1]} kwartaal {year}"
    if code == "HJ" and 1 <= num <= 2:
        return f"{ordinals[num - 1]} helft {year}"
    if code == "MM" and 1 <= num <= 12:
        return f"maand {num} van {year}"
    return str(year)


def _header(name: str) -> str:
    return name.strip().replace("_", " ")


# ------------------------------------------------------------------ formats read by a library (readers.py)


@register(".docx", content="docx")
def _load_docx(raw: bytes, path: Path, info: SourceInfo) -> list[Page]:
    """A Word document. Its headings (Title, Heading 1-9 / Kop 1-9) are the section of the text under them,
    and a citation's main location. Word has no fixed pages: the page is the one Word recorded when it last
    laid the file out (as an advisor opening it in Word sees it); a file with no such record (written by
    another program) counts its hard page breaks, and is one page "1" without them. Tables are read row by
    row into sentences (`row_sentence`)."""
    from .readers import read_docx

    return _structured_pages(read_docx(raw, path.name), path)


@register(".html", ".htm", content="text")
def _load_html(raw: bytes, path: Path, info: SourceInfo) -> list[Page]:
    """A saved web page: its main text only (trafilatura leaves out navigation, header and footer), with its
    headings as sections. A web page has no pages: every passage is page "1" and the section locates it."""
    from .readers import read_html

    return _structured_pages(read_html(raw, path.name), path)


@register(".xlsx", content="xlsx")
def _load_xlsx(raw: bytes, path: Path, info: SourceInfo) -> list[Page]:
    """An Excel workbook: one table per visible sheet (its first row of two or more cells is the header;
    single cells above and below, such as a title or a note, are skipped), each data row a citable row
    like a CSV row, located as "blad <sheet>, rij <n>" with the spreadsheet's own row number."""
    from .readers import read_xlsx

    pages: list[Page] = []
    for sheet in read_xlsx(raw, path.name):
        table = [(n, cells) for n, cells in sheet.rows if len(cells) > 1]
        if len(table) < 2:
            continue  # a sheet of notes, or a header without rows
        header = table[0][1]
        rows = [
            TableRow(
                cells + [""] * (len(header) - len(cells)),
                f"blad {sheet.name}, rij {n}",
                f"sheet {sheet.name!r}, row {n}",
            )
            for n, cells in table[1:]
        ]
        pages += table_pages(header, rows, path, info, f"{info.title}, blad {sheet.name}", len(pages) + 1)
    if not pages:
        raise CorpusError(
            f"{path.name} has no sheet with a header row and at least one data row.",
            f"In {path.name} staat geen werkblad met een kopregel en minstens één rij gegevens.",
        )
    return pages


def _structured_pages(blocks, path: Path) -> list[Page]:
    """Pages cut at every heading and every page change, each with the heading path it stands under as its
    `section` (the chunker uses it as is): one paragraph, list item ("◼ ") or table row per line."""
    pages: list[Page] = []
    stack: list[tuple[int, str]] = []
    lines: list[str] = []
    page = 0

    def close() -> None:
        if lines:
            section = " › ".join(title for _, title in stack)
            pages.append(Page(number=str(page), index=len(pages) + 1, text="\n".join(lines), section=section))
            lines.clear()

    for block in blocks:
        if block.kind == "heading":
            close()
            stack = [(level, title) for level, title in stack if level < block.level] + [(block.level, block.text)]
            continue
        if block.page != page:
            close()
            page = block.page
        if block.kind == "table":
            lines += [x for row in block.rows[1:] for x in (row_sentence(block.rows[0], row), "")]
        else:
            lines += [f"◼ {block.text}" if block.kind == "item" else block.text, ""]
    close()
    if not pages:
        raise CorpusError(
            f"{path.name} has no text (empty, or only headings); replace the file.",
            f"In {path.name} staat geen tekst (leeg, of alleen koppen). Vervang het bestand.",
        )
    return pages
