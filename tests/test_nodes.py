"""Several nodes as separate processes, as they run in production: node A (`assistant serve --workers 2`) and
node B (`assistant serve`) on their own ports share one Chroma server (`chroma run`), one PostgreSQL and one
Redis, all real servers on localhost (tests/servers.py). Nothing is shared in memory: each node is its own
`python -m assistant.cli serve` with its own data folder, as if on another machine.

- a conversation started on A goes on at B; a signed Slack request replayed to B is refused; rate limits count
  across nodes and workers;
- faults: the Chroma server stopped mid-load gives a Dutch 503 (JSON, /readyz says so) and answering resumes by
  itself once it is back; PostgreSQL stopped still serves answers and every audit row arrives once; Redis
  stopped refuses signed requests on every node, and each node's log says why;
- the chat page served by the two workers of A in Chromium, through a Chroma outage and back.

The index is ingested into the Chroma server once, with the session's embedding cache (quick).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections import Counter
from types import SimpleNamespace

import httpx
import pytest
import sqlalchemy
from chat_servers import Recorder
from conftest import CHROMIUM
from servers import Node, node_env
from test_slack import SECRET, event, post_event, posts, sign, slack_api_respond
from test_teams import WEBHOOK_SECRET, post_webhook, webhook_payload

from assistant.channels.render import UNCHECKED_NOTE

FACTUAL = "Hoeveel vacatures stonden er eind tweede kwartaal 2025 open in Groningen?"
FOLLOW_UP = "En in de zorg?"
PREDICTION = "Wat is jouw eigen voorspelling voor het aantal vacatures in Groningen in 2031?"
RATE_LIMIT = 40  # per client per minute; each test speaks as its own client (X-Forwarded-For, see `client`)


def client(address: str) -> dict[str, str]:
    """Headers that make a request come from `address`: uvicorn trusts X-Forwarded-For from 127.0.0.1 (as it
    would from the reverse proxy), so each test has its own rate-limit count."""
    return {"X-Forwarded-For": address}


def db_answer_ids(url: str) -> list[str]:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(sqlalchemy.text("SELECT id FROM answers"))]
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, embedding_cache, chroma_server, postgres_server, redis_server):
    from conftest import CORPUS

    from assistant.index import ingest
    from assistant.settings import Settings

    root = tmp_path_factory.mktemp("nodes")
    for server in (chroma_server, postgres_server, redis_server):
        if not server.running():
            server.start()
    redis_server.flush()
    report = ingest(
        Settings(
            index_dir=root / "ingest", corpus_dir=CORPUS, embedding_cache=embedding_cache, chroma_url=chroma_server.url
        )
    )
    assert not report.failed, report.failed
    database = postgres_server.database()
    recorder = Recorder(slack_api_respond).__enter__()
    nodes = {}
    try:
        for name, workers in (("a", 2), ("b", 1)):
            home = root / name
            (home / "index").mkdir(parents=True)
            shutil.copy(embedding_cache, home / "index" / "embedding-cache.sqlite3")  # each node its own disk
            env = node_env(
                home,
                index_dir=str(home / "index"),
                corpus_dir=str(CORPUS),
                chroma_url=chroma_server.url,
                database_url=database,
                redis_url=redis_server.url,
                audit_flush_s="1",
                web__rate_limit_per_minute=str(RATE_LIMIT),
                slack__signing_secret=SECRET,
                slack__bot_token="xoxb-test-token",
                slack__api_base_url=f"{recorder.url}/api/",
                teams__outgoing_webhook_secret=WEBHOOK_SECRET,
            )
            nodes[name] = Node(name, home, env, workers=workers)
        for n in nodes.values():
            n.start()
        yield SimpleNamespace(
            a=nodes["a"],
            b=nodes["b"],
            database=database,
            slack=recorder,
            chroma=chroma_server,
            postgres=postgres_server,
            redis=redis_server,
        )
    finally:
        for n in nodes.values():
            n.stop()
        recorder.__exit__(None, None, None)
        for server in (chroma_server, postgres_server, redis_server):
            if not server.running():
                server.start()  # the next test module finds them as the session started them


def ask(node: Node, question: str, address: str, path: str = "/api/ask", **body) -> httpx.Response:
    return httpx.post(f"{node.url}{path}", json={"question": question, **body}, headers=client(address), timeout=60)


def wait_until(check, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


# ---------------------------------------------------------------------------
# What several processes need, and the store's reconnect (no nodes yet)


def test_more_than_one_worker_needs_redis_and_warns_about_local_state(tmp_path):
    from click.testing import CliRunner

    from assistant.channels.web import check_workers
    from assistant.cli import main
    from assistant.errors import ConfigError
    from assistant.settings import Settings

    local = Settings(index_dir=tmp_path)
    assert check_workers(local, 1) == []
    with pytest.raises(ConfigError, match="ASSISTANT_REDIS_URL"):
        check_workers(local, 2)
    warnings = check_workers(local.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}), 2)
    assert len(warnings) == 2 and "ASSISTANT_DATABASE_URL" in warnings[0] and "ASSISTANT_CHROMA_URL" in warnings[1]
    shared = local.model_copy(
        update={"redis_url": "redis://r/0", "database_url": "postgresql+psycopg://p/db", "chroma_url": "http://c:8000"}
    )
    assert check_workers(shared, 4) == []
    refused = CliRunner().invoke(main, ["serve", "--workers", "2"])  # before any index is opened or built
    assert refused.exit_code == 1 and "ASSISTANT_REDIS_URL" in refused.output


def test_the_chroma_store_reconnects_by_itself(chroma_server, tmp_path, caplog):
    import logging

    import numpy as np

    from assistant.backends import ChromaStore
    from assistant.errors import IndexUnavailable
    from assistant.settings import Settings

    caplog.set_level(logging.WARNING, logger="assistant.backends")
    store = ChromaStore(Settings(index_dir=tmp_path, chroma_url=chroma_server.url), "reconnect-test")
    vector = np.ones(4, dtype=np.float32) / 2
    store.upsert(["x@1"], np.stack([vector]), ["tekst"], [{"version": "1"}])
    assert [i for i, _ in store.search(vector, 3)] == ["x@1"]
    chroma_server.stop()
    try:
        with pytest.raises(IndexUnavailable, match="unreachable") as down:
            store.search(vector, 3)
        assert "zoekindex" in down.value.message_nl
        with pytest.raises(IndexUnavailable):
            store.ping()
    finally:
        chroma_server.start()
    assert [i for i, _ in store.search(vector, 3)] == ["x@1"], "the same store object, no restart"
    store.ping()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("is unreachable" in m for m in messages) == 1, "one log line per outage, not per request"
    assert any("is back after" in m for m in messages)
    with pytest.raises(IndexUnavailable, match="Cannot open"):
        ChromaStore(Settings(index_dir=tmp_path, chroma_url="http://127.0.0.1:9"), "nowhere")


# ---------------------------------------------------------------------------
# Shared state across processes


def test_a_conversation_started_on_one_node_goes_on_at_the_other(cluster, assistant):
    first = ask(cluster.a, FACTUAL, "10.0.1.1", "/api/chat")
    assert first.status_code == 200, first.text
    conversation = first.json()["conversation_id"]
    follow_up = ask(cluster.b, FOLLOW_UP, "10.0.1.1", "/api/chat", conversation_id=conversation)
    assert follow_up.status_code == 200, follow_up.text
    with_history = assistant.ask(FOLLOW_UP, history=[FACTUAL]).answer
    assert follow_up.json()["answer"] == with_history, "node b read the turn node a answered"
    assert with_history != assistant.ask(FOLLOW_UP).answer  # so the history made the difference
    seen = httpx.get(f"{cluster.a.url}/api/conversations/{conversation}", headers=client("10.0.1.1")).json()
    assert seen["questions"] == [FACTUAL, FOLLOW_UP]
    assert {first.json()["answer_id"], follow_up.json()["answer_id"]} <= set(db_answer_ids(cluster.database))


def test_a_signed_slack_request_replayed_to_the_other_node_is_refused(cluster):
    genuine = event("slack_app_mention.json", channel="C0NODEREPLAY")
    body = json.dumps(genuine).encode()
    headers = {"Content-Type": "application/json", **sign(body)}
    assert httpx.post(f"{cluster.a.url}/slack/events", content=body, headers=headers, timeout=10).status_code == 200
    for target in (cluster.b, cluster.a):  # the other node, and the other worker of the same node
        replay = httpx.post(f"{target.url}/slack/events", content=body, headers=headers, timeout=10)
        assert replay.status_code == 401 and replay.json() == {"error": "replayed request"}
    cluster.slack.wait_for(posts(None, "C0NODEREPLAY"))
    time.sleep(0.5)
    assert len(cluster.slack.matching(posts(None, "C0NODEREPLAY"))) == 1, "answered once"

    payload = webhook_payload()  # a Teams outgoing-webhook request, signed with its HMAC, replayed the same way
    assert post_webhook(cluster.a, payload).status_code == 200
    assert post_webhook(cluster.b, payload).status_code == 401


def test_rate_limits_count_across_nodes_and_workers(cluster):
    who = client("10.0.2.2")
    statuses = [
        httpx.get(f"{node.url}/api/sources", headers=who, timeout=10).status_code
        for node in (cluster.a, cluster.b) * (RATE_LIMIT // 2)
    ]
    assert statuses == [200] * RATE_LIMIT  # half on each node; node A's half spread over its two workers
    for node in (cluster.a, cluster.b):
        limited = httpx.get(f"{node.url}/api/sources", headers=who, timeout=10)
        assert limited.status_code == 429, "each node alone has seen only half the limit"
        assert "te veel" in limited.json()["error"]["message"].lower()
    assert httpx.get(f"{cluster.b.url}/api/sources", headers=client("10.0.2.3"), timeout=10).status_code == 200


# ---------------------------------------------------------------------------
# Faults


class Load:
    """`threads` clients asking node A and node B in turn until stopped; every response kept."""

    def __init__(self, nodes: list[Node], threads: int = 3):
        self.nodes = nodes
        self.results: list[tuple[float, int, dict]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, i: int) -> None:
        n = i
        while not self._stop.is_set():
            node = self.nodes[n % len(self.nodes)]
            n += 1
            try:
                r = ask(node, FACTUAL, f"10.0.3.{i}")
                self.results.append((time.monotonic(), r.status_code, r.json()))
            except httpx.HTTPError as exc:
                self.results.append((time.monotonic(), 0, {"transport": type(exc).__name__}))

    def __enter__(self) -> "Load":
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)


def test_chroma_stopped_mid_load_gives_a_dutch_503_and_answering_resumes_by_itself(cluster):
    pids = {n.name: n.proc.pid for n in (cluster.a, cluster.b)}
    with Load([cluster.a, cluster.b]) as load:
        time.sleep(2)
        cluster.chroma.stop()
        stopped = time.monotonic()
        wait_until(lambda: any(s == 503 for t, s, _ in load.results if t > stopped), 30, "no 503 during the outage")
        for node in (cluster.a, cluster.b):
            ready = httpx.get(f"{node.url}/readyz", timeout=10)
            assert ready.status_code == 503 and ready.json()["error"]["code"] == "index_unavailable"
        time.sleep(1)
        cluster.chroma.start()
        back = time.monotonic()
        wait_until(
            lambda: all(httpx.get(f"{n.url}/readyz", timeout=10).status_code == 200 for n in (cluster.a, cluster.b)),
            30,
            "/readyz did not recover",
        )
        wait_until(lambda: sum(s == 200 for t, s, _ in load.results if t > back) >= 6, 60, "answers did not resume")
    statuses = Counter(s for _, s, _ in load.results)
    assert set(statuses) == {200, 503}, statuses  # no 500, no hang, no dropped connection
    outage = [body for _, s, body in load.results if s == 503]
    assert {b["error"]["code"] for b in outage} == {"index_unavailable"}
    assert all("zoekindex" in b["error"]["message"] and "opnieuw" in b["error"]["message"] for b in outage)
    last = load.results[-6:]
    assert all(s == 200 and "[1]" in body["answer"] for _, s, body in last), "answering again, with citations"
    for node in (cluster.a, cluster.b):
        assert node.proc.poll() is None and node.proc.pid == pids[node.name], "no restart"
        assert "Chroma server at" in node.log() and "is back" in node.log()


def test_a_node_started_while_chroma_is_down_opens_the_index_once_it_is_back(cluster, tmp_path, embedding_cache):
    from conftest import CORPUS
    from fastapi.testclient import TestClient

    from assistant.audit import AuditLog
    from assistant.channels import Services, web
    from assistant.settings import Settings

    settings = Settings(
        index_dir=tmp_path / "index",
        corpus_dir=CORPUS,
        audit_db=tmp_path / "audit.sqlite3",
        chroma_url=cluster.chroma.url,
        embedding_cache=embedding_cache,
    )
    cluster.chroma.stop()
    try:
        services = Services(settings, AuditLog.from_settings(settings))
        assert web.ensure_index(services) is False, "serves without an index instead of ingesting or failing"
        app = TestClient(web.create_app(settings, services))
        assert app.get("/readyz").json()["error"]["code"] == "index_unavailable"
        down = app.post("/api/ask", json={"question": FACTUAL})
        assert down.status_code == 503 and "zoekindex" in down.json()["error"]["message"]
    finally:
        cluster.chroma.start()
    assert app.get("/readyz").status_code == 200
    assert "[1]" in app.post("/api/ask", json={"question": FACTUAL}).json()["answer"]


def test_postgres_stopped_answers_go_on_and_every_row_arrives_once(cluster):
    served: list[str] = []

    def answered(node: Node, question: str) -> None:
        r = ask(node, question, "10.0.4.4")
        assert r.status_code == 200, r.text
        served.append(r.json()["answer_id"])

    before = set(db_answer_ids(cluster.database))
    answered(cluster.a, FACTUAL)
    cluster.postgres.stop()
    try:
        for _ in range(3):  # node A's two workers each likely get some; each worker spools on its own
            for node in (cluster.a, cluster.b):
                answered(node, FACTUAL)
                answered(node, PREDICTION)
    finally:
        cluster.postgres.start()
    wait_until(lambda: set(served) <= set(db_answer_ids(cluster.database)), 60, "spooled rows did not arrive")
    time.sleep(1.5)  # one more flush period: nothing arrives twice
    stored = db_answer_ids(cluster.database)
    new = [i for i in stored if i not in before]
    assert sorted(new) == sorted(served) and len(new) == len(set(new)) == 13
    for node in (cluster.a, cluster.b):
        assert "rows are spooled" in node.log() and "spooled rows written" in node.log()


def test_redis_stopped_signed_requests_are_refused_on_every_node(cluster):
    cluster.redis.stop()
    try:
        for node, channel in ((cluster.a, "C0NOREDISA"), (cluster.b, "C0NOREDISB")):
            refused = post_event(node, event("slack_app_mention.json", channel=channel))
            assert refused.status_code == 503 and refused.json() == {"error": "replay protection unavailable"}
            assert any(
                line.startswith("Refused a signed Slack request") and "Redis at" in line
                for line in node.log().splitlines()
            ), node.log()[-2000:]
            webhook = post_webhook(node, webhook_payload())
            assert webhook.status_code == 503 and webhook.json()["text"] == UNCHECKED_NOTE
            assert "Refused a signed Teams webhook request" in node.log()
        # the web chat fails open to each process's own rate count (channels/web.py says why)
        assert ask(cluster.b, FACTUAL, "10.0.5.5").status_code == 200
    finally:
        cluster.redis.start()
    time.sleep(0.5)
    assert not cluster.slack.matching(posts(None, "C0NOREDISA")) and not cluster.slack.matching(
        posts(None, "C0NOREDISB")
    )
    assert post_event(cluster.b, event("slack_app_mention.json", channel="C0REDISBACK")).status_code == 200
    cluster.slack.wait_for(posts(None, "C0REDISBACK"))


# ---------------------------------------------------------------------------
# The chat page, served by two workers


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_two_workers_serve_the_chat_page_end_to_end_through_a_chroma_outage(cluster, browser):
    from test_web_browser import ask as ask_in_page

    page = browser.new_page()
    page.goto(cluster.a.url + "/")
    answered = ask_in_page(page, FACTUAL)
    assert "[1]" in answered.locator(".answer-text").inner_text()
    cluster.chroma.stop()
    try:
        failed = ask_in_page(page, FOLLOW_UP)
        assert "error" in (failed.get_attribute("class") or "")
        assert "zoekindex" in failed.locator(".error-text").inner_text()
    finally:
        cluster.chroma.start()
    again = ask_in_page(page, FACTUAL)
    assert "[1]" in again.locator(".answer-text").inner_text()
    pids = [line for line in cluster.a.log().splitlines() if "Started server process" in line]
    assert len(pids) >= 2, "node A runs two worker processes"
