"""The evaluation harness end to end on a few dev questions against the session index:
every file is written, every metric computed, and a deliberately broken pipeline
(citations shuffled across answers) scores visibly lower."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.evaluation.baselines import AssistantPipeline, LangChainNaive, NaiveTopSentences
from assistant.evaluation.harness import load_questions, run_eval, run_system
from assistant.evaluation.judge import LexicalJudge
from assistant.evaluation.metrics import METRICS
from assistant.types import Answer

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "evals" / "dev_questions.jsonl"
SUBSET = ["D002", "D003", "D004", "D013", "D015", "D017", "D021", "D024", "D028"]
ANSWER_FIELDS = set(Answer.model_fields) - {"trace"}  # the trace only with explain


class ShuffledCitations(AssistantPipeline):
    """Our pipeline, but each answer carries the citations of the answer to the next question."""

    def __init__(self, assistant, questions: list[str]):
        super().__init__(assistant, name="shuffled-citations")
        answers = [assistant.ask(q) for q in questions]
        self._answers = {}
        for i, q in enumerate(questions):
            donor = answers[(i + 1) % len(answers)]
            self._answers[q] = answers[i].model_copy(update={"citations": donor.citations})

    def ask(self, question: str, history=()) -> Answer:
        return self._answers[question]


@pytest.fixture(scope="module")
def subset_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("questions") / "dev_subset.jsonl"
    lines = [line for line in DEV.read_text(encoding="utf-8").splitlines() if json.loads(line)["id"] in SUBSET]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(assistant, index_settings, subset_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    broken = ShuffledCitations(assistant, [q["question"] for q in load_questions(subset_file)])
    summary = run_eval(
        index_settings,
        subset_file,
        out,
        k=5,
        baselines=["bm25-only", "dense-only", "naive-top3"],
        assistant=assistant,
        extra_systems=[broken],
        resamples=200,
        quiet=True,
    )
    return summary, out


def test_eval_writes_every_file(run):
    summary, out = run
    results = [json.loads(line) for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in results] == SUBSET
    for r in results:
        assert {"id", "type", "response", "scores"} <= set(r)
        assert set(r["response"]) == ANSWER_FIELDS
        assert {"analyse_ms", "retrieve_ms", "evidence_ms", "guard_ms", "generate_ms", "total_ms"} <= set(
            r["response"]["timings_ms"]
        )
    for name in ("bm25-only", "dense-only", "naive-top3", "shuffled-citations"):
        assert len((out / "baselines" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()) == len(SUBSET)
    on_disk = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert on_disk["headline"] == json.loads(json.dumps(summary["headline"]))
    for png in ("scores_by_type.png", "latency.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = (out / "report.md").read_text(encoding="utf-8")
    for text in (
        "| pipeline | bm25-only | dense-only | naive-top3 | shuffled-citations |",
        "hit@5",
        "Cohen's kappa",
        "scores_by_type.png",
        "latency.png",
    ):
        assert text in report


def test_every_metric_is_computed_with_an_interval(run):
    summary, _ = run
    metrics = summary["systems"]["pipeline"]["metrics"]
    for m in METRICS:
        assert m.name in metrics, m.name
        if metrics[m.name]["n"]:
            assert metrics[m.name]["value"] is not None and len(metrics[m.name]["ci"]) == 2, m.name
    for stage in ("analyse_ms", "retrieve_ms", "evidence_ms", "guard_ms", "generate_ms", "total_ms"):
        for p in (50, 95, 99):
            assert metrics[f"latency_{stage}_p{p}"]["value"] >= 0
    assert summary["calibration"]["n"] > 100 and -1 <= summary["calibration"]["kappa"] <= 1


def test_shuffled_citations_lower_the_citation_scores(run):
    summary, _ = run
    ours = summary["systems"]["pipeline"]["metrics"]
    broken = summary["systems"]["shuffled-citations"]["metrics"]
    assert broken["citation_recall"]["value"] < ours["citation_recall"]["value"] - 0.3
    assert broken["citation_precision"]["value"] < ours["citation_precision"]["value"] - 0.3
    assert broken["numeric_fidelity"]["value"] < ours["numeric_fidelity"]["value"] - 0.3
    # the answers themselves did not change
    assert broken["answer_correctness"]["value"] == ours["answer_correctness"]["value"]


class HashEmbedder:
    """Deterministic bag-of-words vectors: LangChain and Chroma stay real, the model is swapped for speed."""

    name = "hash-test"

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(256, dtype=np.float32)
        for w in text.lower().split():
            v[int(hashlib.md5(w.encode()).hexdigest(), 16) % 256] += 1
        return v / (np.linalg.norm(v) or 1)

    def embed_passages(self, texts):
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, 256), dtype=np.float32)

    def embed_query(self, text):
        return self._vec(text)


def test_langchain_naive_baseline(index_settings, subset_file):
    naive = LangChainNaive(SimpleNamespace(settings=index_settings, embedder=HashEmbedder()))
    texts = naive.chunk_texts()
    assert len(texts) > 100 and max(len(t) for t in texts.values()) <= 1000
    answer = naive.ask("Hoe lang zijn er landelijk al meer vacatures dan werklozen?")
    assert not answer.refused and len(answer.citations) == len(answer.passages) == 4
    assert answer.answer.count("[") == 4 and all(c.quote == texts[c.chunk_id] for c in answer.citations)
    records = run_system(naive, load_questions(subset_file)[:3], k=5, judge=LexicalJudge(), reference_year=2025)
    assert all(r["scores"]["quotes_exact"] == [True] * 4 for r in records)
    assert all(len(r["ranked"]) == 5 for r in records)


def test_naive_top3_quotes_three_sentences_of_the_top3_passages(assistant):
    naive = NaiveTopSentences(assistant)
    answer = naive.ask("Hoeveel vacatures stonden er open?", history=["Hoe krap is de arbeidsmarkt in Groningen?"])
    assert len(answer.citations) == 3 and len(answer.passages) == 3 and not answer.refused
    passage_texts = {p.chunk_id: p.text for p in answer.passages}
    assert all(c.quote in passage_texts[c.chunk_id].split("\n") for c in answer.citations)


def test_cli_eval_writes_files_and_gates(assistant, index_settings, subset_file, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(index_settings.index_dir))
    monkeypatch.setattr("assistant.core.get_embedder", lambda settings: assistant.embedder)  # one model per process
    questions = tmp_path / "cli_set.jsonl"
    questions.write_text("\n".join(subset_file.read_text(encoding="utf-8").splitlines()[:3]) + "\n", encoding="utf-8")
    thresholds = tmp_path / "thresholds.toml"
    thresholds.write_text(
        "[cli_set]\nquote_exactness = { min = 0.9 }\nhit_at_k = { min = 1.01 }  # unreachable\n", encoding="utf-8"
    )
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main, ["eval", "--questions", str(questions), "--out", str(out), "--gate", str(thresholds)]
    )
    assert result.exit_code == 1, result.output
    assert "ok   quote_exactness" in result.output and "FAIL hit_at_k" in result.output
    assert {"results.jsonl", "summary.json", "report.md", "scores_by_type.png", "latency.png"} <= {
        p.name for p in out.iterdir()
    }


# ------------------------------------------------------------------ another system's answers


def test_external_answers_are_scored_with_our_metrics_and_verifier(assistant, index_settings, tmp_path):
    """A file of deliberately mixed answers: right and cited by quote only; the right passage with a
    changed figure; an invented forecast citing a quote no source has; a question left unanswered;
    an unknown refusal reason."""
    from assistant.evaluation.external import ExternalAnswers

    data = ROOT / "tests" / "data"
    external = ExternalAnswers(data / "external_answers.jsonl", assistant)
    summary = run_eval(
        index_settings,
        data / "external_questions.jsonl",
        tmp_path,
        assistant=assistant,
        extra_systems=[external],
        resamples=100,
        quiet=True,
    )
    records = {
        json.loads(line)["id"]: json.loads(line) for line in (tmp_path / "baselines" / f"{external.name}.jsonl").open()
    }
    right, changed, forecast, missing = records["X1"], records["X2"], records["X3"], records["X4"]
    assert right["scores"]["correctness"]["share"] == 1.0
    assert [c["supported"] and c["verified"] for c in right["scores"]["claims"]] == [True]
    assert right["response"]["citations"][0]["chunk_id"], "a quote with other whitespace still finds its passage"
    assert changed["scores"]["correctness"]["share"] == 0.0
    assert [(c["numbers_ok"], c["verified"]) for c in changed["scores"]["claims"]] == [(False, False)]
    assert forecast["scores"]["forecast_leak"] and not forecast["scores"]["refused"]
    assert [c["verified"] for c in forecast["scores"]["claims"]] == [False]
    assert forecast["response"]["citations"][0]["chunk_id"] == "", "an unknown quote supports nothing"
    assert missing["response"]["answer"] == "" and missing["scores"]["correctness"]["share"] == 0.0
    assert records["X5"]["response"]["refused"] and records["X5"]["response"]["refusal_reason"] is None
    theirs = summary["systems"][external.name]["metrics"]
    ours = summary["systems"]["pipeline"]["metrics"]
    assert theirs["verified_sentence_rate"]["value"] == pytest.approx(1 / 3)
    assert theirs["numeric_fidelity"]["value"] < 1.0 and theirs["refusal_recall"]["value"] == 0.0
    assert ours["answer_correctness"]["value"] > theirs["answer_correctness"]["value"]
    assert ours["verified_sentence_rate"]["value"] is None  # our pipeline is not put through it here


def test_a_malformed_answers_file_is_a_clear_error(assistant, tmp_path):
    from assistant.errors import ConfigError
    from assistant.evaluation.external import ExternalAnswers

    bad = tmp_path / "answers.jsonl"
    bad.write_text('{"id": "X1", "antwoord": "12.500"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="answers.jsonl:1: each line needs a JSON object with an 'answer' string"):
        ExternalAnswers(bad, assistant)
    bad.write_text('{"answer": "12.500"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="give the question's 'id' or its 'question' text"):
        ExternalAnswers(bad, assistant)
