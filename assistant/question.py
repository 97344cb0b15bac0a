"""What a question asks for: subject terms, asked-for quantity, years, definitions, and
whether it seeks a forecast, and whether it is personal or off-domain.
These signals drive the composer and the refusal guard; no rule names a test question.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from .text import STOPWORDS, content_terms, normalize, stem, tokens, words, years

# Words that mark a question as forward-looking. Matched on the lower-cased question.
_FORECAST_PATTERNS = [
    r"\bverwacht(?:en|te|ing|ingen)?\b",
    r"\bdenk(?:en|t)?\s+(?:je|jij|u)\b",
    r"\b(?:denken|verwachten|vrezen|voorzien)\b",
    r"\b(?:je|jij|u)\s+denk",
    r"\bvoorspel\w*",
    r"\binschat\w*|\bschat\s+(?:je|jij|u)\b",
    r"\bprognose\w*|\braming\w*|\bvooruitzicht\w*|\bverwachtingen\b",
    r"\bhoe\s+(?:zal|zullen|gaat|gaan)\b(?!\s+het\s+(?:met|nu)\b)",  # not "hoe gaat het met ...": the present
    r"\b(?:zal|zullen)\b",
    r"\bgaa?t?n?\s+(?:\w+\s+){0,6}(?:stijgen|dalen|groeien|krimpen|toenemen|afnemen|veranderen|ontwikkelen|verdwijnen|trekken|worden|halen|oplopen|verbeteren|verslechteren)\b",
    r"\bvolgend(?:e)?\s+(?:jaar|kwartaal|maand|decennium)\b",
    r"\bkomende\s+(?:jaren|jaar|periode|tijd|decennium|decennia|maanden|kwartalen)\b",
    r"\bde\s+komende\s+\w+\s+jaar\b",
    r"\bover\s+(?:een|twee|drie|vier|vijf|tien|\d+)\s+jaar\b",
    r"\btoekomst\w*\b",
    r"\bstraks\b|\bop termijn\b|\bblijf\w*\s+(?:\w+\s+){0,4}(?:groeien|stijgen|dalen)\b",
]
# The asker wants the assistant's own view: "denk je", "verwacht u", "jouw voorspelling".
_OWN_VIEW = re.compile(
    r"\b(?:denk|verwacht|voorspel|schat|vrees|voorzie)\w*\s+(?:je|jij|u)\b|"
    r"(?<!\bkun )(?<!\bkan )(?<!\bmag )(?<!\bmoet )\b(?:je|jij|u)\s+(?:denk|verwacht|voorspel|schat)\w*|"  # not "kun je verwachten"
    r"\b(?:jouw|uw)\s+(?:\w+\s+)?(?:voorspelling|verwachting|inschatting|prognose|mening|gevoel)\b|\bvolgens\s+(?:jou|u)\b"
)
# "na 2027", "later dan 2027": the horizon starts the year after.
_AFTER_YEAR = re.compile(r"\b(?:na|later\s+dan|voorbij)\s+(20\d\d)\b")
# Questions about a forecast rather than for one: who made it, what it rests on. Both a
# forecast noun and a who/what-source construction: "Wie heeft de prognose opgesteld?"
# ("Hoeveel banen worden er in 2030 gemaakt?" stays a forecast request).
_FORECAST_NOUN = re.compile(r"\b(?:prognose|raming|voorspelling|verwachting|groeiverwachting)\w*")
_ASKS_WHO = r"wie|door\s+wie|van\s+wie"
_SOURCE_NOUNS = r"bron|organisatie|instantie|partij|bureau"
_PROVENANCE = re.compile(
    rf"^\s*(?:{_ASKS_WHO}|welke\s+(?:{_SOURCE_NOUNS}|methode)\w*)\b|"
    r"\b(?:opgesteld|gemaakt|berekend|gebaseerd|afkomstig|uitgevoerd)\b"
)
# Dutch notations the sources write out: "Q2 2025" is "tweede kwartaal 2025" in the report.
_ORDINALS = {"1": "eerste", "2": "tweede", "3": "derde", "4": "vierde"}
_NOTATIONS = [
    (re.compile(r"\b[QqKk]([1-4])\b(?!-)"), lambda m: f"{_ORDINALS[m.group(1)]} kwartaal"),
    (re.compile(r"\b([1-4])(?:e|ste|de)\s+kwartaal\b", re.IGNORECASE), lambda m: f"{_ORDINALS[m.group(1)]} kwartaal"),
    (re.compile(r"\b[Hh]([12])(?=\s+20\d\d\b)"), lambda m: f"{_ORDINALS[m.group(1)]} helft"),  # not "H2-economie"
]


def expand_notation(question: str) -> str:
    """Write out quarter and half-year shorthands ("Q2", "2e kwartaal", "H1") the way the sources do."""
    for pattern, replacement in _NOTATIONS:
        question = pattern.sub(replacement, question)
    return question


_QUANTITY = re.compile(
    r"\bwat\s+(?:is|was|zijn|waren)\s+(?:de|het)\s+(?:\w+\s+)?\w*(?:werkloosheid|percentage|aantal|omvang|hoogte|niveau|groei|daling|stijging|loon|salaris|tarief|bedrag)\b|"
    r"\b(?:komen|zijn|werken|staan|hebben|gaan|wonen)\s+er\s+(?:\w+\s+)?veel\b|"
    r"percentage|\btarief|\bbedrag|\bhoeveel\b|\bhoe\s+(?:groot|hoog|laag|sterk|snel|vaak|lang|veel)\b|\bwelk(?:e)?\s+(?:percentage|aandeel|aantal|deel)\b|\bin\s+welke\s+mate\b|\bprocent\b|\baantal\b|\bomvang\b|\bcijfer"
)
_DEFINITION = re.compile(
    r"^\s*wat\s+(?:is|zijn|betekent|betekenen|bedoel\w*|verstaan|houdt|meet|doet|wordt\s+bedoeld)\b|"
    r"\bgedefinieerd\b|\bverstaat\b.*\bonder\b|\brekent\b.*\btot\b|\bstaat\b.*\bvoor\b.*\bafkorting\b|\bafkorting\b.*\bvoor\b|\bwanneer\s+(?:geldt|ben|is|heet|telt)\b|\bdefinitie\b|\bbegrip\b|\bwie\s+(?:zijn|is)\b|\bwat\s+(?:houdt|verstaat)\b"
)
# Not what labour-market reports answer, even where such a word occurs in them in passing:
# individual entitlements, pay, tax, law and procedures; how-do-I and may-I requests;
# general knowledge; and tasks ("schrijf ...") instead of questions.
_OFF_DOMAIN = re.compile(
    r"\b(?:cao\w*|\w+loon|\w*salaris\w*|verdien\w*|loonsverhoging|transitievergoeding|opzegtermijn|"
    r"vakantiedagen|vakantiegeld|(?:loon|inkomsten)?belasting(?:en)?|aow\w*|sollicitatie\w*|ontslag\w*|ontsla\w*|proeftijd|arbeidscontract|recht\s+op|"
    r"wettelijk\w*|aanvragen|aanvraag|vraag\s+ik|hoe\s+(?:zet|schrijf|regel|bereken|werkt|meld|meldt)\b|hoe\s+vraag\w*\s+(?:[\w'-]+\s+){0,6}aan\b|mag\s+(?:ik|mijn)\b|moet\s+ik\b|"
    r"hoofdstad|minister|burgemeester|recept\w*|weerbericht|voor\s+weer|regen|regent|regenbui\w*|droog|zonnig|temperatuur|"
    r"won|winnaar|kampioen\w*|verkiezing\w*)\b"
    r"|^\s*(?:schrijf|maak|geef|vertel|bedenk|vertaal|genereer)\b"
    # the asker's own pay, benefit, contract or employer: an individual case, not the labour market
    r"|\bmijn\s+(?:\w+\s+){0,2}(?:loon|salaris|uitkering|ww|contract|werkgever|baas|leidinggevende|pensioen)\b"
    r"|\b(?:kan|kun|krijg|mag)\s+(?:ik|u)\b(?:\s+[\w-]+){0,6}\s+(?:krijgen|ontvangen|aanvragen)\b"
)
# The form of the answer a question asks for; the composer prefers sentences of that form.
_ANSWER_FORMS = {
    "list": re.compile(
        r"\b(?:welke|in\s+welke|op\s+welke|voor\s+welke)\s+(?:\w+\s+)?(?:sectoren|beroepen|groepen|regio'?s|gemeenten|functies|taken|vaardigheden|maatregelen|oorzaken|onderdelen|branches|partijen|provincies|landen)\b"
    ),
    "reason": re.compile(
        r"\b(?:waarom|waardoor|hoe\s+komt\s+het|wat\s+(?:is|zijn)\s+(?:de\s+)?(?:oorzaak|oorzaken|reden|redenen))\b"
    ),
    "who": re.compile(rf"^\s*(?:{_ASKS_WHO}|welke\s+(?:{_SOURCE_NOUNS}))\b"),
    "when": re.compile(r"^\s*(?:wanneer|sinds\s+wanneer|vanaf\s+wanneer|in\s+welk\s+jaar|vanaf\s+welke\s+datum)\b"),
}
_ENGLISH_FORECAST = re.compile(r"\b(?:will|next\s+year|predict\w*|forecast\w*|expect\w*|future)\b")
_ENGLISH = {
    "the",
    "what",
    "is",
    "are",
    "how",
    "many",
    "does",
    "do",
    "which",
    "who",
    "of",
    "in",
    "will",
    "you",
    "and",
    "to",
    "for",
    "much",
    "capital",
    "there",
}
_DUTCH_MARKERS = {
    "de",
    "het",
    "een",
    "en",
    "van",
    "is",
    "zijn",
    "hoeveel",
    "wat",
    "welke",
    "hoe",
    "er",
    "in",
    "op",
    "voor",
    "met",
}
# After "hoeveel" ("het aantal"), words that say how much, not what is counted ("hoeveel hoger lag ...").
_NOT_COUNTED = {
    "procent",
    "keer",
    "hoger",
    "lager",
    "groter",
    "kleiner",
    "vaker",
    "sneller",
    "langer",
    "sterker",
    "is",
    "zijn",
    "was",
    "waren",
    "zal",
    "zullen",
    "gaat",
    "gaan",
    "kost",
    "kosten",
    "verdient",
    "bedraagt",
    "bedroeg",
    "telt",
    "telde",
    "heeft",
    "hebben",
    "had",
    "nam",
    "steeg",
    "daalde",
    "groeit",
    "groeide",
}
# Words in forecast questions that describe the asking, not the subject.
_ASKING = {
    stem(w)
    for w in "verwacht verwachting voorspel voorspelling inschatting denk prognose toekomst komend volgend jaar jaren straks termijn ontwikkel stijg dal groei gaan zal zullen blijft blijv".split()
}


@dataclass
class QuestionAnalysis:
    text: str
    terms: set[str]
    subject_terms: set[str]
    years: set[int]
    asks_quantity: bool
    asks_definition: bool
    forecast: bool
    english: bool
    future_years: set[int] = field(default_factory=set)
    answer_form: str = ""  # "list", "reason", "who", "when" (see _ANSWER_FORMS), or "" when not recognised
    forecast_worded: bool = False  # forecast words, not only a future year ("Wat is de AOW-leeftijd in 2028?")
    own_view: bool = False  # asks the assistant's own expectation ("denk je", "jouw voorspelling")
    personal: bool = False  # "ik", "mijn": a personal or procedural request
    entitlement: bool = False  # rights, pay, tax, law, procedures, general knowledge, tasks (see _OFF_DOMAIN)
    unit: set[str] = field(default_factory=set)  # what is counted: "hoeveel inwoners" -> {"inwoner"}
    focus: set[str] = field(default_factory=set)  # a follow-up's own terms ("En in de zorg?" -> {"zorg"})
    names: set[str] = field(default_factory=set)  # stems of capitalised words inside the question
    name_words: set[str] = field(default_factory=set)  # the same words, lower-cased, unstemmed


def analyse(question: str, data_year: int) -> QuestionAnalysis:
    """`data_year` is the newest publication year of the sources: later years are the future."""
    text = expand_notation(normalize(question))
    low = text.lower()
    ys = years(text)
    future = {y for y in ys if y > data_year}
    for after in map(int, _AFTER_YEAR.findall(low)):
        if after >= data_year:
            future = (future - {after}) | {after + 1}
    own_view = bool(_OWN_VIEW.search(low))
    worded = any(re.search(p, low) for p in _FORECAST_PATTERNS)
    if _FORECAST_NOUN.search(low) and _PROVENANCE.search(low):  # about a forecast, not for one
        forecast = own_view
    else:
        forecast = bool(future) or worded
    ws = words(text)
    english = (
        bool(ws)
        and sum(w in _ENGLISH for w in ws) >= max(2, len(ws) * 0.3)
        and sum(w in _DUTCH_MARKERS - {"is", "in"} for w in ws) == 0
    )
    terms = content_terms(text)
    if english:
        forecast = forecast or bool(_ENGLISH_FORECAST.search(low))
    counted = re.search(
        r"\b(?:hoeveel|het\s+aantal)\s+(?:(?:extra|nieuwe|meer|minder|openstaande)\s+)?([a-z][\w'-]+)", low
    )
    if counted and counted.group(1) in _NOT_COUNTED:
        counted = None
    inner = re.findall(r"(?<=[\w,] )([A-Z][\w-]+)", text)  # capitalised, not sentence-initial
    return QuestionAnalysis(
        unit=content_terms(counted.group(1).split("-")[-1]) if counted else set(),  # "WW-uitkeringen": uitkeringen
        entitlement=bool(_OFF_DOMAIN.search(low)),
        personal=bool(re.search(r"\b(?:ik|mijn|me|mij)\b", low)),
        names={t for w in inner for t in content_terms(w)},
        name_words={p.lower() for w in inner for p in w.split("-") if p[:1].isupper() and p.lower() not in STOPWORDS},
        text=text,
        terms=terms,
        subject_terms={t for t in terms if t not in _ASKING},
        years=ys,
        asks_quantity=bool(_QUANTITY.search(low)),
        asks_definition=bool(_DEFINITION.search(low)),
        forecast=forecast,
        answer_form=next((form for form, pattern in _ANSWER_FORMS.items() if pattern.search(low)), ""),
        forecast_worded=worded or own_view,
        own_view=own_view,
        english=english,
        future_years=future,
    )


PARTIAL = 0.7
COMPOUND_PART = 0.5
_MIN_PREFIX = 5


class TermWeights:
    """Inverse document frequency of stemmed terms over the indexed chunks.

    A term the corpus never uses gets the highest weight: a question that hinges on it
    cannot be answered from these sources.
    """

    def __init__(self, texts: list[str]):
        self.n = max(len(texts), 1)
        self.df = Counter(t for text in texts for t in set(tokens(text)))
        self.unknown = math.log(self.n + 1) + 1.0
        self._splits: dict[str, tuple[str, str] | None] = {}

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return self.unknown if df == 0 else math.log((self.n + 1) / (df + 0.5))

    def coverage(self, wanted: set[str], present: set[str]) -> float:
        """IDF-weighted share of `wanted` terms found in `present` (1.0 for no wanted terms),
        with partial credit from `match_strength`."""
        total = sum(self.idf(t) for t in wanted)
        if total == 0:
            return 1.0
        return sum(self.idf(t) * self.match_strength(t, present) for t in wanted) / total

    def match_strength(self, term: str, present: set[str]) -> float:
        """1 for an exact match. Dutch compounds rarely match exactly, so PARTIAL when the
        two share a long prefix (60% of the term, at least 5 letters) or one is a 5+ letter
        head of the other ("installatiebedrijf" ~ "installatietechniek"), and COMPOUND_PART
        when the term splits into two corpus words and either part is present
        ("bouwsector" ~ "bouw", "zorgberoep" ~ "beroep")."""
        if term in present:
            return 1.0
        if len(term) < _MIN_PREFIX or term.isdigit():
            return 0.0
        head = term[: max(_MIN_PREFIX, math.ceil(0.6 * len(term)))]
        for other in present:
            if other.startswith(head) or (len(other) >= _MIN_PREFIX and term.startswith(other)):
                return PARTIAL
        parts = self.split_compound(term)
        if parts and any(p in present for p in parts):
            return COMPOUND_PART
        return 0.0

    def split_compound(self, term: str) -> tuple[str, str] | None:
        """Split a compound into two words the corpus knows (linking -s- / -en- allowed)."""
        if term in self._splits:
            return self._splits[term]
        found = None
        for i in range(len(term) - 3, 2, -1):
            left, right = term[:i], term[i:]
            for link in ("", "s", "en"):
                if link and not left.endswith(link):
                    continue
                base = left[: len(left) - len(link)] if link else left
                if len(base) >= 3 and base in self.df and stem(right) in self.df:
                    found = (base, stem(right))
                    break
            if found:
                break
        self._splits[term] = found
        return found
