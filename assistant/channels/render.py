"""Pieces the chat channels (Slack, Teams) share when they render an `Answer`.

Platform limits differ (Slack: 50 blocks, 3000 characters per section; Teams: ~28 KB per
message), but the rules are the same everywhere: every citation number stays visible,
long quotes are shortened, and what does not fit in one message moves to the next.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

from ..types import Answer, Citation

REFUSAL_TITLE = "Geen antwoord uit de bronnen"
REFUSAL_REASONS = {
    "prediction": "De assistent doet zelf geen voorspellingen.",
    "no_evidence": "Geen passage in de goedgekeurde bronnen beantwoordt deze vraag.",
    "out_of_scope": "De goedgekeurde bronnen gaan niet over dit onderwerp.",
    "invalid_question": "De vraag kon niet worden verwerkt.",
}

# (rating stored in the audit log, button label)
FEEDBACK = (
    ("helpful", "👍 Nuttig"),
    ("not_helpful", "👎 Niet nuttig"),
    ("missing_source", "📚 Bron ontbreekt"),
)
FEEDBACK_THANKS = {
    "helpful": "Bedankt voor je feedback: dit antwoord was nuttig.",
    "not_helpful": "Bedankt voor je feedback: dit antwoord was niet nuttig. De beheerder kijkt ernaar.",
    "missing_source": "Bedankt: je meldt dat er een bron ontbreekt. De beheerder kijkt ernaar.",
}

EXAMPLE_QUESTION = "Hoeveel vacatures stonden er eind tweede kwartaal 2025 open in Groningen?"
EMPTY_HINT = f"Stel je vraag in hetzelfde bericht, bijvoorbeeld: _{EXAMPLE_QUESTION}_"
FILE_HINT = (
    "Bijlagen kan ik niet lezen: ik beantwoord alleen vragen uit de goedgekeurde bronnen. Typ je vraag als tekst."
)
TIMEOUT_NOTE = "Het zoeken duurt langer dan verwacht. Stel je vraag over een minuut opnieuw."
# a signed request whose replay check could not be made (Redis unreachable) is refused with this
UNCHECKED_NOTE = "De assistent kan je bericht nu niet veilig controleren. Stel je vraag over een paar minuten opnieuw."

QUOTE_CHARS = 280  # a quote is evidence, not the whole passage; the link leads to the rest
_EMOJI_CODE = re.compile(r":(?:[a-z0-9_+\-']*[a-z][a-z0-9_+\-']*|[+\-]1):")  # :tada:, :+1:, not 10:30:00


def clip(text: str, limit: int) -> str:
    """Shorten to at most `limit` characters, at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if limit <= 1:
        return "…"[:limit]
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.6:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def page_label(c: Citation) -> str:
    """ "p. 15" for page numbers; table rows and other labels ("rij 3") as they are."""
    page = (c.page or "").strip()
    if not page:
        return ""
    return f"p. {page}" if page[0].isdigit() else page


_MONTHS = ("januari februari maart april mei juni juli augustus september oktober november december").split()


def source_age(c: Citation) -> str:
    """How old the cited figure is: the source's publication date and the period the figure is for."""
    parts = (
        [f"gepubliceerd {c.published.day} {_MONTHS[c.published.month - 1]} {c.published.year}"] if c.published else []
    )
    if c.period:
        parts.append(f"cijfer over {c.period}")
    return ", ".join(parts)


def source_details(c: Citation) -> str:
    """Publisher, age, page and section in one line (the title is rendered by each platform)."""
    parts = [c.publisher, source_age(c), page_label(c), c.section]
    return ", ".join(p for p in parts if p)


def refusal_reason(answer: Answer) -> str:
    return REFUSAL_REASONS.get(answer.refusal_reason or "", "")


def question_words(text: str) -> str:
    """The question with chat decoration removed: emoji short codes and surplus whitespace."""
    return " ".join(_EMOJI_CODE.sub(" ", text or "").split())


def split_text(text: str, limit: int) -> list[str]:
    """Split text into pieces of at most `limit` characters, preferring sentence and word breaks."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        window = text[:limit]
        cut = max(window.rfind(". "), window.rfind("\n"))
        if cut < limit * 0.5:
            cut = window.rfind(" ")
        if cut < limit * 0.5:
            cut = limit - 1
        pieces.append(text[: cut + 1].strip())
        text = text[cut + 1 :].strip()
    if text:
        pieces.append(text)
    return pieces


def pack(items: Iterable[str], limit: int, sep: str = "\n") -> list[str]:
    """Join items into as few strings of at most `limit` characters as possible, in order.

    An item longer than `limit` on its own is clipped, so nothing is ever dropped.
    """
    out: list[str] = []
    current = ""
    for item in items:
        item = item if len(item) <= limit else clip(item, limit)
        joined = f"{current}{sep}{item}" if current else item
        if len(joined) <= limit:
            current = joined
        else:
            out.append(current)
            current = item
    if current:
        out.append(current)
    return out


def paginate(items: Sequence, fits: Callable[[list, int], bool]) -> list[list]:
    """Split items into consecutive pages; `fits(page, page_number)` says whether a page is small enough.

    A single item always gets a page of its own, even when it is too large on its own;
    callers make single items small enough (by clipping) before they paginate.
    """
    pages: list[list] = []
    page: list = []
    for item in items:
        if page and not fits(page + [item], len(pages)):
            pages.append(page)
            page = []
        page.append(item)
    if page or not pages:
        pages.append(page)
    return pages
