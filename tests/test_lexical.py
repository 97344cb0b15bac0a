"""The passage side on shared storage (assistant/lexical.py): BM25 built at ingest and memory-mapped,
passages fetched by id, figures looked up in SQLite, so that opening an index reads no passage."""

from __future__ import annotations

import re
import shutil

import bm25s
import numpy as np
import pytest

from assistant.backends import ChromaStore, get_store
from assistant.core import Assistant
from assistant.index import load_snapshot, search_text
from assistant.lexical import PassageIndex


def test_opening_the_index_reads_no_passage_from_the_store_or_the_passage_folder(index_settings, monkeypatch):
    gets, rows_read = [], []
    real_get = ChromaStore.get
    monkeypatch.setattr(ChromaStore, "get", lambda self, where=None: gets.append(where) or real_get(self, where))
    real_init = PassageIndex.__init__

    def counting_init(self, folder):
        real_init(self, folder)
        rows_read.append(self)

    monkeypatch.setattr(PassageIndex, "__init__", counting_init)
    assistant = Assistant.open(index_settings)
    assert gets == []  # no passage read from Chroma
    assert sum(p.reads for p in rows_read) == 0  # nor from the passage folder
    assert len(assistant.lookup) == len(assistant.lookup.ids) > 200  # yet it knows every passage by id

    answer = assistant.ask("Hoeveel vacatures stonden er open in Groningen?")
    assert not answer.refused and "12.450" in answer.answer
    # answering fetched the passages it ranked, not the corpus
    assert 0 < sum(p.reads for p in rows_read) < len(assistant.lookup)


def test_memory_mapped_bm25_scores_as_an_index_built_in_memory(assistant):
    chunks = list(assistant.snapshot.chunks)
    assert [c.id for c in chunks] == assistant.lookup.ids  # the same document order
    fresh = bm25s.BM25()
    fresh.index([assistant.lexicon.tokens(search_text(c)) or ["_empty_"] for c in chunks], show_progress=False)
    mapped = assistant.lookup.bm25
    assert isinstance(mapped.scores["data"], np.memmap)  # read from the file, not loaded
    for query in ("openstaande vacatures zorg", "werkloosheid Groningen 2025", "statushouders toolbox"):
        tokens = [t for t in assistant.lexicon.tokens(query) if t in fresh.vocab_dict]
        assert np.array_equal(fresh.get_scores(tokens), mapped.get_scores(tokens))
    top, score = assistant.retriever.bm25("statushouders toolbox bemiddelaars", 1)[0]
    assert "statushouder" in top.text.lower() and score > 0


def test_the_guard_counts_place_names_in_the_folder_as_it_did_over_the_texts(assistant):
    texts = [search_text(c).lower() for c in assistant.snapshot.chunks]
    for prefix in ("gronin", "drenth", "limbur", "defens"):
        regex = sum(1 for t in texts if re.search(rf"\b{re.escape(prefix)}", t))
        assert assistant.lookup.index.prefix_count(prefix, assistant.snapshot.versions) == regex


def test_an_index_without_its_passage_folder_is_rebuilt_from_the_store_once(index_settings, tmp_path):
    index_dir = tmp_path / "copy"
    shutil.copytree(index_settings.index_dir, index_dir)
    settings = index_settings.model_copy(update={"index_dir": index_dir})
    folder = get_store(settings).lexical_dir
    shutil.rmtree(folder)  # as an index built before the folder existed
    first = Assistant.open(settings)
    assert (folder / "passages.sqlite3").exists() and list(folder.glob("bm25-*/docs.json"))
    again = Assistant.open(settings)
    assert again.lookup.index.reads == 0  # the second opening copies nothing
    question = "Hoeveel vacatures stonden er open in Groningen?"
    assert again.ask(question).answer == first.ask(question).answer


def test_ingest_embeds_passages_only_and_answering_embeds_sentences_once(small_corpus):
    from assistant.index import ingest

    class Counting:
        def __init__(self, inner):
            self.inner, self.name, self.texts = inner, inner.name, []

        def embed_passages(self, texts):
            self.texts += list(texts)
            return self.inner.embed_passages(texts)

        def embed_query(self, text):
            return self.inner.embed_query(text)

    from assistant.backends import get_embedder

    embedder = Counting(get_embedder(small_corpus))
    report = ingest(small_corpus, embedder=embedder)
    assert len(embedder.texts) == sum(report.chunks.values())  # one text per passage, no sentence
    assistant = Assistant.open(small_corpus, embedder=embedder)
    answer = assistant.ask("Hoeveel openstaande vacatures had het Westerkwartier?")
    assert "1.250" in answer.answer and not answer.refused


def test_a_replaced_source_leaves_no_old_passage_or_figure_in_the_folder(small_corpus):
    from assistant.index import ingest

    ingest(small_corpus)
    note = small_corpus.corpus_dir / "factsheet.md"
    note.write_text(note.read_text().replace("1.250", "1.375"), encoding="utf-8")
    ingest(small_corpus)
    snapshot = load_snapshot(get_store(small_corpus))
    db = snapshot.passages._db
    versions = {v for (v,) in db.execute("SELECT DISTINCT version FROM passages")}
    assert versions == set(snapshot.versions)
    assert {v for (v,) in db.execute("SELECT DISTINCT version FROM sentences")} <= versions
    assert "1.375" in "\n".join(c.text for c in snapshot.chunks)
    answer = Assistant.open(small_corpus).ask("Hoeveel openstaande vacatures had het Westerkwartier?")
    assert "1.375" in answer.answer


@pytest.fixture
def small_corpus(tmp_path, embedding_cache):
    from conftest import CORPUS
    from test_ingest import MANIFEST, NOTE_V1

    from assistant.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    (corpus / "factsheet.md").write_text(NOTE_V1, encoding="utf-8")
    shutil.copy(CORPUS / "tables" / "onbenut-arbeidspotentieel-groningen.csv", corpus / "onbenut.csv")
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", embedding_cache=embedding_cache)
