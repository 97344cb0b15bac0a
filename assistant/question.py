"""What a question asks (`Signals`): subject terms, what is counted, period and place, the form of
answer, forecast intent versus questions about a forecast, own-view, personal and off-domain
requests. Every word comes from the language file; the rules here are general: a phrase list
matches or not, the counted noun follows a quantity cue, a capitalised word inside the question
is a name.

    signals = analyse("Hoeveel WW'ers waren er medio 2025 bij ons?", lexicon, date(2025, 11, 1))
"""

from __future__ import annotations

import re
from datetime import date

from .lexicon import Lexicon
from .periods import PeriodMention, find_periods, is_reference, reference_markers, relation
from .text import normalize, stem, words, years
from .types import Signals

FORMS = ("list", "reason", "who", "when", "where")  # forms of answer a question may ask (`question.<form>` phrases)


def strip_connective(text: str, lexicon: Lexicon) -> str:
    """A turn without its leading connective (`question.connectives`: "En in de zorg?" -> "in de zorg?")."""
    words = "|".join(re.escape(w) for w in lexicon.data.question.connectives)
    return re.sub(rf"^\s*(?:{words})\s+", "", text, flags=re.IGNORECASE) if words else text


_INNER_NAME = re.compile(r"(?<=[\w,] )([A-Z][\w-]+)")  # capitalised, not sentence-initial


def analyse(question: str, lexicon: Lexicon, data_date: date) -> Signals:
    """`data_date` is the newest source's publication date: later years are the future, and
    "vorig jaar" is the year before it."""
    text = normalize(question)
    # Relative years, then shorthands and periods without a year, are written out as the sources
    # write them ("vorig jaar" -> "2024", "Q2" -> "tweede kwartaal 2024", "eind juni" -> "eind juni
    # 2025"); the second pass sees the year the first wrote.
    for kinds in (("relative",), ("qcode", "hcode", "quarter", "half", "month")):
        for m in sorted(find_periods(text, lexicon, data_date), key=lambda m: -m.start):
            yearless = not re.search(r"\d{4}", text[m.start : m.end])
            if m.period and m.kind in kinds and (m.kind in ("relative", "qcode", "hcode") or yearless):
                text = text[: m.start] + m.period.label + text[m.end :]
    markers = reference_markers(lexicon)
    mentions = find_periods(text, lexicon, data_date)
    dated = [m for m in mentions if m.period and not is_reference(text, m, markers)]  # not "dan in 2019"
    compared = [m for m in mentions if m.period and is_reference(text, m, markers)]
    main = _narrowest(dated)
    low = text.lower()
    data_year = data_date.year

    ys = years(text)
    future = {y for y in ys if y > data_year}
    for m in dated:
        if m.kind == "after" and m.period.start.year - 1 >= data_year:
            future = (future - {m.period.start.year - 1}) | {m.period.start.year}
        elif m.kind in ("relative", "coming") and m.period.end.year > data_year:
            future.add(m.period.end.year)

    ph = lexicon.phrases
    own_view = ph("forecast.own_view").search(ph("forecast.own_view_exceptions").remove(low))
    asked = ph("forecast.question_exceptions").remove(low)
    worded = ph("forecast.words").search(asked) or ph("forecast.question_cues").search(asked)
    if ph("forecast.nouns").search(low) and ph("forecast.provenance").search(low):
        forecast = own_view  # about a forecast ("wie heeft de prognose opgesteld?"), not for one
    else:
        forecast = bool(future) or worded
    ws = words(text)
    eng = lexicon.data.english
    english = (
        bool(ws)
        and sum(w in eng.words for w in ws) >= max(2, len(ws) * 0.3)
        and sum(w in set(eng.dutch_markers) for w in ws) == 0
    )
    if english:
        forecast = forecast or ph("english.forecast").search(low)

    terms = lexicon.terms(text)
    asking = {stem(w) for w in lexicon.data.forecast.asking}
    places = lexicon.places.find(text, question=True)
    inner = _INNER_NAME.findall(text)
    asked = strip_connective(low, lexicon)  # "en waar zit het?" asks where, as "waar zit het?" does
    form = next((f for f in FORMS if ph(f"question.{f}").search(asked)), "")
    if form == "when" and ph("question.condition").search(asked):
        form = ""  # what makes one so, not when
    measure = counted(text, lexicon)
    if ph("question.percent_cues").search(low):
        kind = "percent"
    elif measure and ph("question.count_cues").search(low):
        kind = "count"  # "hoeveel vacatures": a number of them ("hoeveel groeit" says nothing of the kind)
    else:
        kind = "percent" if ph("question.rate_nouns").search(low) and not measure else ""
    named = [m.place for m in places]
    return Signals(
        question=normalize(question),
        text=text,
        # retrieval reads the question as asked: written-out periods ("tweede kwartaal 2025") add words
        # that half the passages share, and ranked the gold passage lower on the development sets
        query=normalize(question),
        terms=terms,
        subject_terms=frozenset(t for t in terms if t not in asking),
        measure=measure,
        asks_quantity=ph("question.quantity").search(low),
        asks_number=ph("question.number_cues").search(low) and form in ("", "when"),
        kind=kind,
        asks_definition=ph("question.definition").search(low),
        form=form,
        period=main.period if main else None,
        period_text=text[main.start : main.end] if main else "",
        compare_years=frozenset(y for m in compared for y in range(m.period.start.year, m.period.end.year + 1)),
        now=any(m.now for m in mentions) and not dated,
        place=places[0].place if places else lexicon.places.home,
        place_text=text[places[0].start : places[0].end] if places else "",
        place_explicit=bool(places),
        place_terms=frozenset(t for m in places for t in lexicon.terms(text[m.start : m.end])),
        other_places=tuple(dict.fromkeys(p for p in named[1:] if lexicon.places.relation(named[0], p) < 0.5)),
        years=frozenset(ys),
        future_years=frozenset(future),
        forecast=bool(forecast),
        forecast_worded=bool(worded or own_view),
        own_view=bool(own_view),
        personal=any(w in set(lexicon.data.question.personal) for w in ws),
        off_domain=ph("question.off_domain").search(low),
        english=english,
        names=frozenset(t for w in inner for t in lexicon.terms(w)),
        name_words=frozenset(
            p.lower() for w in inner for p in w.split("-") if p[:1].isupper() and p.lower() not in lexicon.stopwords
        ),
    )


def _narrowest(dated: list[PeriodMention]) -> PeriodMention | None:
    """The asked period: of periods that lie inside one another ("in 2024, in het tweede kwartaal"),
    the narrowest; otherwise the first named."""
    if not dated:
        return None
    inner = [m for m in dated if all(relation(o.period, m.period) == 1.0 for o in dated)]
    return min(inner, key=lambda m: m.period.end - m.period.start) if inner else dated[0]


def counted(text: str, lexicon: Lexicon) -> frozenset[str]:
    """What a quantity question counts: the noun after "hoeveel" / "het aantal" ("hoeveel inwoners" ->
    {"inwoner"}); of a compound written with a hyphen its head ("WW-uitkeringen" -> uitkeringen)."""
    folded = lexicon.fold(text)
    cue = lexicon.phrases("question.counted_after")
    how_much, skip = set(lexicon.data.question.not_counted), set(lexicon.data.question.counted_modifiers)
    refs = set(lexicon.data.question.follow_up_refs)
    for _, end in cue.spans(folded):
        following = re.findall(r"[\w'-]+", folded[end:])[:5]
        for i, word in enumerate(following):
            if word in skip or word in refs:
                continue
            if word in how_much:
                if i and following[i - 1] in refs:
                    continue  # "hoeveel daarvan zijn vrouw": what follows is counted
                return frozenset()  # "hoeveel hoger"
            if lexicon.places.find(word):
                continue  # "hoeveel Groningers": the people of a place, not what is counted
            after = following[i + 1] if i + 1 < len(following) else ""
            if _adjective(word) and after and after not in how_much and after not in lexicon.stopwords:
                continue  # "het aantal ontstane vacatures": the noun follows its adjective
            head = word.split("-")[-1]  # of a hyphenated compound its head: "ICT-vacatures" counts vacatures
            return frozenset(lexicon.terms(head))
        return frozenset()
    return frozenset()


def _adjective(word: str) -> bool:
    """A Dutch attributive adjective before its noun ends in -e ("ontstane", "werkloze", "oudere")."""
    return len(word) > 3 and word.endswith("e") and not word.endswith("ee") and not word.startswith("syn_")


__all__ = ["analyse", "counted"]
