"""The CLI as an advisor or operator uses it: ingest, ask (text and JSON), chat, sources."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner
from conftest import CORPUS

from assistant.cli import main


def test_ask_prints_the_answer_with_numbered_sources(cli_env):
    result = CliRunner().invoke(main, ["ask", "Hoeveel werklozen telde Groningen in 2024?"])
    assert result.exit_code == 0, result.output
    assert "18.000" in result.output and "[1]" in result.output
    assert "Bronnen" in result.output and "p. " in result.output


def test_ask_json_is_the_channel_contract(cli_env):
    result = CliRunner().invoke(main, ["ask", "--json", "Wat is een onderbenutte deeltijder?"])
    data = json.loads(result.output)
    assert set(data) == {
        "question",
        "answer",
        "refused",
        "refusal_reason",
        "citations",
        "notices",
        "passages",
        "generator",
        "timings_ms",
    }
    assert set(data["citations"][0]) == {
        "n",
        "source_id",
        "title",
        "publisher",
        "url",
        "page",
        "section",
        "quote",
        "chunk_id",
        "published",
        "period",
    }
    assert set(data["passages"][0]) == {"chunk_id", "source_id", "page", "section", "score", "text"}
    assert "total_ms" in data["timings_ms"]


def test_prediction_is_refused_in_the_cli(cli_env):
    result = CliRunner().invoke(main, ["ask", "--json", "Hoeveel vacatures verwacht je in 2031?"])
    data = json.loads(result.output)
    assert data["refused"] and data["refusal_reason"] == "prediction"


def test_bad_question_exits_1_with_type_and_message(cli_env):
    result = CliRunner().invoke(main, ["ask", "   "])
    assert result.exit_code == 1 and "QuestionError" in result.output


def test_chat_keeps_the_conversation(cli_env):
    result = CliRunner().invoke(
        main, ["chat"], input="Hoeveel werklozen telde Groningen in 2024?\nEn semi-werklozen?\n\n"
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("Bronnen") >= 2 and "13.000" in result.output


def test_sources_lists_status_and_passage_counts(cli_env):
    result = CliRunner().invoke(main, ["sources", "--json"])
    rows = {r["id"]: r for r in json.loads(result.output)}
    assert rows["rib-groningen-2025"]["status"] == "approved" and rows["rib-groningen-2025"]["passages"] > 100
    assert all(r["passages"] > 0 for r in rows.values())
    assert all("warning" in r for r in rows.values())
    table = CliRunner().invoke(main, ["sources"])
    assert table.exit_code == 0 and "approved" in table.output


def test_ingest_reports_what_changed_and_failed(tmp_path, monkeypatch, embedding_cache):
    corpus = tmp_path / "corpus"
    (corpus / "tables").mkdir(parents=True)
    shutil.copy(CORPUS / "tables" / "onbenut-arbeidspotentieel-groningen.csv", corpus / "tables")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
    (corpus / "manifest.toml").write_text(
        (CORPUS / "manifest.toml").read_text(encoding="utf-8").split("[[source]]")[0]
        + "[[source]]\nid = 'tabel'\ntitle = 'Onbenut'\npublisher = 'UWV'\nkind = 'table'\n"
        "file = 'tables/onbenut-arbeidspotentieel-groningen.csv'\npublished = 2025-11-01\napproved = true\n\n"
        + "[[source]]\nid = 'kapot'\ntitle = 'Kapot'\npublisher = 'UWV'\nkind = 'report'\nfile = 'broken.pdf'\n"
        "published = 2025-11-01\napproved = true\n\n"
        + "[[source]]\nid = 'weg'\ntitle = 'Weg'\npublisher = 'UWV'\nkind = 'report'\nfile = 'weg.pdf'\n"
        "published = 2025-11-01\napproved = true\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_EMBEDDING_CACHE", str(embedding_cache))
    result = CliRunner().invoke(main, ["ingest"], terminal_width=200)
    assert result.exit_code == 1  # a failed source is an error for scripts
    assert "added: tabel" in result.output
    assert "failed kapot" in result.output and "broken.pdf" in result.output
    assert "skipped weg: missing file" in result.output
    ok = CliRunner().invoke(main, ["ask", "--json", "Hoeveel semi-werklozen waren er in 2024?"])
    assert "13.000" in json.loads(ok.output)["answer"]  # the good source is served
