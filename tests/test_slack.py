"""Slack channel, end to end: stored sample payloads sent as real HTTP requests, signed the
way Slack signs them, to the app under uvicorn; the bot's Web API calls land on a local
recorder standing in for slack.com/api. Rendering limits are checked on synthetic answers.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

import httpx
import pytest
from chat_servers import Call, Recorder, serve
from fastapi import FastAPI

from assistant.audit import AuditLog
from assistant.channels import Services, slack
from assistant.channels.render import EMPTY_HINT, FEEDBACK_THANKS, FILE_HINT, REFUSAL_TITLE, page_label, source_age
from assistant.settings import SlackSettings
from assistant.types import Answer, Citation

DATA = Path(__file__).parent / "data"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_USER = "U0BOT"
FACTUAL = "Hoeveel vacatures stonden er eind tweede kwartaal 2025 open in Groningen?"
PREDICTION = "Hoeveel vacatures verwacht je in 2031?"
TABLE_ROW = "Hoeveel onderbenutte deeltijders waren er in 2024?"

_ts = itertools.count(1)


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def new_ts() -> str:
    return f"{1760000000 + next(_ts)}.{next(_ts):06d}"


def slack_api_respond(call: Call) -> tuple[int, dict]:
    method = call.path.rsplit("/", 1)[-1]
    if call.path.startswith("/respond/"):
        return 200, {"ok": True}
    if method == "auth.test":
        return 200, {
            "ok": True,
            "url": "https://uwv-test.slack.com/",
            "team": "Test",
            "user": "aimi",
            "team_id": "T0TEAM",
            "user_id": BOT_USER,
            "bot_id": "B0BOT",
        }
    if method == "chat.postMessage":
        if call.json.get("channel") == "C0NOTIN":
            return 200, {"ok": False, "error": "not_in_channel"}
        return 200, {
            "ok": True,
            "channel": call.json.get("channel"),
            "ts": new_ts(),
            "message": {"text": call.json.get("text", "")},
        }
    if method == "chat.postEphemeral":
        return 200, {"ok": True, "message_ts": new_ts()}
    return 200, {"ok": False, "error": "unknown_method"}


@pytest.fixture(scope="module")
def slack_app(index_settings, assistant, tmp_path_factory):
    with Recorder(slack_api_respond) as api:
        settings = index_settings.model_copy(
            update={
                "audit_db": tmp_path_factory.mktemp("slack-audit") / "audit.sqlite3",
                "slack": SlackSettings(
                    signing_secret=SECRET, bot_token="xoxb-test-token", api_base_url=f"{api.url}/api/"
                ),
            }
        )
        services = Services(settings, AuditLog(settings.audit_db), _assistant=assistant)
        app = FastAPI()
        slack.mount(app, services)
        with serve(app) as base_url:
            yield SimpleNamespace(url=base_url, api=api, services=services)


def sign(body: bytes, timestamp: str | int | None = None, secret: str = SECRET) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def post_event(app, payload: dict, headers: dict | None = None, **sign_args) -> httpx.Response:
    body = json.dumps(payload).encode()
    all_headers = {"Content-Type": "application/json", **sign(body, **sign_args), **(headers or {})}
    return httpx.post(f"{app.url}/slack/events", content=body, headers=all_headers, timeout=10)


def post_form(app, fields: dict, **sign_args) -> httpx.Response:
    body = urlencode(fields).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, **sign_args)}
    return httpx.post(f"{app.url}/slack/events", content=body, headers=headers, timeout=10)


def event(name: str, *, channel: str, text: str | None = None, **fields) -> dict:
    """A stored sample payload with a fresh event id and timestamp, in its own channel."""
    payload = copy.deepcopy(load(name))
    ts = new_ts()
    payload["event_id"] = f"Ev{ts.replace('.', '')}"
    payload["event"].update({"channel": channel, "ts": ts, "event_ts": ts, **fields})
    if text is not None:
        payload["event"]["text"] = text
    return payload


def posts(app, channel: str):
    return lambda c: c.path.endswith("/chat.postMessage") and c.json.get("channel") == channel


def block_text(blocks: list[dict]) -> str:
    out = []
    for b in blocks:
        if "text" in b:
            out.append(b["text"]["text"])
        out.extend(e.get("text", "") for e in b.get("elements", []) if isinstance(e.get("text"), str))
    return "\n".join(out)


def audit_row(app, conversation_id: str) -> dict:
    rows = [r for r in app.services.audit.recent(500) if r["conversation_id"] == conversation_id]
    assert rows, f"no audit record for {conversation_id}"
    return rows[0]


# ---------------------------------------------------------------------------
# Answers


def test_app_mention_answered_in_thread_with_cited_blocks(slack_app):
    payload = event("slack_app_mention.json", channel="C0MENTION")
    ts = payload["event"]["ts"]
    started = time.monotonic()
    response = post_event(slack_app, payload)
    assert response.status_code == 200
    assert time.monotonic() - started < 3, "Slack needs its acknowledgement within 3 seconds"

    [call] = slack_app.api.wait_for(posts(slack_app, "C0MENTION"))
    message = call.json
    assert message["thread_ts"] == ts
    assert call.headers["authorization"] == "Bearer xoxb-test-token"
    blocks = message["blocks"]
    assert not any(b.get("block_id") == "refusal" for b in blocks)
    text = block_text(blocks)

    row = audit_row(slack_app, f"slack:C0MENTION:{ts}")
    assert row["channel"] == "slack" and row["question"] == FACTUAL and not row["refused"]
    assert row["citations"], "a factual answer carries citations"
    answer = slack_app.services.assistant.ask(FACTUAL)
    for c in answer.citations:
        assert c.page
        assert f"*[{c.n}]*" in text and page_label(c) in text
        assert source_age(c) in text and "gepubliceerd 1 november 2025" in text  # how old the figure is
        assert c.quote[:40] in text.replace("&amp;", "&")
    assert "[1]" in blocks[0]["text"]["text"]

    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        "feedback:helpful",
        "feedback:not_helpful",
        "feedback:missing_source",
    ]
    assert {e["value"] for e in actions["elements"]} == {row["id"]}


def test_follow_up_in_thread_uses_earlier_turns(slack_app):
    first = event("slack_app_mention.json", channel="C0THREAD")
    root = first["event"]["ts"]
    assert post_event(slack_app, first).status_code == 200
    slack_app.api.wait_for(posts(slack_app, "C0THREAD"))

    follow_up = event("slack_app_mention.json", channel="C0THREAD", text="<@U0BOT> En in de zorg?", thread_ts=root)
    assert post_event(slack_app, follow_up).status_code == 200
    calls = slack_app.api.wait_for(posts(slack_app, "C0THREAD"), count=2)
    assert all(c.json["thread_ts"] == root for c in calls)
    assert slack_app.services.audit.history(f"slack:C0THREAD:{root}") == [FACTUAL, "En in de zorg?"]


def test_three_turn_thread_answers_each_turn_with_the_turns_before(slack_app):
    first = event("slack_app_mention.json", channel="C0THREE")
    root = first["event"]["ts"]
    turns = [FACTUAL, "En in de zorg?", "En in 2024?"]
    assert post_event(slack_app, first).status_code == 200
    slack_app.api.wait_for(posts(slack_app, "C0THREE"))
    for n, text in enumerate(turns[1:], start=2):
        payload = event("slack_app_mention.json", channel="C0THREE", text=f"<@U0BOT> {text}", thread_ts=root)
        assert post_event(slack_app, payload).status_code == 200
        slack_app.api.wait_for(posts(slack_app, "C0THREE"), count=n)
    calls = slack_app.api.wait_for(posts(slack_app, "C0THREE"), count=3)
    assert slack_app.services.audit.history(f"slack:C0THREE:{root}") == turns
    expected = slack_app.services.assistant.ask(turns[2], history=turns[:2])  # the third turn, read with both before
    assert expected.answer.split(" [1]")[0] in calls[2].json["blocks"][0]["text"]["text"].replace("&amp;", "&")


def test_a_table_answer_is_a_dutch_sentence_in_slack(slack_app):
    payload = event("slack_app_mention.json", channel="C0TABLE", text=f"<@U0BOT> {TABLE_ROW}")
    assert post_event(slack_app, payload).status_code == 200
    [call] = slack_app.api.wait_for(posts(slack_app, "C0TABLE"))
    lead = call.json["blocks"][0]["text"]["text"]
    assert lead.startswith("Het aantal onderbenutte deeltijders bedroeg in 2024 25.000."), lead
    assert "groep:" not in lead and ";" not in lead
    assert "rij " in block_text(call.json["blocks"])  # cited as table + row


def test_direct_message_prediction_rendered_as_refusal(slack_app):
    payload = event("slack_message_im.json", channel="D0PREDICT")
    assert post_event(slack_app, payload).status_code == 200
    [call] = slack_app.api.wait_for(posts(slack_app, "D0PREDICT"))
    assert call.json["thread_ts"] == payload["event"]["ts"]
    blocks = call.json["blocks"]
    header = blocks[0]
    assert header["type"] == "header" and header["block_id"] == "refusal"
    assert REFUSAL_TITLE in header["text"]["text"]
    assert "voorspellingen" in block_text(blocks)
    assert call.json["text"].startswith(REFUSAL_TITLE)
    assert any(b["type"] == "actions" for b in blocks), "refusals can be rated too"
    row = audit_row(slack_app, f"slack:D0PREDICT:{payload['event']['ts']}")
    assert row["refused"] and row["refusal_reason"] == "prediction"


def test_slash_command_opens_a_thread_and_answers_in_it(slack_app):
    fields = load("slack_slash_command.json") | {"response_url": f"{slack_app.api.url}/respond/cmd1"}
    response = post_form(slack_app, fields)
    assert response.status_code == 200
    assert "zoek" in response.text  # immediate acknowledgement, shown to the asker only

    root, answer = slack_app.api.wait_for(posts(slack_app, "C0COMMAND"), count=2)
    assert "thread_ts" not in root.json, "the question opens a new thread"
    assert FACTUAL in root.json["text"] and "<@U0ADVISOR>" in root.json["text"]
    [row] = [
        r for r in slack_app.services.audit.recent(500) if (r["conversation_id"] or "").startswith("slack:C0COMMAND:")
    ]
    assert answer.json["thread_ts"] == row["conversation_id"].rsplit(":", 1)[1]
    assert "*[1]*" in block_text(answer.json["blocks"])


def test_slash_command_where_the_bot_cannot_post_answers_privately(slack_app):
    fields = load("slack_slash_command.json") | {
        "channel_id": "C0NOTIN",
        "response_url": f"{slack_app.api.url}/respond/cmd2",
    }
    assert post_form(slack_app, fields).status_code == 200
    [reply] = slack_app.api.wait_for(lambda c: c.path == "/respond/cmd2")
    assert reply.json["response_type"] == "ephemeral"
    assert "*[1]*" in block_text(reply.json["blocks"])


def test_slash_command_without_question_explains_usage(slack_app):
    fields = load("slack_slash_command.json") | {"text": "  ", "channel_id": "C0USAGE"}
    response = post_form(slack_app, fields)
    assert response.status_code == 200
    assert "/aimi <vraag>" in response.text
    time.sleep(0.5)
    assert not slack_app.api.matching(posts(slack_app, "C0USAGE"))


# ---------------------------------------------------------------------------
# Feedback buttons


@pytest.mark.parametrize("rating", ["helpful", "not_helpful", "missing_source"])
def test_feedback_button_lands_in_the_audit_log(slack_app, rating):
    _, answer_id = slack_app.services.answer(FACTUAL, "slack", f"slack:C0FEEDBACK:{rating}")
    payload = load("slack_block_actions.json")
    payload["actions"][0].update(action_id=f"feedback:{rating}", value=answer_id)
    payload["response_url"] = f"{slack_app.api.url}/respond/feedback"
    response = post_form(slack_app, {"payload": json.dumps(payload)})
    assert response.status_code == 200

    [confirmation] = slack_app.api.wait_for(
        lambda c: c.path.endswith("/chat.postEphemeral") and c.json.get("text") == FEEDBACK_THANKS[rating]
    )
    assert confirmation.json["user"] == "U0ADVISOR" and confirmation.json["channel"] == "C0ARBEID"
    assert confirmation.json["thread_ts"] == "1750000000.000100"
    [row] = [r for r in slack_app.services.audit.recent(500) if r["id"] == answer_id]
    assert [(f["rating"], f["channel"]) for f in row["feedback"]] == [(rating, "slack")]


def test_feedback_for_an_unknown_answer_says_so(slack_app):
    payload = load("slack_block_actions.json")
    payload["actions"][0]["value"] = "no-such-answer"
    payload["channel"]["id"] = payload["container"]["channel_id"] = "C0UNKNOWN"
    assert post_form(slack_app, {"payload": json.dumps(payload)}).status_code == 200
    [reply] = slack_app.api.wait_for(
        lambda c: c.path.endswith("/chat.postEphemeral") and c.json.get("channel") == "C0UNKNOWN"
    )
    assert "niet (meer) bekend" in reply.json["text"]


# ---------------------------------------------------------------------------
# Request verification, replays and retries


def test_forged_stale_and_replayed_requests_are_rejected(slack_app):
    forged = event("slack_app_mention.json", channel="C0FORGED")
    assert post_event(slack_app, forged, secret="not-the-signing-secret").status_code == 401

    stale = event("slack_app_mention.json", channel="C0STALE")
    assert post_event(slack_app, stale, timestamp=int(time.time()) - 6 * 60).status_code == 401

    unsigned = event("slack_app_mention.json", channel="C0UNSIGNED")
    body = json.dumps(unsigned).encode()
    assert (
        httpx.post(
            f"{slack_app.url}/slack/events", content=body, headers={"Content-Type": "application/json"}
        ).status_code
        == 401
    )

    genuine = event("slack_app_mention.json", channel="C0REPLAY")
    body = json.dumps(genuine).encode()
    headers = {"Content-Type": "application/json", **sign(body)}
    assert httpx.post(f"{slack_app.url}/slack/events", content=body, headers=headers).status_code == 200
    replay = httpx.post(f"{slack_app.url}/slack/events", content=body, headers=headers)
    assert replay.status_code == 401

    slack_app.api.wait_for(posts(slack_app, "C0REPLAY"))
    time.sleep(0.5)
    assert len(slack_app.api.matching(posts(slack_app, "C0REPLAY"))) == 1
    for channel in ("C0FORGED", "C0STALE", "C0UNSIGNED"):
        assert not slack_app.api.matching(posts(slack_app, channel))


def test_slack_retries_do_not_answer_twice(slack_app):
    payload = event("slack_app_mention.json", channel="C0RETRY")
    assert post_event(slack_app, payload).status_code == 200
    # A retry is signed afresh, with a later timestamp.
    retry = post_event(
        slack_app,
        payload,
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        timestamp=int(time.time()) + 1,
    )
    assert retry.status_code == 200
    slack_app.api.wait_for(posts(slack_app, "C0RETRY"))
    time.sleep(0.5)
    assert len(slack_app.api.matching(posts(slack_app, "C0RETRY"))) == 1
    assert (
        len(
            [
                r
                for r in slack_app.services.audit.recent(500)
                if (r["conversation_id"] or "").startswith("slack:C0RETRY:")
            ]
        )
        == 1
    )


def test_url_verification_challenge(slack_app):
    payload = {
        "token": "legacy",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
    response = post_event(slack_app, payload)
    assert response.status_code == 200
    assert response.json()["challenge"] == payload["challenge"]


# ---------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize(
    "channel, text, expected",
    [
        ("C0EMPTY", "<@U0BOT>", EMPTY_HINT),
        ("C0SHORTCODE", "<@U0BOT> :tada: :wave:", EMPTY_HINT),
        ("C0EMOJI", "<@U0BOT> 🎉", "Stel een vraag in woorden."),
        ("C0LONG", "<@U0BOT> " + "Hoeveel vacatures zijn er in Groningen? " * 125, "De vraag is te lang"),
    ],
    ids=["empty-mention", "emoji-shortcodes", "emoji-only", "5000-chars"],
)
def test_unusable_mentions_get_a_helpful_reply(slack_app, channel, text, expected):
    payload = event("slack_app_mention.json", channel=channel, text=text)
    assert post_event(slack_app, payload).status_code == 200
    [call] = slack_app.api.wait_for(posts(slack_app, channel))
    assert expected in call.json["text"]
    assert call.json["thread_ts"] == payload["event"]["ts"]


def test_file_share_gets_a_hint_not_an_answer(slack_app):
    payload = event("slack_file_share.json", channel="D0FILE")
    assert post_event(slack_app, payload).status_code == 200
    [call] = slack_app.api.wait_for(posts(slack_app, "D0FILE"))
    assert call.json["text"] == FILE_HINT


@pytest.mark.parametrize(
    "name, channel, fields",
    [
        ("slack_unknown_event.json", "C0UNKNOWNEVT", {}),
        ("slack_message_im.json", "D0EDITED", {"subtype": "message_changed"}),
        ("slack_message_im.json", "D0OWN", {"user": BOT_USER, "bot_id": "B0BOT"}),
        ("slack_message_im.json", "C0PLAIN", {"channel_type": "channel"}),
    ],
    ids=["unknown-event-type", "edited-message", "own-message", "channel-message-without-mention"],
)
def test_events_that_are_not_questions_are_acknowledged_silently(slack_app, name, channel, fields):
    payload = copy.deepcopy(load(name))
    payload["event_id"] = f"Ev{channel}"
    payload["event"].update(fields)
    payload["event"]["channel"] = channel
    response = post_event(slack_app, payload)
    assert response.status_code == 200
    time.sleep(0.5)
    assert not slack_app.api.matching(posts(slack_app, channel))


# ---------------------------------------------------------------------------
# Rendering within Block Kit limits


def long_answer(n_citations: int) -> Answer:
    citations = [
        Citation(
            n=n,
            source_id=f"src-{n}",
            title=f"Regio in Beeld 2025-2026 Groningen & Noord-Drenthe <deel {n}> " * 3,
            publisher="UWV",
            url=f"https://www.werk.nl/arbeidsmarktinformatie/regio?deel={n}&x=1",
            page=str(n),
            section="Hoofdstuk 3 | Vacatures " + "en spanning " * 20,
            quote=f"Passage {n}: " + "de vraag naar personeel blijft hoog " * 60,
            chunk_id=f"c{n}",
        )
        for n in range(1, n_citations + 1)
    ]
    text = (
        " ".join(f"Bewering nummer {n} over de arbeidsmarkt in Groningen. [{n}]" for n in range(1, n_citations + 1)) * 4
    )
    return Answer(question="Lange vraag?", answer=text, citations=citations)


@pytest.mark.parametrize("n_citations", [40, 400])
def test_long_answers_fit_block_kit_limits_without_losing_a_citation(n_citations):
    messages = slack.answer_messages(long_answer(n_citations), "answer-id")
    assert len(messages) >= 2 if n_citations == 400 else len(messages) >= 1
    seen = []
    for message in messages:
        blocks = message["blocks"]
        assert len(blocks) <= slack.MAX_BLOCKS
        assert len({b["block_id"] for b in blocks}) == len(blocks), "block ids are unique within a message"
        assert 0 < len(message["text"]) <= 4000  # Slack advises at most 4,000 characters of fallback text
        assert sum(len(slack._text_of(b)) for b in blocks) <= slack.MESSAGE_CHARS + 200
        for b in blocks:
            if b["type"] == "section":
                assert 0 < len(b["text"]["text"]) <= slack.SECTION_CHARS
            if b["type"] == "header":
                assert len(b["text"]["text"]) <= slack.HEADER_CHARS
            if b["type"] == "actions":
                assert all(len(e["text"]["text"]) <= slack.BUTTON_CHARS for e in b["elements"])
        seen += [int(n) for n in re.findall(r"\*\[(\d+)\]\*", block_text(blocks))]
    assert seen == list(range(1, n_citations + 1)), "every citation exactly once, in order"
    assert sum(b["type"] == "actions" for m in messages for b in m["blocks"]) == 1


# ---------------------------------------------------------------------------
# Deployment: the manifest and the web app


def test_manifests_match_the_app():
    import yaml

    deploy = Path(__file__).resolve().parent.parent / "deploy" / "slack"
    http = yaml.safe_load((deploy / "manifest.yaml").read_text())
    socket_mode = yaml.safe_load((deploy / "manifest.socket-mode.yaml").read_text())
    for manifest in (http, socket_mode):
        assert [c["command"] for c in manifest["features"]["slash_commands"]] == [SlackSettings().command]
        assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
        assert manifest["settings"]["interactivity"]["is_enabled"] is True
        assert {"app_mentions:read", "chat:write", "commands", "im:history"} <= set(
            manifest["oauth_config"]["scopes"]["bot"]
        )
    urls = [
        http["settings"]["event_subscriptions"]["request_url"],
        http["settings"]["interactivity"]["request_url"],
        http["features"]["slash_commands"][0]["url"],
    ]
    assert all(u.startswith("https://") and u.endswith(slack.EVENTS_PATH) for u in urls)
    assert http["settings"]["socket_mode_enabled"] is False and socket_mode["settings"]["socket_mode_enabled"] is True


def test_mounted_by_the_web_app(index_settings, assistant, tmp_path):
    from fastapi.testclient import TestClient

    from assistant.channels.web import create_app

    settings = index_settings.model_copy(
        update={
            "audit_db": tmp_path / "audit.sqlite3",
            "slack": SlackSettings(
                signing_secret=SECRET, bot_token="xoxb-test-token", api_base_url="http://127.0.0.1:9/api/"
            ),
        }
    )
    app = create_app(settings, Services(settings, AuditLog(settings.audit_db), _assistant=assistant))
    body = json.dumps({"token": "legacy", "challenge": "web-app-challenge", "type": "url_verification"}).encode()
    with TestClient(app) as client:
        response = client.post(
            "/slack/events", content=body, headers={"Content-Type": "application/json", **sign(body)}
        )
        assert response.status_code == 200 and response.json()["challenge"] == "web-app-challenge"
        assert (
            client.post("/slack/events", content=body, headers={"Content-Type": "application/json"}).status_code == 401
        )


def test_not_mounted_without_configuration(index_settings, assistant, tmp_path):
    settings = index_settings.model_copy(update={"audit_db": tmp_path / "audit.sqlite3", "slack": SlackSettings()})
    app = FastAPI()
    slack.mount(app, Services(settings, AuditLog(settings.audit_db), _assistant=assistant))
    assert slack.EVENTS_PATH not in {getattr(r, "path", "") for r in app.routes}


def test_signing_secret_without_bot_token_is_a_config_error(index_settings, assistant, tmp_path):
    from assistant.errors import ConfigError

    settings = index_settings.model_copy(
        update={"audit_db": tmp_path / "audit.sqlite3", "slack": SlackSettings(signing_secret=SECRET)}
    )
    with pytest.raises(ConfigError, match="ASSISTANT_SLACK__BOT_TOKEN"):
        slack.mount(FastAPI(), Services(settings, AuditLog(settings.audit_db), _assistant=assistant))
