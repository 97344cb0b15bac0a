"""The language file (`corpus/lexicon.toml`): validated, compiled, and handed to every stage.

    lexicon = Lexicon.load(settings.lexicon_file)
    lexicon.phrases("forecast.words").search("hoeveel banen verwacht uwv?")   # True
    lexicon.terms("Hoeveel WW'ers telt Groningen?")                          # synonyms folded

Phrase lists are compiled by one function (`compile_phrases`, syntax in the file's header), so the
file holds every word the assistant reads questions and sentences with and the code holds none.
Synonym groups are folded to one token per group before terms are compared or searched.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ConfigError
from .text import STOPWORDS_BASE, content_terms, normalize, stem, tokens

if TYPE_CHECKING:
    from .places import Gazetteer

PlaceKind = Literal["region", "province", "subregion", "municipality", "ambiguous", "country", "union"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Terms(_Strict):
    synonyms: list[list[str]] = Field(default_factory=list)
    stopwords: list[str] = Field(default_factory=list)

    @field_validator("synonyms")
    @classmethod
    def _groups(cls, groups: list[list[str]]) -> list[list[str]]:
        seen: dict[str, int] = {}
        for i, group in enumerate(groups):
            if len(group) < 2:
                raise ValueError(f"group {i + 1} ({group}) needs at least two forms")
            for form in group:
                key = normalize(form).lower()
                if key in seen and seen[key] != i:
                    raise ValueError(f"{form!r} stands in groups {seen[key] + 1} and {i + 1}; a form belongs to one")
                seen[key] = i
        return groups


class Numbers(_Strict):
    label_before: list[str]
    label_after: list[str]
    age_words: list[str]
    age_before: list[str]
    words: dict[str, float]
    scales: dict[str, int]
    percent: list[str]
    amount: list[str]


class RelativeYear(_Strict):
    phrase: str
    offset: int = Field(ge=-10, le=10)


class Periods(_Strict):
    months: list[str] = Field(min_length=12, max_length=12)
    month_abbreviations: list[str] = Field(min_length=12, max_length=12)
    ordinals: dict[str, int]
    quarter_words: list[str]
    half_words: list[str]
    quarter_prefixes: list[str]
    half_prefixes: list[str]
    end: list[str]
    mid: list[str]
    start: list[str]
    average: list[str]
    now: list[str]
    relative_years: list[RelativeYear]
    previous_offsets: list[RelativeYear]
    reference_markers: list[str]
    since: list[str]
    after: list[str]
    until: list[str]
    before: list[str]
    coming_years: list[str]
    past_years: list[str] = Field(default_factory=list)
    seasons: dict[str, list[int]] = Field(default_factory=dict)  # "zomer" -> [first month, last month]
    number_words: dict[str, int]
    between: list[str]
    range_joiners: list[str]

    @field_validator("ordinals")
    @classmethod
    def _ordinals(cls, v: dict[str, int]) -> dict[str, int]:
        bad = {k: n for k, n in v.items() if not 1 <= n <= 4}
        if bad:
            raise ValueError(f"ordinals must be 1-4 (quarters, halves): {bad}")
        return v


class PlaceEntry(_Strict):
    name: str
    kind: PlaceKind
    aliases: list[str] = Field(min_length=1)
    group: str = ""
    parts: list[str] = Field(default_factory=list)


class Places(_Strict):
    home: str
    country: str = ""  # the home country: its figures stand nearest for any place inside it
    home_aliases: list[str]
    question_aliases: dict[str, str] = Field(default_factory=dict)
    place: list[PlaceEntry]


class Forecast(_Strict):
    words: list[str]
    question_cues: list[str]
    question_exceptions: list[str]
    own_view: list[str]
    own_view_exceptions: list[str]
    nouns: list[str]
    provenance: list[str]
    asking: list[str]


class Question(_Strict):
    quantity: list[str]
    number_cues: list[str]
    percent_cues: list[str]
    rate_nouns: list[str]
    count_cues: list[str]
    not_counted: list[str]
    counted_modifiers: list[str]
    counted_after: list[str]
    definition: list[str]
    list: list[str]
    reason: list[str]
    who: list[str]
    when: list[str]
    where: list[str] = Field(default_factory=list)
    condition: list[str] = Field(default_factory=list)
    personal: list[str]
    off_domain: list[str]
    follow_up_starts: list[str]
    connectives: list[str] = Field(default_factory=list)
    reversal: list[str] = Field(default_factory=list)
    follow_up_refs: list[str]
    interrogatives: list[str]


class Sentences(_Strict):
    anaphora_starts: list[str]
    anaphora_weak: list[str]
    anaphora_inner: list[str] = Field(default_factory=list)
    reason: list[str]
    who: list[str]
    definition: list[str] = Field(default_factory=list)
    boilerplate: list[str]
    definition_sections: list[str]
    boilerplate_sections: list[str]
    speech_verbs: list[str]
    # a table column that counts the row's own group ("aantal personen"): the row is named as what is counted
    counted_rows: list[str] = Field(default_factory=list)


class English(_Strict):
    words: list[str]
    dutch_markers: list[str]
    forecast: list[str]


class VerifierWords(_Strict):
    # advice or an opinion of the writer's own: a generated sentence with one is dropped unless its source says it
    advice: list[str] = Field(default_factory=list)


class LexiconData(_Strict):
    version: str
    categories: dict[str, list[str]] = Field(default_factory=dict)
    terms: Terms
    numbers: Numbers
    periods: Periods
    places: Places
    forecast: Forecast
    question: Question
    sentences: Sentences
    english: English
    verifier: VerifierWords = VerifierWords()


# ------------------------------------------------------------------ phrases

_WORDCHARS = r"[\w'&-]"
_NUMBER_WORDS = "een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien"


def _token(tok: str) -> str:
    if tok == "~":
        return rf"{_WORDCHARS}+"
    if tok == "{year}":
        return r"(?:19[5-9]\d|20\d\d)"
    if tok == "{n}":
        return rf"(?:\d+|{_NUMBER_WORDS})"
    alternatives = []
    for alt in tok.split("|"):
        core = re.escape(alt.strip("*"))
        alternatives.append(
            ("[\\w'-]*" if alt.startswith("*") else "") + core + ("[\\w'-]*" if alt.endswith("*") else "")
        )
    return "(?:" + "|".join(alternatives) + ")"


def compile_phrase(phrase: str) -> str:
    """One phrase of the file's syntax as a regular expression (over lower-cased, normalised text)."""
    text = normalize(phrase).lower()
    anchored = text.startswith("^")
    words = text.lstrip("^").split()
    if not words or all(w in ("…", "...") for w in words):
        raise ValueError(f"empty phrase {phrase!r}")
    out, gap = [], False
    for w in words:
        if w in ("…", "..."):
            gap = True
            continue
        if out:
            out.append(rf"\s+(?:{_WORDCHARS}+\s+){{0,6}}?" if gap else r"\s+")
        out.append(_token(w))
        gap = False
    body = "".join(out)
    return (r"^\s*" if anchored else r"(?<![\w'])") + body + r"(?![\w'])"


@dataclass(frozen=True)
class PhraseSet:
    """A compiled phrase list: `search`, `spans` and `remove` on lower-cased normalised text."""

    name: str
    pattern: re.Pattern | None

    def search(self, text: str) -> bool:
        return bool(self.pattern and self.pattern.search(text))

    def spans(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in self.pattern.finditer(text)] if self.pattern else []

    def remove(self, text: str) -> str:
        return self.pattern.sub(" ", text) if self.pattern else text


def compile_phrases(name: str, phrases: list[str]) -> PhraseSet:
    if not phrases:
        return PhraseSet(name, None)
    try:
        parts = sorted((compile_phrase(p) for p in phrases), key=len, reverse=True)
        return PhraseSet(name, re.compile("|".join(parts)))
    except (ValueError, re.error) as exc:
        raise ConfigError(f"Language file: phrase list {name}: {exc}") from exc


# ------------------------------------------------------------------ the lexicon


class Lexicon:
    """The validated language file with compiled phrase lists, synonym folding and the place gazetteer."""

    def __init__(self, data: LexiconData, digest: str, source: str = "<memory>"):
        self.data = data
        self.digest = digest
        self.source = source
        self._phrases: dict[str, PhraseSet] = {}
        self.stopwords = STOPWORDS_BASE | {normalize(w).lower() for w in data.terms.stopwords}
        forms: dict[str, str] = {}
        loose: dict[str, str] = {}
        for group in data.terms.synonyms:
            token = "syn_" + re.sub(r"\W+", "_", normalize(group[0]).lower()).strip("_")
            for form in group:
                key = normalize(form).lower()
                forms[key] = token
                # "zzp'ers" as advisors also type it: "zzpers", "zzp-ers", "zzp ers"
                loose.update((key.replace("'", sep), token) for sep in ("", "-", " ") if "'" in key)
        self.synonym_token = loose | forms  # a form the file writes wins
        alternatives = sorted(self.synonym_token, key=len, reverse=True)
        self._synonyms = (
            # a hyphen bounds a form too: "ICT-werkgelegenheid" holds "werkgelegenheid"
            re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(f) for f in alternatives) + r")(?![\w'])")
            if alternatives
            else None
        )

    @classmethod
    def load(cls, path: Path) -> "Lexicon":
        if not path.exists():
            raise ConfigError(f"No language file at {path}; restore corpus/lexicon.toml from the repository.")
        raw = path.read_bytes()
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from exc
        try:
            model = LexiconData(**data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"{path}: {where}: {first['msg']}") from exc
        lexicon = cls(model, hashlib.sha256(raw).hexdigest()[:12], str(path))
        lexicon.check()
        return lexicon

    def check(self) -> None:
        """Compile every phrase list and check the gazetteer, so a bad edit fails at start-up, not at a question."""
        for name in self.data.categories:
            self.category(name)
        for section in ("forecast", "question", "sentences", "english"):
            for name, value in getattr(self.data, section):
                if isinstance(value, list) and value and isinstance(value[0], str):
                    self.phrases(f"{section}.{name}")
        names = {p.name for p in self.data.places.place}
        if self.data.places.home not in names:
            raise ConfigError(f"{self.source}: places.home {self.data.places.home!r} is not a listed place.")
        if self.data.places.country and self.data.places.country not in names:
            raise ConfigError(f"{self.source}: places.country {self.data.places.country!r} is not a listed place.")
        unknown = {a: n for a, n in self.data.places.question_aliases.items() if n not in names}
        if unknown:
            raise ConfigError(f"{self.source}: places.question_aliases name places that are not listed: {unknown}")
        for p in self.data.places.place:
            missing = [x for x in p.parts if x not in names]
            if missing:
                raise ConfigError(f"{self.source}: place {p.name!r} has parts that are not listed places: {missing}")

    def phrases(self, dotted: str) -> PhraseSet:
        """The compiled phrase list at a dotted path of the file ("forecast.words")."""
        if dotted not in self._phrases:
            section, _, name = dotted.partition(".")
            values = getattr(getattr(self.data, section), name)
            self._phrases[dotted] = compile_phrases(dotted, values)
        return self._phrases[dotted]

    @cached_property
    def words(self) -> frozenset[str]:
        """Every word the language file names (never read as a typing error)."""
        found: set[str] = set()

        def walk(value) -> None:
            if isinstance(value, str):
                found.update(re.findall(r"[a-zà-ÿ]+", normalize(value).lower()))
            elif isinstance(value, dict):
                for k, v in value.items():
                    walk(k)
                    walk(v)
            elif isinstance(value, (list, tuple)):
                for v in value:
                    walk(v)

        walk(self.data.model_dump())
        return frozenset(found)

    @cached_property
    def stem_aliases(self) -> dict[str, str]:
        """Stem of each one-word synonym form -> the stem of its group's token ("vacatur" -> "syn_vacatur")."""
        return {stem(form): stem(token) for form, token in self.synonym_token.items() if " " not in form}

    def category(self, name: str) -> PhraseSet:
        """The words of one kind (`[categories]`: sectors, groups), as a phrase set."""
        key = f"categories.{name}"
        if key not in self._phrases:
            self._phrases[key] = compile_phrases(key, self.data.categories[name])
        return self._phrases[key]

    def fold(self, text: str) -> str:
        """Lower-cased normalised text with every synonym replaced by its group's token."""
        low = normalize(text).lower()
        return self._synonyms.sub(lambda m: self.synonym_token[m.group(0)], low) if self._synonyms else low

    @cached_property
    def _spellings(self) -> tuple[re.Pattern[str], dict[str, str]]:
        """Every synonym form written with capitals or a hyphen, found whatever its case and with a
        space or underscore for the hyphen ("ww_uitkeringen" -> "WW-uitkeringen")."""
        forms = {_loose(f): f for group in self.data.terms.synonyms for f in group if f != f.lower() or "-" in f}
        if not forms:
            return re.compile(r"(?!)"), {}
        alternatives = sorted(forms, key=len, reverse=True)
        pattern = r"\b(?:" + "|".join(re.escape(a).replace("\\-", "[-_ ]") for a in alternatives) + r")\b"
        return re.compile(pattern, re.IGNORECASE), forms

    def spell(self, text: str) -> str:
        """A column or label name with the field's terms spelled as the language file writes them."""
        pattern, forms = self._spellings
        return pattern.sub(lambda m: forms.get(_loose(m.group(0)), m.group(0)), text)

    def terms(self, text: str) -> frozenset[str]:
        """Stemmed content words of a text, synonyms folded (numbers excluded)."""
        return _terms(self, text)

    def tokens(self, text: str) -> list[str]:
        """BM25 tokens of a text, synonyms folded."""
        return tokens(self.fold(text), self.stopwords)

    @cached_property
    def places(self) -> "Gazetteer":
        from .places import Gazetteer

        return Gazetteer(self.data.places)

    def __hash__(self) -> int:
        return hash(self.digest)


@lru_cache(maxsize=200_000)
def _loose(form: str) -> str:
    return re.sub(r"[-_ ]", "-", form.lower())


def _terms(lexicon: Lexicon, text: str) -> frozenset[str]:
    return frozenset(content_terms(lexicon.fold(text), lexicon.stopwords))


__all__ = ["Lexicon", "LexiconData", "PhraseSet", "compile_phrase", "compile_phrases"]
