"""Structure-aware chunking for Dutch reports.

Lines are classified as headings (chapter "3 ...", paragraph "3.1 ...", "Box 3.2 ...",
short unnumbered sub-headings), figure captions ("Afbeelding 2.1 ...", "Bron: ..."),
chart-label noise, or body text. Body text is split into whole sentences, which are
packed into chunks of about `chunk_size` characters that never cross a section. Each
chunk carries its section path and printed page; its id is a hash of its content. A loader that
reads the headings from the file's structure (DOCX, HTML) gives each page its `section`, used as is.

Every sentence gets a role (`SentenceRole`): body, caption, source line, table row, or one that
is never quoted: boilerplate (colophon, copyright, "meer informatie", per the language file) and
testimonials (a person's words in quotes). Chart-axis and legend labels are dropped here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .lexicon import Lexicon
from .settings import ChunkingSettings
from .types import BULLETS, Chunk, Document, SentenceRole

# Bump when chunking output changes for the same input: it is part of the index name,
# so a new chunker never reuses passages cut by an old one.
CHUNKER_VERSION = 6

_TERMINAL = (".", "!", "?", ":", ";")
_CHAPTER = re.compile(r"^([1-9]|1\d)\s+[A-Z][^.]*$")
_PARAGRAPH = re.compile(r"^\d{1,2}\.\d{1,2}\s+\S")
_BOX = re.compile(r"^Box\s+\d+(\.\d+)?\b")
# A caption names the figure ("Afbeelding 2.1 Ontwikkeling banen"); a body sentence that
# starts with a reference to it continues in lower case ("Afbeelding 4.2 laat zien ...").
_CAPTION = re.compile(r"^(Afbeelding|Tabel|Figuur)\s+\d+(\.\d+)?\s+[A-Z(]")
_SOURCE_LINE = re.compile(r"^(Bron|Nb|\*)\s*:")
_ABBREVIATIONS = {
    "o.a",
    "bijv",
    "z.d",
    "nr",
    "ca",
    "m.n",
    "e.d",
    "incl",
    "excl",
    "o.b.v",
    "d.w.z",
    "i.v.m",
    "m.b.t",
    "t.o.v",
    "vs",
    "resp",
    "zgn",
    "dhr",
    "mevr",
    "etc",
    "jl",
    "p",
    "blz",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9‘“'\"(" + BULLETS + r"])|\s+(?=[" + BULLETS + "])")


@dataclass
class Sentence:
    text: str
    page: str
    section: str
    role: SentenceRole = "body"
    cells: list[list[str]] | None = None


_QUOTE_START = re.compile("^[" + BULLETS + r"]?\s*[\"'‘“„]")
_QUOTE_END = re.compile(r"[\"'’”][.!?]?$|[.!?,][\"'’”]")


class Roles:
    """Assigns a role to a body sentence with the language file's boilerplate and speech words."""

    def __init__(self, lexicon: Lexicon):
        self.boilerplate = lexicon.phrases("sentences.boilerplate")
        self.speech = lexicon.phrases("sentences.speech_verbs")
        self.sections = {s.lower() for s in lexicon.data.sentences.boilerplate_sections}

    def __call__(self, text: str, section: str) -> SentenceRole:
        low = text.lower()
        if self.boilerplate.search(low) or any(p.strip().lower() in self.sections for p in section.split("›")):
            return "boilerplate"
        if _QUOTE_START.match(text) and (_QUOTE_END.search(text) or self.speech.search(low)):
            return "testimonial"
        return "body"

    def of_paragraph(self, sentences: list[str], section: str) -> list[SentenceRole]:
        """Roles of a paragraph's sentences: a quotation that runs over several sentences ('"We hebben
        ... niet rond. Zonder ... sluiten," zegt de directeur.') is a testimonial as a whole."""
        roles = [self(s, section) for s in sentences]
        i = 0
        while i < len(sentences):
            j = i
            if _QUOTE_START.match(sentences[i]) and _quote_open(sentences[i]):
                while j + 1 < len(sentences) and _quote_open(" ".join(sentences[i : j + 1])):
                    j += 1
                closing = sentences[j]
                if j > i and (self.speech.search(closing.lower()) or _QUOTE_END.search(closing)):
                    roles[i : j + 1] = ["testimonial" if r == "body" else r for r in roles[i : j + 1]]
            i = j + 1
        return roles


def _quote_open(text: str) -> bool:
    """A double quotation mark opened and not yet closed (single marks are also apostrophes)."""
    return text.count('"') % 2 == 1 or text.count("“") + text.count("„") > text.count("”")


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, respecting Dutch abbreviations and bullets."""
    parts: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        piece = text[start : m.start()]
        last_word = re.search(r"(\S+)\.$", piece)
        if last_word and last_word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
            continue
        if piece.strip():
            parts.append(piece.strip())
        start = m.end()
    if text[start:].strip():
        parts.append(text[start:].strip())
    return parts


def _is_label_run(lines: list[str], i: int) -> bool:
    """True when line i is part of a run of >= 3 short unpunctuated lines (chart labels)."""

    def short(j: int) -> bool:
        return 0 <= j < len(lines) and 0 < len(lines[j]) < 40 and not lines[j].endswith(_TERMINAL)

    return short(i) and any(all(short(j) for j in range(s, s + 3)) for s in range(i - 2, i + 1))


class _Sections:
    """Heading stack: level 1 chapter, 2 paragraph/box, 3 sub-heading."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []

    def push(self, level: int, title: str) -> None:
        self.stack = [(lv, t) for lv, t in self.stack if lv < level] + [(level, title)]

    def extend_last(self, more: str) -> None:
        level, title = self.stack[-1]
        self.stack[-1] = (level, f"{title} {more}")

    @property
    def path(self) -> str:
        return " › ".join(t for _, t in self.stack)


def document_sentences(doc: Document, lexicon: Lexicon) -> list[Sentence]:
    """All sentences of a document in reading order, with page, section and role."""
    sections = _Sections()
    sentences: list[Sentence] = []
    buffer: list[str] = []
    buffer_page = ""
    role = Roles(lexicon)

    def flush() -> None:
        nonlocal buffer
        if buffer:
            parts = split_sentences(" ".join(buffer))
            for s, r in zip(parts, role.of_paragraph(parts, sections.path)):
                sentences.append(Sentence(s, buffer_page, sections.path, r))
        buffer = []

    if doc.source.kind == "table":
        return [Sentence(p.text, p.number, doc.source.title, "row", p.cells) for p in doc.pages]

    for page in doc.pages:
        # A page with a section was cut by the loader at headings the file marks (DOCX, HTML): that path is
        # the section, and no line is guessed to be a heading; the page starts a new paragraph.
        structured = page.section is not None
        if structured:
            flush()
            sections.stack = [(1, page.section)] if page.section else []
        lines = [ln.strip() for ln in page.text.split("\n")]
        prev_ends = True  # page start behaves like a sentence end
        for i, line in enumerate(lines):
            if not line:
                flush()
                prev_ends = True
                continue
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            heading_like = len(line) < 90 and not line.endswith(_TERMINAL)
            if _is_label_run(lines, i):
                continue
            if not structured and prev_ends and heading_like and _CHAPTER.match(line):
                flush()
                sections.push(1, line)
                if nxt and nxt[0].islower() and len(nxt) < 60 and not nxt.endswith(_TERMINAL):
                    lines[i + 1] = ""  # wrapped chapter title
                    sections.extend_last(nxt)
                continue
            if not structured and prev_ends and heading_like and (_PARAGRAPH.match(line) or _BOX.match(line)):
                flush()
                sections.push(2, re.sub(r"\s+", " ", line))
                continue
            if _CAPTION.match(line) or _SOURCE_LINE.match(line):
                flush()
                if (
                    _CAPTION.match(line)
                    and nxt
                    and len(nxt) < 90
                    and not nxt.endswith(_TERMINAL)
                    and not _SOURCE_LINE.match(nxt)
                ):
                    line, lines[i + 1] = f"{line} {nxt}", ""  # caption subtitle, e.g. "Groningen, 2015-2024"
                j = i + 1
                while _SOURCE_LINE.match(line) and not line.endswith(_TERMINAL) and j < len(lines) and lines[j]:
                    if not (lines[j][0].islower() or lines[j][0].isdigit()):
                        break  # a new sentence or heading, not the note's continuation
                    line, lines[j] = f"{line} {lines[j]}", ""  # a note wrapped over lines ("... en voor\n2026 ...")
                    j += 1
                kind: SentenceRole = "caption" if _CAPTION.match(line) else "source"
                sentences.append(Sentence(line, page.number, sections.path, kind))
                prev_ends = True
                continue
            if (
                not structured
                and prev_ends
                and heading_like
                and line[0].isupper()
                and len(line) < 70
                and (not nxt or nxt[0].isupper() or nxt[0] in BULLETS)
            ):
                flush()
                level = (
                    1 if not sections.stack or line in ("Voorwoord", "Samenvatting", "Begrippen", "Disclaimer") else 3
                )
                sections.push(level, line)
                continue
            if not buffer:
                buffer_page = page.number
            elif buffer_page != page.number and "-" not in buffer_page:
                buffer_page = f"{buffer_page}-{page.number}"  # sentence runs over a page break
            buffer.append(line)
            prev_ends = line.endswith(_TERMINAL)
        if prev_ends:
            flush()
    flush()
    return sentences


def chunk_document(doc: Document, settings: ChunkingSettings, lexicon: Lexicon) -> list[Chunk]:
    """Pack sentences into chunks within one section and page, with sentence overlap."""
    chunks: list[Chunk] = []
    groups: list[list[Sentence]] = []
    for s in document_sentences(doc, lexicon):
        if groups and groups[-1][0].section == s.section and groups[-1][0].page == s.page:
            groups[-1].append(s)
        else:
            groups.append([s])
    for group in groups:
        current: list[Sentence] = []
        for s in group:
            size = sum(len(x.text) + 1 for x in current)
            if current and size + len(s.text) > settings.chunk_size:
                chunks.append(_make_chunk(doc, current, len(chunks)))
                keep = settings.overlap_sentences
                current = current[-keep:] if keep and len(current) > keep else []
            current.append(s)
        if current:
            chunks.append(_make_chunk(doc, current, len(chunks)))
    return chunks


def chunk_sentences(text: str) -> list[str]:
    """The sentences of a chunk (a chunk stores one sentence per line)."""
    return [line for line in text.split("\n") if line.strip()]


def _make_chunk(doc: Document, sentences: list[Sentence], position: int) -> Chunk:
    text = "\n".join(s.text for s in sentences)
    first = sentences[0]
    digest = hashlib.sha256(f"{doc.source.id}|{first.page}|{first.section}|{text}".encode()).hexdigest()[:20]
    cells = first.cells or [] if doc.source.kind == "table" else []
    return Chunk(
        id=f"{doc.source.id}-{digest}",
        source_id=doc.source.id,
        page=first.page,
        section=first.section,
        text=text,
        position=position,
        row_label=cells[0][1] if cells else "",
        cells=cells,
        roles=[s.role for s in sentences],
    )
