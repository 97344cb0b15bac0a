"""The language file and the readers built on it: validation, phrases, numbers, periods, places,
typing errors and follow-up rewriting (no index needed)."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import CORPUS

from assistant.conversation import resolve
from assistant.errors import ConfigError
from assistant.facts import annotate_chunk
from assistant.lexicon import Lexicon, compile_phrases
from assistant.periods import find_periods, relation
from assistant.question import analyse, counted
from assistant.spelling import Speller
from assistant.text import parse_numbers
from assistant.types import Chunk, SourceInfo

LEXICON = Lexicon.load(CORPUS / "lexicon.toml")
DATA_DATE = date(2025, 11, 1)


def ask(question: str, history: list[str] | None = None):
    return resolve(question, history or [], lambda q: analyse(q, LEXICON, DATA_DATE), LEXICON, DATA_DATE)


def test_an_edited_language_file_is_checked_with_a_clear_message(tmp_path):
    text = (CORPUS / "lexicon.toml").read_text(encoding="utf-8")
    broken = tmp_path / "lexicon.toml"
    broken.write_text(text.replace('home = "arbeidsmarktregio Groningen"', 'home = "Atlantis"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="places.home 'Atlantis' is not a listed place"):
        Lexicon.load(broken)
    broken.write_text(text.replace("[periods]", "[periods]\nunknown_key = 1"), encoding="utf-8")
    with pytest.raises(ConfigError, match="periods.unknown_key"):
        Lexicon.load(broken)
    broken.write_text(
        text.replace('["kortdurend werkzoekenden",', '["vacatures", "kortdurend werkzoekenden",'), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="stands in groups"):
        Lexicon.load(broken)


def test_a_content_team_synonym_takes_effect_without_code(tmp_path):
    path = tmp_path / "lexicon.toml"
    text = (CORPUS / "lexicon.toml").read_text(encoding="utf-8")
    path.write_text(
        text.replace("synonyms = [", 'synonyms = [\n    ["baanopeningen", "vacatureplekken"],', 1), encoding="utf-8"
    )
    extended = Lexicon.load(path)
    assert extended.terms("baanopeningen") == extended.terms("vacatureplekken")
    assert LEXICON.terms("baanopeningen") != LEXICON.terms("vacatureplekken")


@pytest.mark.parametrize(
    ("typed", "written"),
    [("zzpers", "Zzp’ers"), ("zzp-ers", "Zzp’ers"), ("wwers", "WW'ers"), ("ww ers", "WW'ers"), ("mboers", "mbo'ers")],
)
def test_a_synonym_typed_without_its_apostrophe_is_the_same_term(typed, written):
    assert LEXICON.terms(typed) == LEXICON.terms(written) and LEXICON.terms(typed)


@pytest.mark.parametrize(
    ("phrase", "text", "hit"),
    [
        ("verwacht*", "wat verwachten jullie", True),
        ("gaat|gaan … stijgen", "gaan de lonen in groningen in 2027 stijgen", True),
        ("gaat|gaan … stijgen", "stijgen de lonen", False),
        ("^wie", "wie heeft dat gemaakt", True),
        ("^wie", "en wie heeft dat gemaakt", False),
        ("over {n} jaar", "over vijf jaar", True),
        ("*loon", "het minimumloon", True),
    ],
)
def test_phrase_syntax(phrase, text, hit):
    assert compile_phrases("test", [phrase]).search(text) is hit


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("De meeste vacatures staan open voor functies op beroepsniveau 2.", []),
        ("vooral op beroepsniveau 1 en 2", []),
        ("Eind juni 2025 telde Groningen 2.160 55-plussers met een WW-uitkering.", ["2.160"]),
        ("jongeren tot 27 jaar", []),
        ("gemiddeld vijf jaar bij dezelfde werkgever", ["vijf"]),
        ("bijna 6 op de 10 van de vacatures", ["6 op de 10"]),
        ("12,5 duizend banen en 71,4% participatie", ["12,5 duizend", "71,4%"]),
    ],
)
def test_one_number_parser_tells_figures_from_years_and_labels(text, figures):
    assert [n.raw for n in parse_numbers(text, LEXICON) if n.figure] == figures


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Hoeveel vacatures waren er medio 2025?", "medio 2025"),
        ("in juni 2025", "juni 2025"),
        ("Q2 2025", "tweede kwartaal 2025"),
        ("halverwege vorig jaar", "medio 2024"),
        ("tussen 2024 en 2027", "2024-2027"),
        ("in de maanden april tot en met juni 2023", "april 2023 t/m juni 2023"),
        ('"Groningen (PV)";"2025KW03";"11,6"', "derde kwartaal 2025"),
        ("na 2027", "na 2027"),
        ("de afgelopen tien jaar", "2015-2025"),
        ("rond de zomer van 2025", "zomer 2025"),
    ],
)
def test_dutch_periods_are_normalised(text, label):
    assert [m.period.label for m in find_periods(text, LEXICON, DATA_DATE) if m.period] == [label]


def test_a_month_or_the_middle_of_a_year_fits_the_quarter_a_source_states():
    end_q2 = find_periods("aan het eind van het tweede kwartaal van 2025", LEXICON, DATA_DATE)[0].period
    for asked in ("in juni 2025", "medio 2025", "Q2 2025"):
        assert relation(find_periods(asked, LEXICON, DATA_DATE)[0].period, end_q2) == 1.0
    assert relation(find_periods("in 2022", LEXICON, DATA_DATE)[0].period, end_q2) == -1.0


def test_places_onze_regio_de_provincie_and_a_bare_name():
    places = LEXICON.places
    assert analyse("Hoeveel WW'ers zijn er bij ons?", LEXICON, DATA_DATE).place.name == "arbeidsmarktregio Groningen"
    assert analyse("Werkloosheid in de provincie?", LEXICON, DATA_DATE).place.name == "provincie Groningen"
    assert analyse("Werkloosheid in de provincie Drenthe?", LEXICON, DATA_DATE).place.name == "Drenthe"
    assert places.relation(places.home, places.get("Groningen")) == 0.9  # the bare name fits, a little less
    assert places.relation(places.home, places.get("Nederland")) == -1.0
    assert places.relation(places.get("Drenthe"), places.get("Stadskanaal")) == -1.0


def test_the_nearest_place_for_a_figure_the_sources_do_not_give():
    places = LEXICON.places
    near = places.nearness
    assert near(places.get("Tynaarlo"), places.home) == 3  # within the region
    assert near(places.get("Drenthe"), places.home) == 2  # they share Noord-Drenthe
    assert near(places.get("Utrecht"), places.get("Nederland")) == 1  # the country, for a place inside it
    assert near(places.get("Utrecht"), places.home) == 0  # another region is no stand-in
    assert near(places.get("Duitsland"), places.get("Nederland")) == 0


def test_what_a_question_asks():
    q = analyse("Hoeveel openstaande vacatures waren er vorig jaar in Q2 in onze regio?", LEXICON, DATA_DATE)
    assert q.asks_number and q.kind == "count" and q.measure == LEXICON.terms("vacatures")
    assert q.period.label == "tweede kwartaal 2024" and q.place_explicit
    assert analyse("Wat is nu de werkloosheid?", LEXICON, DATA_DATE).now
    assert analyse("Wat is de werkloosheid?", LEXICON, DATA_DATE).kind == "percent"
    assert analyse("Hoeveel banen kost AI de komende vijf jaar?", LEXICON, DATA_DATE).future_years == {2030}
    own = analyse("Hoeveel vacatures verwacht jij in 2030?", LEXICON, DATA_DATE)
    assert own.forecast and own.own_view
    assert not analyse("Verwacht het CPB dat het aantal vacatures daalt?", LEXICON, DATA_DATE).asks_number


def test_typing_errors_are_read_as_the_source_word_but_not_other_endings():
    speller = Speller(["vacatures", "industrie", "volgens", "lastige", "werkloosheid"], keep=LEXICON.words)
    assert speller.correct("Hoeveel vactures in de industire?") == "Hoeveel vacatures in de industrie?"
    assert speller.correct("volgend jaar lastiger") == "volgend jaar lastiger"  # endings, not typos


@pytest.mark.parametrize(
    ("history", "turn", "rewritten", "carried"),
    [
        (
            ["Hoeveel vacatures waren er in 2024 in Groningen?"],
            "En in 2022?",
            "Hoeveel vacatures waren er in Groningen in 2022?",
            ("subject", "place"),
        ),
        (
            ["Hoeveel vacatures waren er in 2024 in Groningen?"],
            "En in Noord-Drenthe?",
            "Hoeveel vacatures waren er in 2024 in Noord-Drenthe?",
            ("subject", "period"),
        ),
        (
            ["Hoeveel vacatures waren er in 2024 in Groningen?"],
            "En een jaar eerder?",
            "Hoeveel vacatures waren er in Groningen in 2023?",
            ("subject", "place"),
        ),
        (
            ["Hoeveel openstaande vacatures had zorg en welzijn dit jaar?"],
            "En in het onderwijs?",
            "Hoeveel openstaande vacatures had 2025 in het onderwijs?",
            ("subject", "period"),
        ),
    ],
)
def test_a_follow_up_carries_subject_period_and_place_unless_it_replaces_them(history, turn, rewritten, carried):
    q = ask(turn, history)
    assert q.follow_up and q.text == rewritten and q.carried == carried


def test_a_three_turn_conversation_resolves_the_middle_turn_first():
    history = ["Hoeveel WW-uitkeringen waren er eind juni 2025 in Groningen?", "En in Noord-Drenthe?"]
    q = ask("En een jaar eerder?", history)
    assert q.period.label == "eind juni 2024" and q.place.name == "Noord-Drenthe"
    why = ask("Waarom is dat zo?", history)
    assert why.form == "reason" and not why.asks_number and "WW-uitkeringen" in why.text


def test_a_new_self_contained_question_is_not_rewritten():
    q = ask("Wat is een onderbenutte deeltijder?", ["Hoeveel vacatures waren er in 2024?"])
    assert not q.follow_up and q.text == "Wat is een onderbenutte deeltijder?"


def test_past_tense_verbs_of_being_are_not_the_subject():
    # "zaten" was read as a subject word nothing in the sources has, so the in-scope model refused
    # a question the WW figure answers
    q = analyse("Hoeveel mensen zaten halverwege 2025 in de WW in onze regio?", LEXICON, DATA_DATE)
    assert q.terms == LEXICON.terms("WW")
    lag = analyse("Hoe hoog lag de werkloosheid in 2024?", LEXICON, DATA_DATE)
    assert lag.terms == analyse("Hoe hoog is de werkloosheid in 2024?", LEXICON, DATA_DATE).terms


def test_the_length_of_a_period_is_no_figure():
    # "tien" in "de afgelopen tien jaar" was a count of onderbenutte deeltijders, and beat the 25.000
    chunk = Chunk(
        id="c",
        source_id="s",
        text="Relatief gezien daalde het aantal onderbenutte deeltijders de afgelopen tien jaar het minst.",
        section="4.2",
        page="20",
        position=0,
    )
    source = SourceInfo(id="s", title="t", publisher="p", kind="report", file="f.txt", published=DATA_DATE)
    assert [f.raw for i in annotate_chunk(chunk, source, LEXICON) for f in i.facts] == []


def test_what_a_follow_up_counts_after_a_back_reference():
    assert counted("Hoeveel daarvan zijn vrouw?", LEXICON) == LEXICON.terms("vrouw")
    assert counted("Hoeveel daarvan zijn onderbenutte deeltijders?", LEXICON) == LEXICON.terms(
        "onderbenutte deeltijders"
    )
    assert counted("Hoeveel hoger is dat?", LEXICON) == frozenset()


def test_a_turn_that_asks_the_other_way_round_swaps_the_two_places():
    rewritten = ask("En andersom?", ["Hoeveel inwoners van Groningen werken in Drenthe?"])
    assert rewritten.follow_up and rewritten.query == "Hoeveel inwoners van Drenthe werken in Groningen?"
    # one place only: nothing to swap, the turn is read as any other follow-up
    assert "andersom" in ask("En andersom?", ["Hoeveel WW-uitkeringen zijn er in Groningen?"]).query


def test_a_follow_up_after_its_connective_asks_its_own_form():
    asked = ask("en waar zit het", ["wanneer is het werkcentrum opengegaan"])
    assert asked.form == "where" and "werkcentrum" in asked.query.lower()
    assert analyse("En waarom is dat?", LEXICON, DATA_DATE).form == "reason"
    assert analyse("Wanneer noemen ze de arbeidsmarkt krap?", LEXICON, DATA_DATE).form == ""
    assert analyse("Waar staat de afkorting STEM voor?", LEXICON, DATA_DATE).form == ""


def test_when_one_counts_as_something_asks_a_definition_not_a_time():
    assert analyse("Wanneer geldt iemand als onderbenutte deeltijder?", LEXICON, DATA_DATE).form == ""
    assert analyse("Wanneer ging het Werkcentrum open?", LEXICON, DATA_DATE).form == "when"
