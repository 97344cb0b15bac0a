"""More than one server process: two app instances ("nodes") in this test process share a real PostgreSQL
(audit log, feedback, conversations) and a real Redis (replay protection, rate limits), both started by
tests/servers.py. A conversation goes on at the other node, a replay to the other node is refused, rate
limits count across nodes; PostgreSQL stopped mid-test still serves answers and delivers every spooled row
once when it is back; Redis stopped refuses signed Slack and Teams requests and says why in the log.
Slack requests are the stored samples, signed as Slack signs them, sent over HTTP to each node under uvicorn.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from contextlib import ExitStack
from types import SimpleNamespace

import httpx
import pytest
import sqlalchemy
from chat_servers import Recorder, serve
from fastapi.testclient import TestClient
from test_slack import SECRET, event, post_event, posts, sign, slack_api_respond
from test_teams import WEBHOOK_SECRET, post_webhook, webhook_payload

from assistant.audit import AuditLog
from assistant.channels import Services, web
from assistant.channels.render import UNCHECKED_NOTE
from assistant.settings import SlackSettings, TeamsSettings, WebSettings
from assistant.state import MemoryState, RedisState, SharedState

FACTUAL = "Hoeveel vacatures stonden er eind tweede kwartaal 2025 open in Groningen?"
FOLLOW_UP = "En in de zorg?"
PREDICTION = "Wat is jouw eigen voorspelling voor het aantal vacatures in Groningen in 2031?"


def node(index_settings, assistant, tmp_path, name: str, audit: AuditLog | None = None, **update) -> Services:
    """One app instance's services: its own data folder (where its spool lives), the shared servers' URLs."""
    settings = index_settings.model_copy(update={"audit_db": tmp_path / name / "audit.sqlite3", **update})
    return Services(settings, audit or AuditLog.from_settings(settings), _assistant=assistant)


def db_rows(url: str, table: str) -> list[dict]:
    """Rows as PostgreSQL holds them, read past the application."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(sqlalchemy.text(f"SELECT * FROM {table}"))]
    finally:
        engine.dispose()


@pytest.fixture
def slack_api():
    with Recorder(slack_api_respond) as api:
        yield api


def chat_node(services: Services, stack: ExitStack) -> SimpleNamespace:
    """The whole app of one node (web API, Slack, Teams webhook) under a real uvicorn server."""
    url = stack.enter_context(serve(web.create_app(services.settings, services)))
    return SimpleNamespace(url=url, services=services)


def chat_settings(api_url: str, **update) -> dict:
    return {
        "slack": SlackSettings(signing_secret=SECRET, bot_token="xoxb-test-token", api_base_url=f"{api_url}/api/"),
        "teams": TeamsSettings(outgoing_webhook_secret=WEBHOOK_SECRET),
        **update,
    }


# ---------------------------------------------------------------------------
# Both implementations of the one interface


@pytest.fixture(params=["memory", "redis"])
def state(request):
    return MemoryState() if request.param == "memory" else RedisState(request.getfixturevalue("redis_url"))


def test_every_state_keeps_the_contract(state):
    assert isinstance(state, SharedState)
    assert state.first_seen("slack-signature", "v0=abc", 0.3) is True
    assert state.first_seen("slack-signature", "v0=abc", 0.3) is False
    assert state.first_seen("teams-webhook", "v0=abc", 0.3) is True  # kinds do not share keys
    assert [state.hit("web", "key:a", 2, 0.5) for _ in range(2)] == [0.0, 0.0]
    wait = state.hit("web", "key:a", 2, 0.5)
    assert 0 < wait <= 0.5 and state.hit("web", "key:b", 2, 0.5) == 0.0
    time.sleep(0.55)
    assert state.first_seen("slack-signature", "v0=abc", 0.3) is True  # remembered for its ttl only
    assert state.hit("web", "key:a", 2, 0.5) == 0.0


def test_redis_keys_hold_no_secret(redis_url):
    import redis

    RedisState(redis_url).first_seen("slack-signature", "1760000000:v0=secret-signature", 60)
    RedisState(redis_url).hit("web", "key:api-key-of-an-advisor", 60, 60)
    keys = [k.decode() for k in redis.Redis.from_url(redis_url).keys("*")]
    assert len(keys) == 2 and all(k.startswith("aimi:") for k in keys)
    assert not any("secret" in k or "advisor" in k for k in keys)


# ---------------------------------------------------------------------------
# PostgreSQL: one audit log and one set of conversations for every node


def test_a_conversation_goes_on_at_the_other_node(index_settings, assistant, tmp_path, postgres_url):
    a = node(index_settings, assistant, tmp_path, "a", database_url=postgres_url)
    b = node(index_settings, assistant, tmp_path, "b", database_url=postgres_url)
    assert a.audit.dialect == b.audit.dialect == "postgresql"
    node_a, node_b = TestClient(web.create_app(a.settings, a)), TestClient(web.create_app(b.settings, b))

    first = node_a.post("/api/chat", json={"question": FACTUAL}).json()
    conversation = first["conversation_id"]
    assert node_b.get(f"/api/conversations/{conversation}").json()["questions"] == [FACTUAL]

    follow_up = node_b.post("/api/chat", json={"question": FOLLOW_UP, "conversation_id": conversation}).json()
    read_with_history = assistant.ask(FOLLOW_UP, history=[FACTUAL])
    assert follow_up["answer"] == read_with_history.answer, "node b read the turn node a answered"
    assert read_with_history.answer != assistant.ask(FOLLOW_UP).answer  # so the history made the difference
    assert node_a.get(f"/api/conversations/{conversation}").json()["questions"] == [FACTUAL, FOLLOW_UP]

    started = node_b.post("/api/conversations").json()["conversation_id"]
    assert node_a.get(f"/api/conversations/{started}").status_code == 200
    assert node_a.get("/api/conversations/onbekend").status_code == 404

    rated = node_a.post(f"/api/answers/{follow_up['answer_id']}/feedback", json={"rating": "missing_source"})
    assert rated.status_code == 201

    # any node's `assistant audit` reads the same log
    records = AuditLog(postgres_url, tmp_path / "cli-spool.sqlite3").recent(10)
    assert [r["id"] for r in records] == [follow_up["answer_id"], first["answer_id"]]
    assert records[0]["feedback"][0]["rating"] == "missing_source" and records[1]["citations"][0]["source_version"]
    # in PostgreSQL itself, not in a node's SQLite file or spool
    assert {r["id"] for r in db_rows(postgres_url, "answers")} == {first["answer_id"], follow_up["answer_id"]}
    assert [r["id"] for r in db_rows(postgres_url, "conversations")] == [started]
    assert [r["uid"] is not None for r in db_rows(postgres_url, "feedback")] == [True]
    assert not any((tmp_path / n).exists() for n in ("a", "b"))


def test_a_slack_thread_goes_on_at_the_other_node(index_settings, assistant, tmp_path, postgres_url, slack_api):
    with ExitStack() as stack:
        nodes = [
            chat_node(
                node(
                    index_settings, assistant, tmp_path, name, **chat_settings(slack_api.url, database_url=postgres_url)
                ),
                stack,
            )
            for name in ("a", "b")
        ]
        first = event("slack_app_mention.json", channel="C0NODES")
        root = first["event"]["ts"]
        assert post_event(nodes[0], first).status_code == 200
        slack_api.wait_for(posts(None, "C0NODES"))
        follow_up = event("slack_app_mention.json", channel="C0NODES", text=f"<@U0BOT> {FOLLOW_UP}", thread_ts=root)
        assert post_event(nodes[1], follow_up).status_code == 200
        calls = slack_api.wait_for(posts(None, "C0NODES"), count=2)
        expected = assistant.ask(FOLLOW_UP, history=[FACTUAL]).answer.split(" [1]")[0]
        assert expected in calls[1].json["blocks"][0]["text"]["text"].replace("&amp;", "&")
        assert nodes[0].services.audit.history(f"slack:C0NODES:{root}") == [FACTUAL, FOLLOW_UP]


# ---------------------------------------------------------------------------
# Redis: replay protection and rate limits for every node


def test_a_request_replayed_to_the_other_node_is_refused(index_settings, assistant, tmp_path, redis_url, slack_api):
    with ExitStack() as stack:
        a, b = (
            chat_node(
                node(index_settings, assistant, tmp_path, n, **chat_settings(slack_api.url, redis_url=redis_url)), stack
            )
            for n in ("a", "b")
        )
        assert isinstance(a.services.state, RedisState) and a.services.state is not b.services.state

        genuine = event("slack_app_mention.json", channel="C0REPLAYNODE")
        body = json.dumps(genuine).encode()
        headers = {"Content-Type": "application/json", **sign(body)}
        assert httpx.post(f"{a.url}/slack/events", content=body, headers=headers).status_code == 200
        replay = httpx.post(f"{b.url}/slack/events", content=body, headers=headers)
        assert replay.status_code == 401 and replay.json() == {"error": "replayed request"}

        # Slack's own retry is signed afresh: accepted, but the event is answered once, by whichever node
        retry = post_event(b, genuine, headers={"X-Slack-Retry-Num": "1"}, timestamp=int(time.time()) + 1)
        assert retry.status_code == 200
        slack_api.wait_for(posts(None, "C0REPLAYNODE"))
        time.sleep(0.5)
        assert len(slack_api.matching(posts(None, "C0REPLAYNODE"))) == 1

        payload = webhook_payload()
        assert post_webhook(a, payload).status_code == 200
        assert post_webhook(b, payload).status_code == 401


def test_rate_limits_count_across_nodes(index_settings, assistant, tmp_path, redis_url):
    limits = {"web": WebSettings(api_keys=["a", "b"], rate_limit_per_minute=3)}
    shared = [node(index_settings, assistant, tmp_path, n, redis_url=redis_url, **limits) for n in ("a", "b")]
    node_a, node_b = (TestClient(web.create_app(s.settings, s)) for s in shared)
    key_a, key_b = {"Authorization": "Bearer a"}, {"Authorization": "Bearer b"}
    statuses = [c.get("/api/sources", headers=key_a).status_code for c in (node_a, node_b, node_a)]
    assert statuses == [200, 200, 200]
    for client in (node_a, node_b):
        limited = client.get("/api/sources", headers=key_a)
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
        assert "te veel" in limited.json()["error"]["message"].lower()
    assert node_b.get("/api/sources", headers=key_b).status_code == 200  # another key counts on its own

    # without Redis each process counts alone: the same six requests would all pass
    alone = [node(index_settings, assistant, tmp_path, n, **limits) for n in ("c", "d")]
    assert all(isinstance(s.state, MemoryState) for s in alone)
    clients = [TestClient(web.create_app(s.settings, s)) for s in alone]
    assert [c.get("/api/sources", headers=key_a).status_code for c in clients * 3] == [200] * 6


# ---------------------------------------------------------------------------
# Faults


def spool_copy(audit: AuditLog, to) -> None:
    """A consistent copy of a node's spool (as if the node died after writing the database, before clearing
    the spool)."""
    with sqlite3.connect(audit.spool_path) as source, sqlite3.connect(to) as target:
        source.backup(target)


def test_postgres_stopped_answers_go_on_and_every_row_arrives_once(
    index_settings, assistant, tmp_path, postgres_server, postgres_url, caplog
):
    caplog.set_level(logging.WARNING, logger="assistant.audit")
    spool = tmp_path / "a" / "audit-spool.sqlite3"
    a = node(index_settings, assistant, tmp_path, "a", AuditLog(postgres_url, spool, flush_s=0.5))
    client = TestClient(web.create_app(a.settings, a))
    served: list[str] = []

    def ask(body: dict) -> dict:
        response = client.post("/api/chat" if "conversation_id" in body else "/api/ask", json=body)
        assert response.status_code == 200, response.text
        served.append(response.json()["answer_id"])
        return response.json()

    ask({"question": FACTUAL})
    started = client.post("/api/conversations").json()["conversation_id"]
    ask({"question": FACTUAL, "conversation_id": started})
    assert len(db_rows(postgres_url, "answers")) == 2

    postgres_server.stop()
    outage = [ask({"question": q}) for q in (FACTUAL, PREDICTION)]
    during = client.post("/api/chat", json={"question": FACTUAL}).json()  # a conversation begun in the outage
    served.append(during["answer_id"])
    follow_up = ask({"question": FOLLOW_UP, "conversation_id": during["conversation_id"]})
    assert follow_up["answer"] == assistant.ask(FOLLOW_UP, history=[FACTUAL]).answer, "history read from the spool"
    assert outage[1]["refused"] and "[1]" in outage[0]["answer"]
    assert client.post(f"/api/answers/{outage[0]['answer_id']}/feedback", json={"rating": "helpful"}).status_code == 201
    assert a.audit.pending == 5 and spool.exists()  # four answers, one rating
    assert any("unreachable" in r.getMessage() and "spooled" in r.getMessage() for r in caplog.records)
    spool_copy(a.audit, tmp_path / "spool-copy.sqlite3")

    postgres_server.start()  # no write follows: the periodic flush delivers the spool
    deadline = time.monotonic() + 30
    while a.audit.pending and time.monotonic() < deadline:
        time.sleep(0.2)
    assert a.audit.pending == 0
    stored = db_rows(postgres_url, "answers")
    assert sorted(r["id"] for r in stored) == sorted(served) and len(stored) == len(served) == 6
    assert [(f["answer_id"], f["rating"]) for f in db_rows(postgres_url, "feedback")] == [
        (outage[0]["answer_id"], "helpful")
    ]

    # the same spool written a second time (a node that died before clearing it) adds nothing
    again = AuditLog(postgres_url, tmp_path / "spool-copy.sqlite3")
    assert again.pending == 5 and again.flush() == 5
    assert len(db_rows(postgres_url, "answers")) == 6 and len(db_rows(postgres_url, "feedback")) == 1
    again.close()

    # a node whose periodic flush is far off: the first write that reaches the database brings the spool along
    b = node(
        index_settings, assistant, tmp_path, "b", AuditLog(postgres_url, tmp_path / "b.spool", flush_s=3600, retry_s=0)
    )
    other = TestClient(web.create_app(b.settings, b))
    postgres_server.stop()
    for question in (FACTUAL, PREDICTION):
        response = other.post("/api/ask", json={"question": question})
        assert response.status_code == 200
        served.append(response.json()["answer_id"])
    postgres_server.start()
    assert b.audit.pending == 2
    served.append(other.post("/api/ask", json={"question": FACTUAL}).json()["answer_id"])
    assert b.audit.pending == 0
    stored = db_rows(postgres_url, "answers")
    assert sorted(r["id"] for r in stored) == sorted(served) and len(stored) == 9
    assert a.audit.history(during["conversation_id"]) == [FACTUAL, FOLLOW_UP]
    a.audit.close()
    b.audit.close()


def test_redis_stopped_signed_requests_are_refused_and_the_log_says_why(
    index_settings, assistant, tmp_path, redis_server, redis_url, slack_api, caplog
):
    caplog.set_level(logging.WARNING)
    limits = WebSettings(rate_limit_per_minute=3)
    with ExitStack() as stack:
        a = chat_node(
            node(
                index_settings,
                assistant,
                tmp_path,
                "a",
                **chat_settings(slack_api.url, redis_url=redis_url, web=limits),
            ),
            stack,
        )
        redis_server.stop()

        refused = post_event(a, event("slack_app_mention.json", channel="C0NOREDIS"))
        assert refused.status_code == 503
        assert refused.json() == {"error": "replay protection unavailable"}
        webhook = post_webhook(a, webhook_payload())
        assert webhook.status_code == 503 and webhook.json()["text"] == UNCHECKED_NOTE
        messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert any(m.startswith("Refused a signed Slack request") and "Redis at" in m for m in messages), messages
        assert any(m.startswith("Refused a signed Teams webhook request") and "unreachable" in m for m in messages)

        # plain web chat fails open to this process's own count (channels/web.py says why)
        asks = [httpx.post(f"{a.url}/api/ask", json={"question": FACTUAL}, timeout=30) for _ in range(4)]
        assert [r.status_code for r in asks] == [200, 200, 200, 429]
        assert any("Rate limit counted per process" in r.getMessage() for r in caplog.records)

        time.sleep(0.5)
        assert not slack_api.matching(posts(None, "C0NOREDIS")), "a refused request is never answered"
        redis_server.start()
        assert post_event(a, event("slack_app_mention.json", channel="C0REDISBACK")).status_code == 200
        slack_api.wait_for(posts(None, "C0REDISBACK"))
