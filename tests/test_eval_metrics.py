"""Unit tests of the evaluation metrics, judge, calibration and gate on small hand-made cases."""

from __future__ import annotations

import json
import math

import pytest

from assistant.errors import ConfigError
from assistant.evaluation import gate
from assistant.evaluation.calibrate import calibrate, cohen_kappa
from assistant.evaluation.harness import load_questions
from assistant.evaluation.judge import JUDGES, LexicalJudge, SupportJudge, get_judge
from assistant.evaluation.metrics import (
    METRICS,
    canonical,
    claims,
    contains,
    correctness,
    evidence_matches,
    figures,
    forecast_leak,
    norm,
    quote_exact,
    retrieval_scores,
    score_response,
    summarise,
)

JUDGE = LexicalJudge()

# ------------------------------------------------------------------ Dutch text and number rules


def test_norm_rejoins_line_break_hyphens_and_plain_quotes():
    assert norm("in Noord-\nDrenthe") == norm("in Noord-Drenthe") == "in noord-drenthe"
    assert norm("regio’s  “krap”") == 'regio\'s "krap"'


@pytest.mark.parametrize(
    "text, item",
    [
        ("Er stonden 12500 vacatures open.", "12.500"),
        ("Er stonden 12.500 vacatures open.", "12500"),
        ("De participatie was 71,4 procent.", "71,4%"),
        ("De participatie was 71,4%.", "71,4 procent"),
        ("Het ging om 60% van de vacatures.", "6 op de 10"),
        ("Al 15 kwartalen op rij.", "vijftien kwartalen"),
        ("Een budget van 3.000.000 euro.", "3 miljoen"),
        ("Vooral in NOORD-BRABANT.", "Noord-Brabant"),
        ("Ruim 1.100 pendelaars (0,4%).", "0,4%"),
    ],
)
def test_must_contain_matches_dutch_number_formats(text, item):
    assert contains(text, item)


@pytest.mark.parametrize(
    "text, item",
    [
        ("De groei was 15%.", "5%"),  # a number never matches inside another
        ("De groei was 3,5%.", "5%"),
        ("Er waren 12.500,5 banen.", "12.500"),
        ("Er waren 125 banen.", "12"),
        ("De participatie was 71,7%.", "71,4%"),
    ],
)
def test_must_contain_rejects_other_numbers(text, item):
    assert not contains(text, item)


def test_canonical_and_figures():
    assert canonical("12.500 en 71,4 procent") == "12500 en 71.4%"
    assert figures("7 op de 10 werkgevers, 2,5 miljard, vijftien jaar") == {"70%", "2500000000", "15"}
    assert figures("in 2025-2026") == {"2025", "2026"}


def test_correctness_is_share_of_items_and_ignores_citation_markers():
    score = correctness("Er zijn 25.000 deeltijders [1] en 18000 werklozen. [2]", ["25.000", "18.000", "13.000"])
    assert score["share"] == pytest.approx(2 / 3)
    assert score["missing"] == ["13.000"]
    assert correctness("iets", []) is None


# ------------------------------------------------------------------ retrieval


def test_evidence_matches_rules():
    evidence = "Al vijftien kwartalen op rij zijn er landelijk meer vacatures dan werklozen."
    assert evidence_matches(evidence, "De arbeidsmarkt blijft krap. " + evidence + " Daarna volgt meer.")
    # PDF extraction: "Noord-\nDrenthe" became "Noord- Drenthe"; the passage reads "Noord-Drenthe"
    assert evidence_matches(
        "De groei in Noord- Drenthe was 1,5% in 2025 volgens RaboResearch.",
        "x De groei in Noord-Drenthe was 1,5% in 2025 volgens RaboResearch. y",
    )
    assert evidence_matches(
        "Het is ‘krap’ op de arbeidsmarkt in de regio Groningen.",
        "Het is 'krap' op de arbeidsmarkt in de regio Groningen.",
    )
    # chunk boundary: the passage holds the larger part of the evidence
    first, second = (
        "Het onbenut arbeidspotentieel nam in het afgelopen decennium sterk af naar 56.000 in 2024.",
        "Deze groep is onder te verdelen in drie groepen.",
    )
    assert evidence_matches(first + " " + second, "Inleiding. " + first)
    assert not evidence_matches(
        first + " " + second, "Een lange passage over iets anders. " * 5 + second
    )  # only the smaller part
    assert not evidence_matches(evidence, "Een passage over iets heel anders, zonder gedeelde zinnen.")


def test_evidence_from_a_csv_row_matches_the_rendered_table_row():
    row = 'Zorg & welzijn,2025,2.400,gemiddeld per kwartaal,"Ietwat afgenomen, maar hoog"'
    rendered = (
        "Vacatures per sector. sector: Zorg & welzijn. periode: 2025; aantal: 2.400; eenheid: gemiddeld per kwartaal; "
        "toelichting: Ietwat afgenomen, maar hoog."
    )
    assert evidence_matches(row, rendered)
    assert not evidence_matches(row, rendered.replace("2.400", "2.500"))


def test_retrieval_scores_hand_computed():
    e1, e2 = "Eerste bewijszin over vacatures in de zorg.", "Tweede bewijszin over werkloosheid onder jongeren."
    passages = ["niets relevants hier, echt niet", f"context {e1}", "nog iets anders zonder overlap", f"{e1} {e2}"]
    s = retrieval_scores([e1, e2], passages, k=4)
    assert s["hit"] == 1.0 and s["recall"] == 1.0 and s["rr"] == 0.5
    assert s["relevant_ranks"] == [2, 4]
    dcg = 1 / math.log2(3) + 1 / math.log2(5)  # rank 2 covers e1, rank 4 adds e2
    assert s["ndcg"] == pytest.approx(dcg / (1 + 1 / math.log2(3)))
    top1 = retrieval_scores([e1, e2], passages, k=1)
    assert top1 == {"hit": 0.0, "recall": 0.0, "rr": 0.0, "ndcg": 0.0, "relevant_ranks": []}
    assert retrieval_scores([], passages, k=3) is None


# ------------------------------------------------------------------ claims and citations

P1 = "In Groningen stonden eind 2025 ruim 12.500 vacatures open, vooral in de zorg."
P2 = "De werkloosheid onder jongeren steeg in 2024 naar 8,1 procent."


def _citation(n, chunk_id, quote):
    return {
        "n": n,
        "source_id": "s",
        "title": "Rapport",
        "publisher": "UWV",
        "url": "",
        "page": "1",
        "section": "Hoofdstuk",
        "quote": quote,
        "chunk_id": chunk_id,
    }


def _response(answer, citations, refused=False, reason=None):
    return {
        "question": "q",
        "answer": answer,
        "refused": refused,
        "refusal_reason": reason,
        "citations": citations,
        "passages": [],
        "timings_ms": {"total_ms": 10.0},
    }


TEXTS = {"c1": P1, "c2": P2}


def test_claims_attach_marker_groups_to_the_sentence_they_end():
    text = "Er zijn o.a. veel vacatures in de zorg. Dat blijft zo [1][2] Werkloosheid stijgt. [3] Slotzin zonder bron."
    assert claims(text) == [
        ("Er zijn o.a. veel vacatures in de zorg.", []),
        ("Dat blijft zo", [1, 2]),
        ("Werkloosheid stijgt.", [3]),
        ("Slotzin zonder bron.", []),
    ]


def test_citation_recall_precision_and_numbers():
    from assistant.evaluation.metrics import citation_scores

    good = _response(f"{P1} [1] {P2} [2]", [_citation(1, "c1", P1), _citation(2, "c2", P2)])
    scored = citation_scores(good, TEXTS, JUDGE)
    assert [c["supported"] for c in scored] == [True, True]
    assert [c["precise"] for c in scored] == [[True], [True]]
    assert [c["numbers_ok"] for c in scored] == [True, True]

    swapped = _response(f"{P1} [1] {P2} [2]", [_citation(1, "c2", P2), _citation(2, "c1", P1)])
    scored = citation_scores(swapped, TEXTS, JUDGE)
    assert [c["supported"] for c in scored] == [False, False]
    assert [c["precise"] for c in scored] == [[False], [False]]
    assert [c["numbers_ok"] for c in scored] == [False, False]
    assert not any(c["unsupported"] for c in scored)  # the right passage is still in the answer's context

    overcited = _response(f"{P1} [1][2]", [_citation(1, "c1", P1), _citation(2, "c2", P2)])
    (claim,) = citation_scores(overcited, TEXTS, JUDGE)
    assert claim["supported"] and claim["precise"] == [True, False]  # [2] is neither supportive nor needed

    joint = "In 2025 stonden 12.500 vacatures open en steeg de werkloosheid onder jongeren naar 8,1 procent."
    (claim,) = citation_scores(
        _response(f"{joint} [1][2]", [_citation(1, "c1", P1), _citation(2, "c2", P2)]), TEXTS, JUDGE
    )
    assert claim["supported"] and claim["precise"] == [True, True]  # each needed: neither alone supports it


def test_unsupported_sentence_and_refusal_message_is_not_a_claim():
    from assistant.evaluation.metrics import citation_scores

    made_up = _response("De bouw telde 999 faillissementen in Friesland. [1]", [_citation(1, "c1", P1)])
    (claim,) = citation_scores(made_up, TEXTS, JUDGE)
    assert claim["unsupported"] and not claim["supported"] and claim["numbers_ok"] is False

    refusal = _response(
        f"Ik doe zelf geen voorspellingen. Wel staat in de bronnen: {P2} [1]",
        [_citation(1, "c2", P2)],
        refused=True,
        reason="prediction",
    )
    scored = citation_scores(refusal, TEXTS, JUDGE)
    assert len(scored) == 1 and scored[0]["supported"]


def test_quote_exactness():
    response = _response(
        "x",
        [
            _citation(1, "c1", P1[:40]),
            _citation(2, "c1", "vacatures stonden open"),
            _citation(3, "c2", "8,2 procent"),
            _citation(4, "zz", "iets"),
        ],
    )
    assert quote_exact(response, TEXTS) == [True, False, False, False]
    assert quote_exact(_response("x", [_citation(1, "c1", "ruim 12.500\nvacatures")]), TEXTS) == [
        True
    ]  # whitespace collapsed only


def test_forecast_leak():
    assert forecast_leak("In 2027 komen er 9.700 banen bij. [1]", 2025)
    assert forecast_leak("Naar verwachting groeit de economie met 1,5%.", 2025)
    assert not forecast_leak(
        "Ik doe zelf geen voorspellingen. Wel staat in de bronnen: in 2024 was 53% moeilijk vervulbaar. [1]", 2025
    )
    assert not forecast_leak("Voor 2027 staat er niets in de bronnen.", 2025)  # a year, no figure


# ------------------------------------------------------------------ pooled metrics


def _record(qid, qtype, answerable, response, evidence=(), must=(), ranked=()):
    q = {"id": qid, "type": qtype, "answerable": answerable, "evidence": list(evidence), "must_contain": list(must)}
    return {
        "id": qid,
        "type": qtype,
        "answerable": answerable,
        "response": response,
        "scores": score_response(q, response, list(ranked), TEXTS, JUDGE, 5, 2025),
    }


def _refusal_records():
    ok = _response(f"{P1} [1]", [_citation(1, "c1", P1)])
    pred = _response("Geen voorspelling.", [], refused=True, reason="prediction")
    oos = _response("Buiten de bronnen.", [], refused=True, reason="out_of_scope")
    return [
        _record("a1", "factual", True, ok, evidence=[P1], must=["12.500"], ranked=[P1]),
        _record("a2", "factual", True, pred, evidence=[P1], must=["12.500"], ranked=[P2]),  # over-refusal
        _record("p1", "prediction_refuse", False, pred),
        _record(
            "p2",
            "prediction_refuse",
            False,
            _response("In 2027 komen er 9.700 banen bij. [1]", [_citation(1, "c1", P1)]),
        ),  # leak
        _record("o1", "out_of_scope", False, oos),
        _record("o2", "out_of_scope", False, pred),  # refused, wrong reason
    ]


def test_refusal_metrics():
    m = summarise(_refusal_records(), resamples=50)
    v = {k: x["value"] for k, x in m.items()}
    assert v["refusal_precision"] == pytest.approx(3 / 4)
    assert v["refusal_recall"] == pytest.approx(3 / 4)
    assert v["refusal_recall_prediction_refuse"] == pytest.approx(1 / 2)
    assert v["refusal_recall_out_of_scope"] == pytest.approx(1.0)
    assert v["refusal_precision_prediction_refuse"] == pytest.approx(1 / 3)  # 3 refused as "prediction", 1 was one
    assert v["refusal_precision_out_of_scope"] == pytest.approx(1.0)
    assert v["over_refusal_rate"] == pytest.approx(1 / 2)
    assert v["forecast_leak_rate"] == pytest.approx(1 / 2)
    assert v["hit_at_k"] == pytest.approx(1 / 2) and v["answer_correctness"] == pytest.approx(1 / 2)


def _scored(question: dict, response: dict) -> dict:
    q = {"answerable": question["type"] not in ("prediction_refuse", "out_of_scope", "not_covered"), **question}
    return {**q, "response": response, "scores": score_response(q, response, [], TEXTS, JUDGE, 5, 2025)}


def test_follow_up_uncovered_source_and_fully_right_metrics():
    answer = _response(f"{P1} [1]", [_citation(1, "c1", P1)])
    wrong = _response(f"{P2} [1]", [_citation(1, "c2", P2)])
    flagged = {**wrong, "notices": [{"kind": "period_not_covered"}]}
    records = [
        _scored({"id": "f1", "type": "factual", "must_contain": ["12.500"]}, answer),  # first turn
        _scored({"id": "f2", "type": "factual", "must_contain": ["12.500"], "history": ["Eerste vraag?"]}, wrong),
        _scored({"id": "n1", "type": "not_covered", "nearest_must_contain": ["12.500"]}, answer),  # silent
        _scored({"id": "n2", "type": "not_covered", "nearest_must_contain": []}, flagged),
        _scored({"id": "s1", "type": "factual", "must_contain": ["12.500"], "expected_sources": ["other"]}, answer),
    ]
    v = {k: x["value"] for k, x in summarise(records, resamples=20).items()}
    assert v["follow_up_correctness"] == pytest.approx(0.0)  # only the follow-up turn counts, and it missed
    assert v["answer_correctness"] == pytest.approx(2 / 3)
    assert v["uncovered_said_rate"] == pytest.approx(1 / 2)
    assert v["source_correct_rate"] == pytest.approx(0.0)  # the answer cites c1's source, not "other"
    assert v["fully_right_rate"] == pytest.approx(2 / 5)  # f1 and n2
    assert v["refusal_recall"] is None  # a not_covered question is not one that must be refused


def test_summarise_has_every_metric_with_a_bootstrap_interval():
    records = _refusal_records()
    m = summarise(records, resamples=200, seed=1)
    assert {x.name for x in METRICS} <= set(m)
    for name, x in m.items():
        if x["value"] is not None:
            assert x["ci"][0] - 1e-9 <= x["value"] <= x["ci"][1] + 1e-9, name
    assert m == summarise(records, resamples=200, seed=1)  # deterministic
    assert m["latency_total_ms_p50"]["value"] == 10.0 and m["latency_total_ms_p99"]["ci"] == [10.0, 10.0]


# ------------------------------------------------------------------ judge, calibration, gate, question files


@pytest.mark.parametrize(
    "sentence, passage, label",
    [
        (
            "Er stonden 12500 vacatures open in Groningen.",
            "In Groningen stonden eind 2025 ruim 12.500 vacatures open.",
            "yes",
        ),
        (
            "Er stonden 13.500 vacatures open in Groningen.",
            "In Groningen stonden eind 2025 ruim 12.500 vacatures open.",
            "no",
        ),
        (
            "Vacatures in Groningen stonden open, vooral bij gemeenten, scholen en ziekenhuizen.",
            "In Groningen stonden veel vacatures open.",
            "partial",
        ),
        ("De kat zat op de mat.", "In Groningen stonden veel vacatures open.", "no"),
        ("70 procent van de werkgevers nam iemand aan.", "7 op de 10 werkgevers nam iemand aan.", "yes"),
    ],
)
def test_lexical_judge(sentence, passage, label):
    assert JUDGE.judge(sentence, passage) == label


def test_judge_registry():
    assert isinstance(get_judge("lexical"), SupportJudge)
    assert set(JUDGES) >= {"lexical", "nli"}
    with pytest.raises(ConfigError, match="choose from"):
        get_judge("oracle")
    with pytest.raises(ConfigError, match="ASSISTANT_EVAL_NLI_MODEL"):
        get_judge("nli", model="")


def test_cohen_kappa_and_calibration(tmp_path):
    assert cohen_kappa(["yes", "yes", "no", "no"], ["yes", "no", "no", "no"]) == pytest.approx(0.5)
    assert cohen_kappa(["yes", "no"], ["yes", "no"]) == pytest.approx(1.0)
    pairs = tmp_path / "pairs.jsonl"
    rows = [
        {
            "id": "J1",
            "sentence": "Er stonden 12500 vacatures open.",
            "passage": "Er stonden 12.500 vacatures open.",
            "label": "yes",
        },
        {
            "id": "J2",
            "sentence": "Er stonden 9000 vacatures open.",
            "passage": "Er stonden 12.500 vacatures open.",
            "label": "no",
        },
        {
            "id": "J3",
            "sentence": "Er stonden veel vacatures open.",
            "passage": "Er stonden 12.500 vacatures open.",
            "label": "partial",
        },
    ]
    pairs.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    c = calibrate(JUDGE, pairs)
    assert (
        c["n"] == 3
        and c["confusion"]["no"]["no"] == 1
        and c["agreement"] == pytest.approx(sum(c["confusion"][x][x] for x in c["confusion"]) / 3)
    )


def _summary(values, question_set="dev_questions"):
    return {
        "question_set": question_set,
        "systems": {"pipeline": {"metrics": {k: {"value": v} for k, v in values.items()}}},
    }


def test_gate(tmp_path, capsys):
    thresholds = tmp_path / "t.toml"
    thresholds.write_text(
        "[dev_questions]\nhit_at_k = { min = 0.8 }  # measured 0.9\nover_refusal_rate = { max = 0.1 }\n",
        encoding="utf-8",
    )
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps(_summary({"hit_at_k": 0.85, "over_refusal_rate": 0.05})), encoding="utf-8")
    assert gate.main(["--summary", str(summary), "--thresholds", str(thresholds)]) == 0
    summary.write_text(json.dumps(_summary({"hit_at_k": 0.75, "over_refusal_rate": 0.2})), encoding="utf-8")
    assert gate.main(["--summary", str(summary), "--thresholds", str(thresholds)]) == 1
    out = capsys.readouterr().out
    assert "FAIL hit_at_k = 0.75 (needs >= 0.8)" in out and "FAIL over_refusal_rate" in out
    summary.write_text(json.dumps(_summary({"over_refusal_rate": 0.0})), encoding="utf-8")
    assert gate.main(["--summary", str(summary), "--thresholds", str(thresholds)]) == 1  # missing metric fails
    summary.write_text(json.dumps(_summary({}, question_set="other")), encoding="utf-8")
    assert gate.main(["--summary", str(summary), "--thresholds", str(thresholds)]) == 2


def test_load_questions_accepts_any_file_in_the_format(tmp_path):
    path = tmp_path / "new.jsonl"
    path.write_text(
        '{"id": "X1", "question": "Hoeveel vacatures?", "type": "factual", "answerable": true, '
        '"must_contain": ["12.500"], "evidence": [], "split": "tune"}\n\n'
        '{"question": "Wat wordt de werkloosheid in 2030?", "type": "prediction_refuse"}\n',
        encoding="utf-8",
    )
    qs = load_questions(path)
    assert (
        qs[0]["split"] == "tune" and qs[1]["id"] == "new-3" and qs[1]["answerable"] is False and qs[1]["evidence"] == []
    )
    path.write_text("{not json}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="new.jsonl:1"):
        load_questions(path)
