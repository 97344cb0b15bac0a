"""Dutch time expressions as normalised periods, and how an asked period relates to a stated one.

    find_periods("eind tweede kwartaal 2025", lexicon)   # [PeriodMention(2025-04-01..2025-06-30, quarter, end)]
    relation(asked, stated)                               # 1 inside, 0.5 overlapping, -1 another period

Every word comes from the language file (`[periods]`): months, ordinals, "kwartaal"/"helft", the
Q2/H1 shorthands, "eind"/"medio"/"begin"/"gemiddeld", "nu", "vorig jaar" and its kin, "sinds",
"na", "tot", "tussen ... en ...". Relative expressions are resolved against the data date: the
publication date of the newest source. StatLine period codes (2024KW02, 2024JJ00, 2024MM06) are
read too, as the statistics tables write them.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date

from .lexicon import Lexicon
from .types import Aspect, Period

_YEAR = r"(?:19[5-9]\d|20\d\d)"
FAR_FUTURE = date(2099, 12, 31)
_QUARTER_ORDINALS = ["eerste", "tweede", "derde", "vierde"]


@dataclass(frozen=True)
class PeriodMention:
    period: Period | None  # None for "nu" (now) and for shifts relative to an earlier turn
    start: int
    end: int
    now: bool = False
    shift: int = 0  # "een jaar eerder": years relative to the period of the turn before
    kind: str = ""  # which expression: quarter, qcode, month, relative, year, range, ...


def _alt(words) -> str:
    return "|".join(re.escape(w) for w in sorted({w.lower() for w in words}, key=len, reverse=True))


def _last_day(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def make_period(grain: str, year: int, n: int = 0, aspect: Aspect = "", months: list[str] | None = None) -> Period:
    """The period of a grain: a year, quarter n, half n or month n of `year`, with its Dutch label."""
    if grain == "quarter":
        start, end, label = (
            date(year, 3 * n - 2, 1),
            _last_day(year, 3 * n),
            f"{_QUARTER_ORDINALS[n - 1]} kwartaal {year}",
        )
    elif grain == "half":
        start, end, label = date(year, 6 * n - 5, 1), _last_day(year, 6 * n), f"{_QUARTER_ORDINALS[n - 1]} helft {year}"
    elif grain == "month":
        name = months[n - 1] if months else str(n)
        start, end, label = date(year, n, 1), _last_day(year, n), f"{name} {year}"
    else:
        start, end, label = date(year, 1, 1), date(year, 12, 31), str(year)
    prefix = {"end": "eind ", "mid": "medio ", "start": "begin ", "average": "gemiddeld "}.get(aspect, "")
    return Period(start, end, grain, aspect, prefix + label)


def year_range(first: int, last: int, label: str = "") -> Period:
    if first > last:
        first, last = last, first
    end = FAR_FUTURE if last >= FAR_FUTURE.year else date(last, 12, 31)
    return Period(date(first, 1, 1), end, "range", "", label or f"{first}-{last}")


def span(p: Period) -> tuple[date, date]:
    """The dates a period means once its aspect is applied: the end of a quarter is its last month,
    the middle of a year its June and July, the start of a year its January."""
    if p.aspect not in ("end", "mid", "start") or p.grain in ("day", "range"):
        return p.start, p.end
    if p.grain == "month":
        if p.aspect == "end":
            return date(p.end.year, p.end.month, max(1, p.end.day - 9)), p.end
        if p.aspect == "start":
            return p.start, date(p.start.year, p.start.month, 10)
        return date(p.start.year, p.start.month, 10), date(p.start.year, p.start.month, 20)
    months = (p.end.year - p.start.year) * 12 + p.end.month - p.start.month + 1
    if p.aspect == "end":
        m = p.end.month
        return date(p.end.year, m, 1), p.end
    if p.aspect == "start":
        return p.start, _last_day(p.start.year, p.start.month)
    mid = p.start.month + months // 2 - 1  # the middle month(s): June-July of a year, the 2nd month of a quarter
    last = mid + (1 if months % 2 == 0 and months > 3 else 0)
    return date(p.start.year, mid, 1), _last_day(p.start.year, min(12, last))


def relation(asked: Period | None, stated: Period | None) -> float:
    """1 when the stated period lies inside the asked one or contains it, 0.5 when they overlap,
    -1 when they are apart, 0 when either is unknown."""
    if asked is None or stated is None:
        return 0.0
    a0, a1 = span(asked)
    s0, s1 = span(stated)
    if s1 < a0 or a1 < s0:
        return -1.0
    if (a0 <= s0 and s1 <= a1) or (s0 <= a0 and a1 <= s1):
        return 1.0
    return 0.5


def distance_days(asked: Period, stated: Period) -> int:
    """Days between two periods (0 when they overlap): how near a figure is to the asked period."""
    a0, a1 = span(asked)
    s0, s1 = span(stated)
    if s1 < a0:
        return (a0 - s1).days
    if a1 < s0:
        return (s0 - a1).days
    return 0


def shifted(p: Period, years: int) -> Period:
    """The same period `years` later (earlier when negative): "en een jaar eerder?"."""
    if p.grain == "range":
        return year_range(p.start.year + years, min(p.end.year + years, FAR_FUTURE.year))
    n = {"quarter": (p.start.month + 2) // 3, "half": (p.start.month + 5) // 6, "month": p.start.month}.get(p.grain, 0)
    months = None
    if p.grain == "month":
        name = p.label.split()[-2] if len(p.label.split()) >= 2 else str(n)
        months = [name if i + 1 == n else str(i + 1) for i in range(12)]
    return make_period(p.grain, p.start.year + years, n, p.aspect, months)


class PeriodParser:
    """Finds time expressions in a text; built once per lexicon."""

    def __init__(self, lexicon: Lexicon):
        w = lexicon.data.periods
        self.months = [m.lower() for m in w.months]
        self.month_index = {m: i + 1 for i, m in enumerate(self.months)}
        self.month_index.update({a.lower(): i + 1 for i, a in enumerate(w.month_abbreviations)})
        self.ordinals = {k.lower(): v for k, v in w.ordinals.items()}
        self.aspects: dict[str, Aspect] = {}
        for aspect, phrases in (("end", w.end), ("mid", w.mid), ("start", w.start), ("average", w.average)):
            self.aspects.update({p.lower(): aspect for p in phrases})
        self.relative = {r.phrase.lower(): r.offset for r in w.relative_years}
        self.seasons = {k.lower(): (v[0], v[-1]) for k, v in w.seasons.items()}
        self.previous = {r.phrase.lower(): r.offset for r in w.previous_offsets}
        aspect = rf"(?:(?P<a>{_alt(self.aspects)})\s+(?:(?:het|de|van)\s+)*)?"
        month = rf"(?P<m>{_alt(self.month_index)})\.?"
        ordinal = rf"(?P<o>{_alt(self.ordinals)})"
        year_tail = rf"(?:\s+(?:van\s+|in\s+|uit\s+)?(?:het\s+jaar\s+)?(?P<y>{_YEAR}))?"
        qp, hp = _alt(w.quarter_prefixes), _alt(w.half_prefixes)
        b = r"(?<![\w-])"
        e = r"(?![\w])"
        self.patterns: list[tuple[str, re.Pattern]] = [
            ("code", re.compile(rf"{b}(?P<y>{_YEAR})(?P<c>kw|jj|mm|hj)(?P<n>\d\d){e}", re.I)),
            ("quarter", re.compile(rf"{b}{aspect}{ordinal}\s+(?:{_alt(w.quarter_words)}){year_tail}{e}", re.I)),
            ("half", re.compile(rf"{b}{aspect}{ordinal}\s+(?:{_alt(w.half_words)}){year_tail}{e}", re.I)),
            ("qcode", re.compile(rf"{b}{aspect}(?P<p>{qp})(?P<n>[1-4]){year_tail}{e}", re.I)),
            ("qcode", re.compile(rf"{b}{aspect}(?P<y>{_YEAR})[-\s]?(?P<p>{qp})(?P<n>[1-4]){e}", re.I)),
            ("hcode", re.compile(rf"{b}{aspect}(?P<p>{hp})(?P<n>[12])(?:\s+(?P<y>{_YEAR})){e}", re.I)),
            (
                "monthrange",
                re.compile(
                    rf"{b}(?:(?:{_alt(w.between)}|de\s+maanden)\s+)?(?P<m1>{_alt(self.month_index)})\.?(?:\s+(?P<y1>{_YEAR}))?"
                    rf"\s*(?:{_alt(w.range_joiners)})\s*(?P<m2>{_alt(self.month_index)})\.?\s+(?P<y2>{_YEAR}){e}",
                    re.I,
                ),
            ),
            (
                "season",
                re.compile(
                    rf"{b}(?:rond\s+|in\s+|tijdens\s+)?(?:de\s+|het\s+)?(?P<s>{_alt(w.seasons)})"
                    rf"(?:\s+(?:van\s+)?(?P<y>{_YEAR}))?{e}",
                    re.I,
                ),
            ),
            ("month", re.compile(rf"{b}{aspect}(?:(?P<d>\d{{1,2}})\s+)?{month}(?:\s+(?P<y>{_YEAR}))?{e}", re.I)),
            (
                "range",
                re.compile(
                    rf"{b}(?:(?P<s>{_alt(w.between)})\s+)?(?:het\s+jaar\s+)?(?P<y1>{_YEAR})\s*(?:{_alt(w.range_joiners)})\s*"
                    rf"(?P<y2>{_YEAR}){e}",
                    re.I,
                ),
            ),
            ("since", re.compile(rf"{b}(?P<s>{_alt(w.since)})\s+(?:het\s+jaar\s+)?(?P<y>{_YEAR}){e}", re.I)),
            ("after", re.compile(rf"{b}(?P<s>{_alt(w.after)})\s+(?P<y>{_YEAR}){e}", re.I)),
            ("until", re.compile(rf"{b}(?P<s>{_alt(w.until)})\s+(?P<y>{_YEAR}){e}", re.I)),
            ("before", re.compile(rf"{b}(?P<s>{_alt(w.before)})\s+(?P<y>{_YEAR}){e}", re.I)),
            ("relative", re.compile(rf"{b}{aspect}(?:het\s+)?(?P<r>{_alt(self.relative)}){e}", re.I)),
            ("previous", re.compile(rf"{b}(?P<r>{_alt(self.previous)}){e}", re.I)),
            ("now", re.compile(rf"{b}(?:{_alt(w.now)}){e}", re.I)),
            ("year", re.compile(rf"{b}{aspect}(?:(?:het\s+)?jaar\s+)?(?P<y>{_YEAR}){e}(?![.,]\d|\s*%)", re.I)),
        ]
        self.number_words = {k.lower(): v for k, v in w.number_words.items()}
        count = rf"(?P<n>\d{{1,2}}|{_alt(self.number_words)})"
        # "de komende vijf jaar": the years from the data date on; "de afgelopen tien jaar": up to it
        for kind, phrases in (("coming", w.coming_years), ("past", w.past_years)):
            for phrase in phrases:
                body = r"\s+".join(count if t == "{n}" else re.escape(t) for t in phrase.lower().split())
                self.patterns.append((kind, re.compile(rf"{b}{body}{e}", re.I)))

    def find(self, text: str, data_date: date, infer_year: bool = True) -> list[PeriodMention]:
        """Non-overlapping time expressions of `text`, longest first. A month or quarter without a
        year takes a year of the same text, else (`infer_year`, for questions) the latest one not
        after the data date; in a source sentence without a year it stays unread."""
        found: list[PeriodMention] = []
        text_years = [(m.start(), int(m.group(0))) for m in re.finditer(rf"(?<![\w.,]){_YEAR}(?![\w])", text)]
        for kind, pattern in self.patterns:
            for m in pattern.finditer(text):
                mention = self._mention(kind, m, data_date, text_years, infer_year)
                if mention is not None:
                    found.append(replace(mention, kind=kind))
        found.sort(key=lambda x: (-(x.end - x.start), x.start))
        chosen: list[PeriodMention] = []
        for f in found:
            if all(f.end <= c.start or f.start >= c.end for c in chosen):
                chosen.append(f)
        return sorted(chosen, key=lambda x: x.start)

    def _mention(self, kind, m, data_date, text_years, infer_year) -> PeriodMention | None:
        g = m.groupdict()
        aspect: Aspect = self.aspects.get((g.get("a") or "").lower(), "")
        start, end = m.span()
        if kind == "now":
            return PeriodMention(None, start, end, now=True)
        if kind == "previous":
            return PeriodMention(None, start, end, shift=self.previous[g["r"].lower()])
        if kind == "relative":
            year = data_date.year + self.relative[g["r"].lower()]
            return PeriodMention(make_period("year", year, 0, aspect), start, end)
        if kind == "range":
            return PeriodMention(year_range(int(g["y1"]), int(g["y2"])), start, end)
        if kind == "monthrange":
            m1, m2 = self.month_index[g["m1"].lower()], self.month_index[g["m2"].lower()]
            y2 = int(g["y2"])
            y1 = int(g["y1"]) if g.get("y1") else (y2 if m1 <= m2 else y2 - 1)
            first, last = date(y1, m1, 1), _last_day(y2, m2)
            if first > last:
                return None
            label = f"{self.months[m1 - 1]} {y1} t/m {self.months[m2 - 1]} {y2}"
            return PeriodMention(Period(first, last, "range", "", label), start, end)
        if kind == "since":
            first = int(g["y"])
            return PeriodMention(year_range(first, max(first, data_date.year), f"sinds {first}"), start, end)
        if kind == "after":
            first = int(g["y"]) + 1
            return PeriodMention(year_range(first, FAR_FUTURE.year, f"na {first - 1}"), start, end)
        if kind in ("coming", "past"):
            n = g["n"].lower()
            years = int(n) if n.isdigit() else self.number_words[n]
            now = data_date.year
            span = (
                (now, now + years, f"tot {now + years}")
                if kind == "coming"
                else (now - years, now, f"{now - years}-{now}")
            )
            return PeriodMention(year_range(*span), start, end)
        if kind == "before":
            last = int(g["y"]) - 1
            return PeriodMention(year_range(last - 4, last, f"vóór {last + 1}"), start, end)
        if kind == "until":
            last = int(g["y"])
            return PeriodMention(year_range(min(last, data_date.year), last, f"tot {last}"), start, end)
        if kind == "code":
            year, code, n = int(g["y"]), g["c"].lower(), int(g["n"])
            grain, n = {"kw": ("quarter", n), "jj": ("year", 0), "mm": ("month", n), "hj": ("half", n)}[code]
            if (grain == "quarter" and not 1 <= n <= 4) or (grain == "month" and not 1 <= n <= 12):
                return None
            if grain == "half" and not 1 <= n <= 2:
                return None
            return PeriodMention(make_period(grain, year, n, "", self.months), start, end)
        if kind == "year":
            return PeriodMention(make_period("year", int(g["y"]), 0, aspect), start, end)
        if kind == "season":
            word = g["s"].lower()
            first, last = self.seasons[word]
            year = (
                int(g["y"]) if g.get("y") else self._year_for(start, "month", last, data_date, text_years, infer_year)
            )
            if year is None:
                return None
            label = f"{word} {year}"
            return PeriodMention(Period(date(year, first, 1), _last_day(year, last), "range", "", label), start, end)
        grain = {"quarter": "quarter", "qcode": "quarter", "half": "half", "hcode": "half", "month": "month"}[kind]
        n = (
            (self.ordinals[g["o"].lower()] if g.get("o") else int(g["n"]))
            if grain != "month"
            else self.month_index[g["m"].lower()]
        )
        if grain == "half" and n > 2:
            return None
        year = int(g["y"]) if g.get("y") else self._year_for(start, grain, n, data_date, text_years, infer_year)
        if year is None:
            return None
        return PeriodMention(make_period(grain, year, n, aspect, self.months), start, end)

    @staticmethod
    def _year_for(pos, grain, n, data_date, text_years, infer_year) -> int | None:
        if text_years:
            return min(text_years, key=lambda y: abs(y[0] - pos))[1]
        if not infer_year:
            return None
        month = {"quarter": 3 * n - 2, "half": 6 * n - 5}.get(grain, n)
        return data_date.year if date(data_date.year, month, 1) <= data_date else data_date.year - 1


def reference_markers(lexicon: Lexicon) -> re.Pattern:
    """Words right before a period that make it a point of comparison ("dan in 2019", "verhoudt zich
    tot 2019"), matched at the end of the text before the period."""
    words = sorted(lexicon.data.periods.reference_markers, key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(re.escape(w.lower()) for w in words) + r")\s*$")


def is_reference(text: str, mention: PeriodMention, markers: re.Pattern) -> bool:
    return bool(markers.search(text[max(0, mention.start - 24) : mention.start].lower()))


_cache: dict[str, PeriodParser] = {}


def parser_for(lexicon: Lexicon) -> PeriodParser:
    if lexicon.digest not in _cache:
        _cache[lexicon.digest] = PeriodParser(lexicon)
    return _cache[lexicon.digest]


def find_periods(text: str, lexicon: Lexicon, data_date: date, infer_year: bool = True) -> list[PeriodMention]:
    return parser_for(lexicon).find(text, data_date, infer_year)


__all__ = [
    "reference_markers",
    "is_reference",
    "PeriodMention",
    "PeriodParser",
    "find_periods",
    "relation",
    "distance_days",
    "span",
    "shifted",
    "make_period",
    "year_range",
]
