"""HTTP API of the web channel through FastAPI's TestClient, over the session's real index.

Answer quality is tuned elsewhere, so these tests assert structure: an answer carries [1]
and citations with page and quote, the forecast question is refused as 'prediction',
every bad request gets its status code and a Dutch message, and the app keeps serving.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.audit import AuditLog
from assistant.channels import Services, web
from assistant.errors import AssistantError, BackendError, ConfigError, CorpusError, IndexNotBuiltError, QuestionError
from assistant.settings import Settings, WebSettings
from assistant.types import Answer

ROOT = Path(__file__).resolve().parent.parent
FACTUAL = "Hoeveel vacatures stonden er eind tweede kwartaal 2025 open in Groningen?"
PREDICTION = "Wat is jouw eigen voorspelling voor het aantal vacatures in Groningen in 2031?"
FOLLOW_UP = "En in de zorg?"
DUTCH = (
    "vraag",
    "verzoek",
    "gesprek",
    "sleutel",
    "bron",
    "passage",
    "probeer",
    "te veel",
    "te groot",
    "antwoord",
    "adres",
    "geïndexeerd",
)


def make_services(index_settings, assistant, tmp_path, **web) -> Services:
    settings = index_settings.model_copy(update={"audit_db": tmp_path / "audit.sqlite3", "web": WebSettings(**web)})
    return Services(settings, AuditLog(settings.audit_db), _assistant=assistant)


@pytest.fixture
def services(index_settings, assistant, tmp_path) -> Services:
    return make_services(index_settings, assistant, tmp_path)


@pytest.fixture
def client(services) -> TestClient:
    return TestClient(web.create_app(services.settings, services))


def assert_dutch_error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert any(word in error["message"].lower() for word in DUTCH), error["message"]
    return error["message"]


def assert_still_serving(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.post("/api/ask", json={"question": FACTUAL}).status_code == 200


def sse_events(text: str) -> list[tuple[str, object]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


# ---------------------------------------------------------------- answers


def test_explain_returns_the_trace_of_the_decision(client):
    body = client.post(
        "/api/ask", json={"question": "Hoeveel vacatures waren er medio 2025 bij ons?", "explain": True}
    ).json()
    trace = body["trace"]
    assert trace["signals"]["period"]["label"] == "medio 2025"
    assert trace["signals"]["place"] == "arbeidsmarktregio Groningen" and trace["signals"]["asks_quantity"]
    assert trace["evidence"] and {"score", "features", "source_id", "page"} <= set(trace["evidence"][0])
    assert trace["guard"]["refuse"] is False and trace["guard"]["reasons"]
    assert trace["params"]["embedder"] and trace["params"]["version"]
    refused = client.post(
        "/api/ask", json={"question": "Wat denk jij dat de werkloosheid in 2031 wordt?", "explain": True}
    ).json()
    assert refused["refused"] and refused["trace"]["guard"]["reason"] == "prediction"


def test_ask_returns_the_core_contract_with_answer_id(client, services):
    response = client.post("/api/ask", json={"question": FACTUAL})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(Answer.model_fields) - {"trace"} | {"answer_id"}
    assert body["refused"] is False and "[1]" in body["answer"]
    first = body["citations"][0]
    assert (
        first["n"] == 1
        and first["page"]
        and first["quote"]
        and first["chunk_id"]
        and first["title"]
        and first["publisher"]
    )
    record = services.audit.recent(1)[0]
    assert record["id"] == body["answer_id"] and record["channel"] == "api" and record["question"] == FACTUAL
    cited = record["citations"][0]
    assert cited["chunk_id"] == first["chunk_id"] and cited["page"] == first["page"]
    assert cited["source_version"] == services.assistant.snapshot.meta_versions[first["source_id"]]
    assert record["timings"]["total_ms"] > 0


def test_prediction_question_is_refused_with_reason(client, services):
    body = client.post("/api/ask", json={"question": PREDICTION}).json()
    assert body["refused"] is True and body["refusal_reason"] == "prediction"
    assert "voorspelling" in body["answer"].lower()
    assert services.audit.recent(1)[0]["refusal_reason"] == "prediction"


def test_chat_follow_up_resolves_against_the_previous_turn(client, assistant):
    first = client.post("/api/chat", json={"question": FACTUAL})
    assert first.status_code == 200
    conversation_id = first.json()["conversation_id"]
    follow = client.post("/api/chat", json={"question": FOLLOW_UP, "conversation_id": conversation_id}).json()
    assert follow["conversation_id"] == conversation_id and follow["question"] == FOLLOW_UP
    # The follow-up is read with the earlier question, exactly as the core does it for a conversation.
    in_context = [p.chunk_id for p in assistant.ask(FOLLOW_UP, history=[FACTUAL]).passages]
    alone = [p.chunk_id for p in assistant.ask(FOLLOW_UP).passages]
    assert [p["chunk_id"] for p in follow["passages"]] == in_context != alone
    turns = client.get(f"/api/conversations/{conversation_id}").json()
    assert turns == {"conversation_id": conversation_id, "questions": [FACTUAL, FOLLOW_UP]}


def test_started_conversation_is_known_before_its_first_answer(client):
    created = client.post("/api/conversations")
    assert created.status_code == 201
    conversation_id = created.json()["conversation_id"]
    assert client.get(f"/api/conversations/{conversation_id}").json()["questions"] == []
    response = client.post("/api/chat", json={"question": FACTUAL, "conversation_id": conversation_id})
    assert response.status_code == 200 and response.json()["conversation_id"] == conversation_id


def test_stream_sends_answer_text_then_citations_then_done(client, services):
    response = client.post("/api/chat/stream", json={"question": FACTUAL})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    names = [name for name, _ in events]
    assert names[-2:] == ["citations", "done"] and set(names[:-2]) == {"answer"} and len(names) > 3
    text = "".join(data["text"] for name, data in events if name == "answer")
    citations, done = events[-2][1], events[-1][1]
    assert "[1]" in text and citations[0]["n"] == 1 and citations[0]["quote"]
    assert done["refused"] is False and done["conversation_id"] and done["answer_id"]
    record = services.audit.recent(1)[0]
    assert record["id"] == done["answer_id"] and record["channel"] == "web" and record["answer"] == text
    assert record["conversation_id"] == done["conversation_id"]


def test_stream_pieces_join_back_to_the_text():
    text = "Eind juni stonden er 12.500 vacatures open.  [1] Dat is 7% minder [2]\n"
    pieces = web.stream_pieces(text, words=2)
    assert "".join(pieces) == text and len(pieces) > 2
    assert web.stream_pieces("") == []


# ---------------------------------------------------------------- sources and passages


def test_sources_lists_the_manifest_with_status_and_passages(client, assistant):
    body = client.get("/api/sources").json()
    assert body["index_ready"] is True
    by_id = {s["id"]: s for s in body["sources"]}
    assert set(assistant.sources) <= set(by_id)
    for source_id in assistant.sources:
        entry = by_id[source_id]
        assert entry["status"] == "approved" and entry["passages"] > 0
        assert entry["version"] == assistant.snapshot.meta_versions[source_id] and entry["title"] and entry["publisher"]


def test_passage_in_page_context_with_highlighted_quote(client, assistant):
    # A report page with several passages, to see the neighbours.
    pages: dict[tuple[str, str], list] = {}
    for chunk in assistant.snapshot.chunks:
        pages.setdefault((chunk.source_id, chunk.page), []).append(chunk)
    page_chunks = next(chunks for chunks in pages.values() if len(chunks) >= 3)
    middle = page_chunks[1]
    quote = middle.text.split(". ")[1] if ". " in middle.text else middle.text[:60]
    body = client.get(f"/api/passages/{middle.id}", params={"quote": quote}).json()
    assert body["chunk_id"] == middle.id and body["page"] == middle.page and body["text"] == middle.text
    span = body["highlight"]
    assert body["text"][span["start"] : span["end"]] == quote.strip()
    assert [n["chunk_id"] for n in body["before"]] == [page_chunks[0].id]
    assert [n["chunk_id"] for n in body["after"]] == [c.id for c in page_chunks[2:]]
    source = assistant.sources[middle.source_id]
    assert body["source"]["title"] == source.title and body["source"]["publisher"] == source.publisher
    assert body["source"]["url"] == source.url and body["version"] == assistant.snapshot.meta_versions[source.id]


def test_passage_of_a_real_citation(client):
    citation = client.post("/api/ask", json={"question": FACTUAL}).json()["citations"][0]
    body = client.get(f"/api/passages/{citation['chunk_id']}", params={"quote": citation["quote"]}).json()
    assert body["highlight"] is not None and body["page"] == citation["page"]


def test_highlight_tolerates_whitespace_and_reports_absence():
    text = "De werkloosheid\nbleef laag. Het aantal vacatures daalde."
    span = web.highlight(text, "De werkloosheid bleef laag.")
    assert (span.start, span.end) == (0, len("De werkloosheid\nbleef laag."))
    assert web.highlight(text, "Niet in de tekst.") is None and web.highlight(text, "  ") is None


def test_unknown_passage_is_404(client):
    assert_dutch_error(client.get("/api/passages/bestaat-niet"), 404, "passage_not_found")


# ---------------------------------------------------------------- feedback


def test_feedback_is_stored_for_the_content_team(client, services):
    answer_id = client.post("/api/ask", json={"question": FACTUAL}).json()["answer_id"]
    for rating, note in (
        ("helpful", ""),
        ("not_helpful", "te algemeen"),
        ("missing_source", "CBS-cijfers over de zorg ontbreken"),
    ):
        response = client.post(f"/api/answers/{answer_id}/feedback", json={"rating": rating, "note": note})
        assert response.status_code == 201 and response.json()["answer_id"] == answer_id
    feedback = services.audit.recent(1)[0]["feedback"]
    assert [(f["rating"], f["note"], f["channel"]) for f in feedback] == [
        ("helpful", "", "web"),
        ("not_helpful", "te algemeen", "web"),
        ("missing_source", "CBS-cijfers over de zorg ontbreken", "web"),
    ]


def test_feedback_on_unknown_answer_or_with_bad_rating(client):
    assert_dutch_error(
        client.post("/api/answers/onbekend/feedback", json={"rating": "helpful"}), 404, "answer_not_found"
    )
    answer_id = client.post("/api/ask", json={"question": FACTUAL}).json()["answer_id"]
    message = assert_dutch_error(
        client.post(f"/api/answers/{answer_id}/feedback", json={"rating": "super"}), 422, "invalid_request"
    )
    assert "rating" in message and "missing_source" in message


# ---------------------------------------------------------------- probes, page, docs


def test_health_and_readiness(client, assistant):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "sources": len(assistant.sources),
        "passages": len(assistant.snapshot.chunks),
    }


def test_chat_page_and_static_files_need_nothing_external(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert '<html lang="nl">' in page.text and "/static/app.js" in page.text and "/static/style.css" in page.text
    for name in ("app.js", "style.css", "docs.js", "docs.css"):
        asset = client.get(f"/static/{name}")
        assert (
            asset.status_code == 200
            and "//cdn" not in asset.text
            and "http://" not in asset.text
            and "https://" not in asset.text
        )
    assert "https://" not in page.text.replace('rel="noopener noreferrer"', "")


def test_static_files_are_package_data():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"assistant.channels" = ["static/*"]' in pyproject
    assert {p.name for p in web.STATIC.iterdir()} >= {"index.html", "app.js", "style.css", "docs.html", "docs.js"}


def test_openapi_schema_and_offline_docs(client):
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {
        "/api/ask",
        "/api/chat",
        "/api/chat/stream",
        "/api/conversations",
        "/api/conversations/{conversation_id}",
        "/api/answers/{answer_id}/feedback",
        "/api/sources",
        "/api/passages/{chunk_id}",
        "/healthz",
        "/readyz",
    } <= paths
    assert schema["paths"]["/api/ask"]["post"]["responses"]["429"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/docs.js" in docs.text and "cdn" not in docs.text
    assert client.get("/redoc").status_code == 404


# ---------------------------------------------------------------- bad input: status, Dutch message, still serving


@pytest.mark.parametrize(
    ("request_kwargs", "status", "code", "phrase"),
    [
        ({"json": {"question": ""}}, 400, "invalid_question", "leeg"),
        ({"json": {"question": "   "}}, 400, "invalid_question", "leeg"),
        ({"json": {"question": "?!"}}, 400, "invalid_question", "woorden"),
        ({"json": {"question": "vacatures " * 1000}}, 400, "invalid_question", "te lang"),
        (
            {"content": b'{"question": "Hoeveel', "headers": {"content-type": "application/json"}},
            400,
            "invalid_json",
            "geen geldige json",
        ),
        ({"json": {"vraag": FACTUAL}}, 422, "invalid_request", "'question' ontbreekt"),
        ({"json": {"question": 42}}, 422, "invalid_request", "moet tekst zijn"),
        ({"json": ["Hoeveel vacatures?"]}, 422, "invalid_request", "json-object"),
        (
            {"content": b"question=hallo", "headers": {"content-type": "application/x-www-form-urlencoded"}},
            422,
            "invalid_request",
            "json-object",
        ),
    ],
    ids=[
        "empty",
        "blank",
        "no-words",
        "10000-chars",
        "invalid-json",
        "missing-field",
        "wrong-type",
        "not-an-object",
        "form-encoded",
    ],
)
def test_bad_questions_get_a_clear_dutch_error(client, request_kwargs, status, code, phrase):
    for path in ("/api/ask", "/api/chat", "/api/chat/stream"):
        message = assert_dutch_error(client.post(path, **request_kwargs), status, code)
        assert phrase in message.lower()
    assert_still_serving(client)


def test_ten_thousand_characters_fit_the_body_limit_but_not_the_question_limit(client, services):
    question = "x" * 10_000
    assert len(json.dumps({"question": question})) < services.settings.web.max_body_bytes
    message = assert_dutch_error(client.post("/api/ask", json={"question": question}), 400, "invalid_question")
    assert "10000 tekens" in message and str(services.settings.guard.max_question_chars) in message


def test_unknown_conversation_is_404(client):
    for response in (
        client.post("/api/chat", json={"question": FACTUAL, "conversation_id": "bestaat-niet"}),
        client.post("/api/chat/stream", json={"question": FACTUAL, "conversation_id": "bestaat-niet"}),
        client.get("/api/conversations/bestaat-niet"),
    ):
        assert "gesprek" in assert_dutch_error(response, 404, "conversation_not_found")
    assert_still_serving(client)


def test_unknown_route_and_wrong_method(client):
    assert_dutch_error(client.get("/api/bestaat-niet"), 404, "not_found")
    assert client.get("/api/ask").status_code == 405 and client.get("/api/ask").json()["error"]["message"]


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_body_over_the_limit_is_413(client, services, declared):
    size = services.settings.web.max_body_bytes + 1
    body = json.dumps({"question": "x" * size}).encode()
    content = (
        body if declared else iter([body[:1000], body[1000:]])
    )  # an iterator is sent chunked, without Content-Length
    response = client.post("/api/ask", content=content, headers={"content-type": "application/json"})
    assert "te groot" in assert_dutch_error(response, 413, "body_too_large")
    assert_still_serving(client)


def test_api_keys_when_configured(index_settings, assistant, tmp_path):
    services = make_services(index_settings, assistant, tmp_path, api_keys=["sleutel-a", "sleutel-b"])
    client = TestClient(web.create_app(services.settings, services))
    assert_dutch_error(client.post("/api/ask", json={"question": FACTUAL}), 401, "unauthorized")
    wrong = client.post("/api/ask", json={"question": FACTUAL}, headers={"Authorization": "Bearer fout"})
    assert "api-sleutel" in assert_dutch_error(wrong, 401, "unauthorized").lower()
    assert wrong.headers["www-authenticate"] == "Bearer"
    for key in ("sleutel-a", "sleutel-b"):
        assert (
            client.post("/api/ask", json={"question": FACTUAL}, headers={"Authorization": f"Bearer {key}"}).status_code
            == 200
        )
    # Probes and the page itself stay open (the page asks for the key when the API says 401).
    assert (
        client.get("/healthz").status_code == 200
        and client.get("/readyz").status_code == 200
        and client.get("/").status_code == 200
    )


def test_api_keys_are_off_by_default():
    assert Settings().web.api_keys == []


def test_rate_limit_per_key_is_429_and_other_keys_go_on(index_settings, assistant, tmp_path):
    services = make_services(index_settings, assistant, tmp_path, api_keys=["a", "b"], rate_limit_per_minute=3)
    client = TestClient(web.create_app(services.settings, services))
    key_a, key_b = {"Authorization": "Bearer a"}, {"Authorization": "Bearer b"}
    assert [client.get("/api/sources", headers=key_a).status_code for _ in range(3)] == [200, 200, 200]
    limited = client.post("/api/ask", json={"question": FACTUAL}, headers=key_a)
    assert "te veel" in assert_dutch_error(limited, 429, "rate_limited").lower()
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert client.post("/api/ask", json={"question": FACTUAL}, headers=key_b).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_rate_limiter_window_slides():
    limiter = web.RateLimiter(2, window=0.2)
    assert [limiter.check("k"), limiter.check("k")] == [0.0, 0.0]
    wait = limiter.check("k")
    assert 0 < wait <= 0.2 and limiter.check("other") == 0.0
    time.sleep(wait + 0.01)
    assert limiter.check("k") == 0.0


def test_index_not_built_is_503_and_the_server_keeps_serving(tmp_path):
    settings = Settings(index_dir=tmp_path / "empty-index", audit_db=tmp_path / "audit.sqlite3")
    client = TestClient(web.create_app(settings))
    for response in (
        client.post("/api/ask", json={"question": FACTUAL}),
        client.post("/api/chat", json={"question": FACTUAL}),
        client.post("/api/chat/stream", json={"question": FACTUAL}),
        client.get("/readyz"),
    ):
        assert "geïndexeerd" in assert_dutch_error(response, 503, "index_not_built")
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/").status_code == 200
    sources = client.get("/api/sources").json()
    assert sources["index_ready"] is False and all(s["passages"] == 0 for s in sources["sources"])


# ---------------------------------------------------------------- error mapping and channel mounts


class _Failing(Services):
    def __init__(self, settings, audit, error):
        super().__init__(settings, audit)
        self.error = error

    def answer(self, question, channel, conversation_id=None):
        raise self.error


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (QuestionError("bad", "Deze vraag kan ik niet verwerken."), 400, "invalid_question"),
        (IndexNotBuiltError("none"), 503, "index_not_built"),
        (ConfigError("bad setting"), 500, "config_error"),
        (CorpusError("bad file"), 500, "corpus_error"),
        (BackendError("chroma down"), 500, "backend_error"),
        (AssistantError("other"), 500, "assistant_error"),
    ],
)
def test_every_assistant_error_maps_to_a_status_and_its_dutch_message(tmp_path, error, status, code):
    settings = Settings(index_dir=tmp_path / "index", audit_db=tmp_path / "audit.sqlite3")
    services = _Failing(settings, AuditLog(settings.audit_db), error)
    client = TestClient(web.create_app(settings, services), raise_server_exceptions=False)
    response = client.post("/api/ask", json={"question": FACTUAL})
    assert response.status_code == status
    assert response.json() == {"error": {"code": code, "message": error.message_nl}}
    assert client.get("/healthz").status_code == 200


def test_every_error_class_is_mapped():
    import assistant.errors as errors

    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, AssistantError)]
    assert set(classes) <= set(web.ERROR_STATUS)


@pytest.mark.parametrize(
    "face, sdk, setting, env",
    [
        ("slack", "slack_bolt", "ASSISTANT_SLACK__SIGNING_SECRET", {"slack": {"signing_secret": "s3cret"}}),
        ("teams", "botbuilder", "ASSISTANT_TEAMS__BOT_ENABLED", {"teams": {"bot_enabled": True}}),
    ],
)
def test_a_configured_face_without_its_extra_says_what_to_install(monkeypatch, tmp_path, face, sdk, setting, env):
    import assistant.channels as channels
    from assistant.channels import channel_mounts

    # as on a machine where `pip install -e .` left the SDK out: importing it (or any part of it) fails,
    # also when another test imported it already; the face's module is imported afresh
    for name in [m for m in sys.modules if m == sdk or m.startswith(sdk + ".")] or [sdk]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, f"assistant.channels.{face}", raising=False)
    monkeypatch.delattr(channels, face, raising=False)
    settings = Settings(index_dir=tmp_path / "index", **env)
    with pytest.raises(ConfigError) as err:
        channel_mounts(settings)
    assert setting in str(err.value) and f"pip install -e '.[{face}]'" in str(err.value)
    # an unconfigured face is never imported, so the chat page starts without either SDK
    assert channel_mounts(Settings(index_dir=tmp_path / "index")) == []
    assert f"assistant.channels.{face}" not in sys.modules


def test_configured_faces_with_their_extras_are_mounted(tmp_path):
    from assistant.channels import channel_mounts

    settings = Settings(index_dir=tmp_path / "index", slack={"signing_secret": "s"}, teams={"bot_enabled": True})
    mounts = channel_mounts(settings)
    assert [(m.__module__, m.__name__) for m in mounts] == [
        ("assistant.channels.slack", "mount"),
        ("assistant.channels.teams", "mount"),
    ]


def test_other_channels_are_mounted_after_the_web_routes(monkeypatch, services):
    calls = []

    def mount(app, given):
        calls.append(given)
        app.add_api_route("/healthz", lambda: {"status": "shadowed"})  # registered later, so the web route wins
        app.add_api_route("/channel-x/events", lambda: {"channel": "x"}, methods=["POST"])

    monkeypatch.setattr(web, "channel_mounts", lambda settings: [mount])
    client = TestClient(web.create_app(services.settings, services))
    assert calls == [services]
    assert client.get("/healthz").json() == {"status": "ok"}
    # The web API's body limit is not imposed on other channels' routes (they have their own).
    big = b"x" * (services.settings.web.max_body_bytes * 2)
    assert client.post("/channel-x/events", content=big).json() == {"channel": "x"}


# ---------------------------------------------------------------- `assistant serve` on a fresh machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_builds_a_missing_index_then_serves(index_settings, tmp_path):
    # An empty index folder; the session's embedding cache (shareable) keeps the build quick.
    cache = index_settings.embedding_cache or index_settings.index_dir / "embedding-cache.sqlite3"
    port = _free_port()
    env = {
        **os.environ,
        "ASSISTANT_INDEX_DIR": str(tmp_path / "index"),
        "ASSISTANT_AUDIT_DB": str(tmp_path / "audit.sqlite3"),
        "ASSISTANT_CORPUS_DIR": str(index_settings.corpus_dir),
        "ASSISTANT_EMBEDDING_CACHE": str(cache),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline, ready = time.monotonic() + 180, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert ready is not None and ready.status_code == 200, (
            proc.stdout.read() if proc.poll() is not None else "timeout"
        )
        answer = httpx.post(f"http://127.0.0.1:{port}/api/ask", json={"question": FACTUAL}, timeout=30).json()
        assert "[1]" in answer["answer"]
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=30)
    assert "No index yet: indexing the approved sources" in output
