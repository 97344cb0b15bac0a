"""The `openai` generator and its verifier.

A real llama.cpp server (xllamacpp, the packaged Qwen2.5-Coder-0.5B) answers through the same
OpenAI-compatible protocol any site would use; a small scripted server on localhost plays the
faults and adversaries a real model produces only now and then (a wrong figure, a wrong passage
number, nonsense, silence, "cannot answer"), so that each verifier rule is shown deterministically.
"""

from __future__ import annotations

import json
import logging
import time

import pytest
from chat_servers import Scripted
from conftest import free_port, llm_assistant

from assistant.llm import CANNOT_ANSWER, OpenAIGenerator
from assistant.text import parse_numbers
from assistant.types import GeneratedSentence

VACANCIES = "Hoeveel vacatures stonden er eind tweede kwartaal 2025 open in Groningen?"


@pytest.fixture(scope="module")
def scripted():
    server = Scripted()
    yield server
    server.server.shutdown()


@pytest.fixture(scope="module")
def scripted_assistant(index_settings, scripted):
    return llm_assistant(index_settings, scripted.url, timeout_s=2)


@pytest.fixture(scope="module")
def vacancy_evidence(assistant):
    signals, _, evidence, verdict = assistant.examine(VACANCIES)
    gen = assistant.generator
    lead = gen.generate(signals, evidence, verdict).sentences[0]
    return signals, evidence, verdict, lead


def figure_item(passages, lexicon):
    """A passage sentence (not a table row) that states a figure, and its passage number."""
    for p in passages:
        for item in p.items:
            if not item.chunk.cells and any(n.figure for n in parse_numbers(item.clean, lexicon)):
                return p.n, item
    raise AssertionError("no figure sentence among the passages")


@pytest.fixture(scope="module")
def verifier_case(scripted_assistant, vacancy_evidence):
    signals, evidence, verdict, _ = vacancy_evidence
    gen: OpenAIGenerator = scripted_assistant.generator
    passages = gen.passages(evidence)
    n, item = figure_item(passages, scripted_assistant.lexicon)
    return gen.verifier, passages, n, item


# ------------------------------------------------------------------ the verifier, rule by rule


def test_a_sentence_copied_from_its_passage_is_kept_and_quotes_the_passage(verifier_case):
    verifier, passages, n, item = verifier_case
    check = verifier.check(GeneratedSentence(item.clean, (n,)), passages)
    assert check.ok, check.reasons
    assert check.quote == item.clean and check.quote in item.chunk.text


def test_a_changed_figure_is_dropped(verifier_case):
    verifier, passages, n, item = verifier_case
    figure = next(m for m in parse_numbers(item.clean, verifier.lexicon) if m.figure)
    wrong = item.clean[: figure.start] + "987.654" + item.clean[figure.end :]
    check = verifier.check(GeneratedSentence(wrong, (n,)), passages)
    assert not check.ok and any("987.654" in r and "no cited passage" in r for r in check.reasons)


def test_the_same_figure_in_another_format_is_the_same_figure(verifier_case):
    verifier, passages, n, item = verifier_case
    figure = next(m for m in parse_numbers(item.clean, verifier.lexicon) if m.figure and m.kind == "count")
    if figure.value >= 1000 and figure.value % 100 == 0:
        other = f"{figure.value / 1000:.1f}".replace(".", ",") + " duizend"  # 12.500 -> 12,5 duizend
    else:
        other = f"{figure.value:.0f}"
    text = item.clean[: figure.start] + other + item.clean[figure.end :]
    check = verifier.check(GeneratedSentence(text, (n,)), passages)
    assert not any("figure" in r for r in check.reasons), (text, check.reasons)


def test_a_figure_moved_to_another_measure_is_dropped(verifier_case):
    verifier, passages, n, item = verifier_case
    figure = next(m for m in parse_numbers(item.clean, verifier.lexicon) if m.figure)
    moved = f"In Groningen waren er {figure.raw} zzp'ers met een WW-uitkering en een bijstandsuitkering."
    check = verifier.check(GeneratedSentence(moved, (n,)), passages)
    assert not check.ok
    assert any("another measure" in r for r in check.reasons), check.reasons


def test_two_figures_swapped_between_their_measures_are_dropped(scripted_assistant):
    gen: OpenAIGenerator = scripted_assistant.generator
    signals, _, evidence, _ = scripted_assistant.examine(
        "Hoe is de arbeidsparticipatie in Groningen sinds 2015 veranderd?"
    )
    passages, verifier = gen.passages(evidence), gen.verifier

    def figures(item):
        return [m for m in parse_numbers(item.clean, verifier.lexicon) if m.figure]

    found = [
        (p.n, item)
        for p in passages
        for item in p.items
        if not item.chunk.cells and len({m.value for m in figures(item)}) >= 2
    ]
    assert found, "the evidence has a sentence with two figures"
    tried = 0
    for n, item in found:
        stated = figures(item)
        pairs = [(a, b) for a in stated for b in stated if b.start > a.end and b.value != a.value and b.kind == a.kind]
        if not pairs:
            continue
        a, b = pairs[0]
        text = item.clean
        swapped = text[: a.start] + b.raw + text[a.end : b.start] + a.raw + text[b.end :]
        check = verifier.check(GeneratedSentence(swapped, (n,)), passages)
        assert not check.ok and any("stands where the cited passage states" in r for r in check.reasons), swapped
        assert verifier.check(GeneratedSentence(text, (n,)), passages).ok, text  # as it stands, it passes
        tried += 1
    assert tried, "a sentence with two figures of the same kind"


def test_a_question_instead_of_a_statement_is_dropped(verifier_case):
    verifier, passages, n, item = verifier_case
    check = verifier.check(GeneratedSentence(item.clean.rstrip(".") + "?", (n,)), passages)
    assert not check.ok and any("question" in r for r in check.reasons)


def test_citing_a_passage_that_was_not_given_or_none_is_dropped(verifier_case):
    verifier, passages, n, item = verifier_case
    assert not verifier.check(GeneratedSentence(item.clean, (99,)), passages).ok
    none = verifier.check(GeneratedSentence(item.clean, ()), passages)
    assert not none.ok and "cites no passage" in none.reasons


def test_the_right_sentence_under_the_wrong_passage_number_is_dropped(verifier_case):
    verifier, passages, n, item = verifier_case
    value = next(m.value for m in parse_numbers(item.clean, verifier.lexicon) if m.figure)
    others = [
        p
        for p in passages
        if p.n != n and not any(m.value == value for it in p.items for m in parse_numbers(it.clean, verifier.lexicon))
    ]  # a passage that does not state the figure (another one stating it, a table row, would be a right citation)
    assert others, "the evidence has a passage without this figure"
    check = verifier.check(GeneratedSentence(item.clean, (others[0].n,)), passages)
    assert not check.ok, "a figure must stand in the passage the sentence cites"


def test_an_expectation_the_passage_does_not_state_is_dropped(verifier_case):
    verifier, passages, n, item = verifier_case
    assert not (item.forecast or item.forecast_inherited)
    text = "Naar verwachting zal dit de komende jaren zo blijven: " + item.clean[0].lower() + item.clean[1:]
    check = verifier.check(GeneratedSentence(text, (n,)), passages)
    assert not check.ok and any("expectation" in r for r in check.reasons)


def test_advice_of_its_own_is_dropped(verifier_case):
    verifier, passages, n, item = verifier_case
    text = "Ik raad je aan hier rekening mee te houden, want " + item.clean[0].lower() + item.clean[1:]
    check = verifier.check(GeneratedSentence(text, (n,)), passages)
    assert not check.ok and any("advice" in r for r in check.reasons)


def test_unsupported_content_is_dropped_even_without_figures(verifier_case):
    verifier, passages, n, _ = verifier_case
    check = verifier.check(GeneratedSentence("Kappers en bakkers verhuizen massaal naar Portugal.", (n,)), passages)
    assert not check.ok and any("supported" in r for r in check.reasons)


# ------------------------------------------------------------------ the generator with a scripted server


def test_a_wrong_sentence_is_dropped_and_the_right_one_kept_with_the_passage_as_quote(
    scripted, scripted_assistant, vacancy_evidence
):
    _, evidence, _, lead = vacancy_evidence
    passages = scripted_assistant.generator.passages(evidence)
    n = next(p.n for p in passages if any(lead.quote in it.clean or it.clean in lead.quote for it in p.items))
    figure = next(m for m in parse_numbers(lead.quote, scripted_assistant.lexicon) if m.figure)
    wrong = lead.quote.replace(figure.raw, "99.999")
    scripted.say((lead.quote, [n]), (wrong, [n]))
    answer = scripted_assistant.ask(VACANCIES)
    assert answer.generator == "openai", answer.trace.generation
    assert "99.999" not in answer.answer  # dropped sentences never reach the advisor
    assert figure.raw in answer.answer
    checks = answer.trace.generation["checks"]
    assert [c["ok"] for c in checks] == [True, False]
    chunk_text = {ch.id: ch.text for ch in scripted_assistant.snapshot.chunks}
    assert all(c.quote in chunk_text[c.chunk_id] for c in answer.citations), "quotes are the passage's own words"
    request = scripted.requests[-1]
    assert request["response_format"]["type"] == "json_schema"  # constrained output asked for
    prompt = request["messages"][-1]["content"]
    assert "Passage 1" in prompt and VACANCIES in prompt


def test_a_key_sentence_that_fails_gives_the_extractive_answer(scripted, scripted_assistant, vacancy_evidence):
    _, _, _, lead = vacancy_evidence
    scripted.say(("Er stonden eind tweede kwartaal 2025 in Groningen 99.999 vacatures open.", [1]))
    answer = scripted_assistant.ask(VACANCIES)
    assert answer.generator == "extractive" and not answer.refused
    assert lead.text.rstrip(".") in answer.answer
    assert any("key sentence" in n for n in answer.trace.generation["notes"])


def test_an_answer_beside_the_question_gives_the_extractive_answer(scripted, scripted_assistant, vacancy_evidence):
    _, evidence, _, lead = vacancy_evidence
    lx = scripted_assistant.lexicon
    asked = {m.value for m in parse_numbers(lead.text, lx) if m.figure}
    passages = scripted_assistant.generator.passages(evidence)
    n, beside = next(
        (p.n, it.clean)
        for p in passages
        for it in p.items
        if not it.chunk.cells and not asked & {m.value for m in parse_numbers(it.clean, lx) if m.figure}
    )
    scripted.say((beside, [n]))  # a true sentence of the passages, but not the asked figure
    answer = scripted_assistant.ask(VACANCIES)
    assert answer.generator == "extractive"
    assert any("asked figure" in n or "key sentence" in n for n in answer.trace.generation["notes"])


def test_cannot_answer_from_the_model_is_a_no_evidence_refusal(scripted, scripted_assistant):
    scripted.say((CANNOT_ANSWER, []))
    answer = scripted_assistant.ask(VACANCIES)
    assert answer.refused and answer.refusal_reason == "no_evidence" and answer.generator == "openai"
    assert "model: cannot answer" in answer.trace.generation["notes"]


FAULTS = {
    "nonsense": lambda s: setattr(s, "content", "Sure! Here is your answer: <html>"),
    "empty": lambda s: setattr(s, "content", ""),
    "huge": lambda s: setattr(s, "content", "vacatures " * 20_000),  # a 20,000-token reply
    "no_choices": lambda s: setattr(s, "raw", b'{"id": "x", "object": "chat.completion", "choices": []}'),
    "wrong_key": lambda s: (setattr(s, "status", 401), setattr(s, "raw", b'{"error": {"message": "bad key"}}')),
    "wrong_path": lambda s: (setattr(s, "status", 404), setattr(s, "raw", b'{"error": "not found"}')),
    "server_error": lambda s: (setattr(s, "status", 500), setattr(s, "raw", b"internal error")),
    "stall": lambda s: setattr(s, "delay", 10.0),  # the generator's timeout is 2 s
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_broken_or_slow_server_gives_the_extractive_answer_never_an_error(
    scripted, scripted_assistant, fault, caplog
):
    scripted.say()
    FAULTS[fault](scripted)
    t = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="assistant.llm"):
        answer = scripted_assistant.ask(VACANCIES)
    assert not answer.refused and answer.generator == "extractive" and answer.citations
    assert any("fallback" in n for n in answer.trace.generation["notes"])
    assert any("fell back to extractive" in r.getMessage() for r in caplog.records), "a clear log line says why"
    assert time.perf_counter() - t < 10
    scripted.say()


def test_a_server_that_is_down_gives_the_extractive_answer(index_settings):
    a = llm_assistant(index_settings, f"http://127.0.0.1:{free_port()}/v1", timeout_s=2)
    answer = a.ask(VACANCIES)
    assert answer.generator == "extractive" and answer.citations
    assert any("unavailable" in n for n in answer.trace.generation["notes"])


def test_guard_refusals_are_decided_before_the_model_is_asked(scripted, scripted_assistant):
    before = len(scripted.requests)
    answer = scripted_assistant.ask("Hoeveel vacatures verwacht jij in 2030 in Groningen?")
    assert answer.refused and answer.refusal_reason == "prediction"
    assert len(scripted.requests) == before


# ------------------------------------------------------------------ a real llama.cpp server


def test_real_llama_server_round_trip_answers_only_verified_sentences(index_settings, llama):
    a = llm_assistant(index_settings, llama, timeout_s=120)
    for question in [VACANCIES, "Waarom is het lastig om vacatures te vervullen in de zorg?"]:
        answer = a.ask(question)
        gen = answer.trace.generation
        assert gen["configured"] == "openai"
        assert answer.generator in ("openai", "extractive")
        chunk_text = {ch.id: ch.text for ch in a.snapshot.chunks}
        assert all(c.quote in chunk_text[c.chunk_id] for c in answer.citations)  # never a quote the model typed
        for check in gen["checks"]:
            assert check["ok"] == (not check["reasons"])
            if not check["ok"]:
                assert check["text"] not in answer.answer  # a dropped sentence never stays
        if answer.refused:  # the guard's refusal, or the model's "cannot answer"
            assert answer.generator == "extractive" or "model: cannot answer" in gen["notes"]
        elif answer.generator == "openai":
            kept = [c for c in gen["checks"] if c["ok"]]
            assert kept and all(c["text"].rstrip(".") in answer.answer for c in kept)
        else:
            assert gen["notes"] and answer.citations


def test_real_llama_server_honours_the_json_schema(index_settings, llama):
    a = llm_assistant(index_settings, llama, timeout_s=120)
    signals, _, evidence, _ = a.examine(VACANCIES)
    gen: OpenAIGenerator = a.generator
    raw = gen.complete(gen.messages(signals, gen.passages(evidence)))
    data = json.loads(raw)
    assert isinstance(data["zinnen"], list) and data["zinnen"]
    assert all(isinstance(z["zin"], str) and isinstance(z["passages"], list) for z in data["zinnen"])


def test_real_llama_server_streams_text_as_it_is_written(index_settings, llama):
    a = llm_assistant(index_settings, llama, timeout_s=120)
    pieces: list[str] = []
    answer = a.ask(VACANCIES, on_text=pieces.append)
    shown = "".join(pieces)
    assert len(pieces) > 3 and shown.strip(), "text arrives in pieces as the model writes"
    assert "zinnen" not in shown and "{" not in shown, "the reader sees the sentences, not the JSON around them"
    assert answer.trace.generation["configured"] == "openai"
