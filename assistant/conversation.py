"""Follow-ups: a turn that leans on the turns before is rewritten against them, so that the
subject, the measure, the period and the place carry over unless the new turn replaces them.

    resolve("En in 2023?", ["Hoeveel vacatures waren er in 2024 in Groningen?"], analyse)
    # Signals of "Hoeveel vacatures waren er in Groningen in 2023?" (carried: subject, place)

A turn is a follow-up when it is short and starts with a connective ("En ...", "Waarom ..."),
points back ("daarvan", "dat", "die") or names nothing but a period, a place or a form of answer
(word lists in the language file). Three-turn conversations resolve the middle turn first.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Callable, Sequence

from .lexicon import Lexicon
from .periods import find_periods, shifted
from .question import strip_connective
from .types import Signals

_ASKS_NO_FIGURE = ("reason", "who", "when", "where")  # forms whose answer is not the earlier turn's figure
_MAX_WORDS = 12  # a turn that only points back ("Hoeveel daarvan zijn vrouw?") is short
_MAX_WORDS_CONNECTIVE = 20  # one that starts "En ..." may say more


def is_follow_up(turn: Signals, lexicon: Lexicon, data_date) -> bool:
    low = turn.question.lower()
    words = low.split()
    if lexicon.phrases("question.follow_up_starts").search(low):
        return len(words) <= _MAX_WORDS_CONNECTIVE
    if len(words) > _MAX_WORDS:
        return False
    if turn.asks_definition and _own_subject(turn, lexicon):
        return False  # "Wat is dat precies, een onderbenutte deeltijder?" names what it asks about
    refs = set(lexicon.data.question.follow_up_refs)
    if any(w.strip("?,.!") in refs for w in words):
        return True
    return len(_own_subject(turn, lexicon)) <= 1 and len(words) <= 6


def _own_subject(turn: Signals, lexicon: Lexicon) -> frozenset[str]:
    """The turn's subject words, without its place, period and back-references."""
    refs = lexicon.terms(" ".join(lexicon.data.question.follow_up_refs))
    return turn.subject_terms - lexicon.terms(turn.place_text) - lexicon.terms(turn.period_text) - refs


def _replace_kind(text: str, turn: str, lexicon: Lexicon) -> str:
    """Drop from the earlier text each word of a kind (`[categories]`) the turn names anew."""
    for name in lexicon.data.categories:
        words = lexicon.category(name)
        said = {turn[a:b].lower() for a, b in words.spans(turn.lower())}
        if not said:
            continue
        for a, b in sorted(words.spans(text.lower()), reverse=True):
            if text[a:b].lower() not in said:  # with its preposition: "... in de zorg" + "in de ICT"
                text = _remove(re.sub(rf"(?i)\b{_PREPOSITION}$", "", text[:a]) + "\x00" + text[b:], "\x00")
    return text


_PREPOSITION = r"(?:(?:in|op|voor|van|over|bij|per|vanaf|sinds|tot)\s+(?:het\s+|de\s+)?)?"


def _remove(text: str, part: str) -> str:
    """`text` without `part` and the preposition before it ("... in 2024 in Groningen" - "2024")."""
    if not part:
        return text
    out = re.sub(rf"(?i)\b{_PREPOSITION}{re.escape(part)}", " ", text, count=1) if part[:1].isalnum() else text
    if out == text:
        out = text.replace(part, " ", 1)
    return re.sub(r"\s+([?.!,])", r"\1", re.sub(r"\s+", " ", out)).strip()


def _reversed(turn: str, earlier: str, lexicon: Lexicon) -> str:
    """The earlier question with its two places swapped, when the turn asks the other way round
    (`question.reversal`: "En andersom?"); else ""."""
    if not lexicon.phrases("question.reversal").search(strip_connective(turn, lexicon).lower().rstrip("?!. ")):
        return ""
    places = lexicon.places.find(earlier, question=True)
    if len(places) < 2:
        return ""
    a, b = places[0], places[1]
    return (
        earlier[: a.start]
        + earlier[b.start : b.end]
        + earlier[a.end : b.start]
        + earlier[a.start : a.end]
        + earlier[b.end :]
    )


def resolve(
    question: str, history: Sequence[str], analyse: Callable[[str], Signals], lexicon: Lexicon, data_date
) -> Signals:
    """The signals of `question` read in its conversation (`history`: the earlier questions, oldest first)."""
    turn = analyse(question)
    if not history or not is_follow_up(turn, lexicon, data_date):
        return turn
    prev = resolve(history[-1], history[:-1], analyse, lexicon, data_date)
    reversed_text = _reversed(turn.question, prev.text, lexicon)
    if reversed_text:  # "En andersom?" after "... van Groningen werken in Drenthe?"
        rewritten = analyse(reversed_text)
        return replace(
            rewritten, question=turn.question, follow_up=True, carried=("subject", "period"), query=rewritten.text
        )
    carried: list[str] = []
    core = strip_connective(turn.question, lexicon).rstrip("?").strip()
    period_text, period = turn.period_text, turn.period
    shift = next((m.shift for m in find_periods(turn.question, lexicon, data_date) if m.shift), 0)
    if shift and prev.period is not None:  # "En een jaar eerder?"
        period = shifted(prev.period, shift)
        period_text = period.label
        core = re.sub(r"\b(?:een|twee|het)\s+jaar\s+(?:eerder|daarvoor|later|daarna)\b", "", core).strip()
    # a question of its own after the connective ("En hoeveel mensen komen er uit Drenthe werken?"), not one
    # that points back ("En hoeveel daarvan zijn vrouw?"): only the place and period carry over
    own_question = (
        lexicon.phrases("question.interrogatives").search(core.lower())
        and bool(_own_subject(turn, lexicon))
        and not any(w.strip("?,.!") in set(lexicon.data.question.follow_up_refs) for w in core.lower().split())
    )
    own_measure = (
        bool(turn.measure) or turn.asks_definition and bool(turn.subject_terms - prev.subject_terms) or own_question
    )
    if own_measure:
        text = core
        if period is None and not turn.now and prev.period_text and (turn.asks_quantity or own_question):
            text += f" {prev.period_text}"
            carried.append("period")
        if not turn.place_explicit and prev.place_explicit:
            text += f" {prev.place_text}"
            carried.append("place")
    else:
        text = prev.text.rstrip("?").strip()
        if period is not None or turn.now:
            text = _remove(text, prev.period_text)
        elif prev.period_text:
            carried.append("period")
        if turn.place_explicit:
            text = _remove(text, prev.place_text)
        elif prev.place_explicit:
            carried.append("place")
        carried.insert(0, "subject")
        text = _replace_kind(text, core, lexicon)
        if shift and period is not None:
            core = f"{core} in {period_text}".strip()
        text = f"{text} {core}".strip()
    rewritten = analyse(text.rstrip("?") + "?")
    focus = turn.subject_terms - prev.subject_terms - lexicon.terms(turn.place_text) - lexicon.terms(period_text)
    overrides: dict = {
        "question": turn.question,
        "follow_up": True,
        "carried": tuple(carried),
        "focus": focus,
        "query": rewritten.text,
    }
    if turn.form:
        overrides["form"] = turn.form
    if lexicon.phrases("question.interrogatives").search(turn.question.lower()):
        # a question of its own kind ("Op welk beroepsniveau ...?" after "Hoeveel ...?")
        overrides.update(
            asks_quantity=turn.asks_quantity,
            asks_number=turn.asks_number,
            asks_definition=turn.asks_definition,
            form=turn.form,
            kind=turn.kind,
            measure=turn.measure,
        )
    if turn.form in _ASKS_NO_FIGURE or (turn.asks_definition and not turn.asks_quantity):
        # "Waarom is dat?" after a figure asks a reason, not the figure again
        overrides.update(asks_quantity=False, asks_number=False)
    if turn.forecast:
        overrides.update(
            forecast=True,
            forecast_worded=turn.forecast_worded,
            own_view=turn.own_view or prev.own_view,
            future_years=turn.future_years or rewritten.future_years,
        )
    elif turn.form in _ASKS_NO_FIGURE or turn.asks_definition:
        # "Hoe komt dat?" after a forecast asks for its causes, not for a forecast
        overrides.update(forecast=False, forecast_worded=False, own_view=False, future_years=frozenset())
    return replace(rewritten, **overrides)


__all__ = ["resolve", "is_follow_up"]
