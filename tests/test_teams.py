"""Teams channel, end to end: outgoing-webhook requests signed with the webhook's HMAC, and
Bot Framework activities posted as the Bot Framework Emulator does (no app id, no token),
with the bot's replies captured by a local server at the activity's serviceUrl. Cards are
validated against tests/data/adaptive-card-schema.json (Adaptive Card 1.5 subset).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import httpx
import jsonschema
import pytest
from chat_servers import Call, Recorder, serve
from fastapi import FastAPI

from assistant.audit import AuditLog
from assistant.channels import Services, teams
from assistant.channels.render import EMPTY_HINT, FEEDBACK_THANKS, FILE_HINT, REFUSAL_TITLE, page_label, source_age
from assistant.settings import TeamsSettings
from assistant.types import Answer, Citation

DATA = Path(__file__).parent / "data"
WEBHOOK_SECRET = base64.b64encode(b"teams-outgoing-webhook-security-token-32b").decode()
FACTUAL = "Hoeveel vacatures stonden er eind tweede kwartaal 2025 open in Groningen?"
PREDICTION = "Hoeveel vacatures verwacht je in 2031?"
TABLE_ROW = "Hoeveel onderbenutte deeltijders waren er in 2024?"
CARD = "application/vnd.microsoft.card.adaptive"
SCHEMA = json.loads((DATA / "adaptive-card-schema.json").read_text())


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def validate_card(card: dict) -> None:
    jsonschema.Draft6Validator(SCHEMA).validate(card)


@pytest.fixture(scope="module")
def teams_app(index_settings, assistant, tmp_path_factory):
    replies = iter(range(1, 10_000))
    with Recorder(lambda call: (200, {"id": f"reply-{next(replies)}"})) as connector:
        settings = index_settings.model_copy(
            update={
                "audit_db": tmp_path_factory.mktemp("teams-audit") / "audit.sqlite3",
                "teams": TeamsSettings(outgoing_webhook_secret=WEBHOOK_SECRET, bot_enabled=True),
            }
        )
        services = Services(settings, AuditLog(settings.audit_db), _assistant=assistant)
        assistant.ask(FACTUAL)  # warm, as the app's startup does: the webhook has 5 seconds per answer
        app = FastAPI()
        teams.mount(app, services)
        with serve(app) as base_url:
            yield SimpleNamespace(url=base_url, connector=connector, services=services)


def audit_rows(app, conversation_id: str) -> list[dict]:
    return [r for r in app.services.audit.recent(500) if r["conversation_id"] == conversation_id]


# ---------------------------------------------------------------------------
# Outgoing webhook


def webhook_payload(
    text: str | None = None, *, message_id: str | None = None, sent: datetime | None = None, **fields
) -> dict:
    payload = copy.deepcopy(load("teams_webhook_message.json"))
    stamp = (sent or datetime.now(timezone.utc)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    payload["timestamp"] = payload["localTimestamp"] = stamp
    message_id = message_id or str(time.time_ns())
    payload["id"] = message_id
    payload["conversation"]["id"] = f"19:arbeidsmarkt@thread.tacv2;messageid={message_id}"
    if text is not None:
        payload["text"] = text
        payload["attachments"] = []
    payload.update(fields)
    return payload


def post_webhook(
    app, payload: dict, *, secret: str = WEBHOOK_SECRET, authorization: str | None = None
) -> httpx.Response:
    body = json.dumps(payload).encode()
    auth = authorization if authorization is not None else teams.sign(secret, body)
    return httpx.post(
        f"{app.url}{teams.WEBHOOK_PATH}",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": auth},
        timeout=10,
    )


def test_webhook_answers_synchronously_with_sources(teams_app):
    payload = webhook_payload()
    started = time.monotonic()
    response = post_webhook(teams_app, payload)
    assert time.monotonic() - started < 5, "Teams waits at most 5 seconds"
    assert response.status_code == 200
    reply = response.json()
    assert reply["type"] == "message"
    text = reply["text"]
    assert "<at>" not in text and "**Bronnen**" in text

    [row] = audit_rows(teams_app, f"teams:{payload['conversation']['id']}")
    assert row["question"] == FACTUAL and row["channel"] == "teams" and row["citations"]
    for c in teams_app.services.assistant.ask(FACTUAL).citations:
        assert f"**[{c.n}]**" in text and page_label(c) in text and c.url in text
        assert source_age(c) in text and "gepubliceerd 1 november 2025" in text


def test_webhook_prediction_is_a_styled_refusal(teams_app):
    response = post_webhook(teams_app, webhook_payload(f"<at>Aimi</at> {PREDICTION}"))
    assert response.status_code == 200
    assert response.json()["text"].startswith(f"**⛔ {REFUSAL_TITLE}**")
    assert "voorspellingen" in response.json()["text"]


@pytest.mark.parametrize(
    "authorization",
    ["HMAC AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "", "Bearer abc", "HMAC"],
    ids=["wrong-hmac", "missing", "other-scheme", "empty-hmac"],
)
def test_webhook_rejects_an_invalid_hmac(teams_app, authorization):
    payload = webhook_payload()
    response = post_webhook(teams_app, payload, authorization=authorization)
    assert response.status_code == 401
    assert not audit_rows(teams_app, f"teams:{payload['conversation']['id']}")


def test_webhook_rejects_a_body_signed_with_another_token(teams_app):
    other = base64.b64encode(b"another-webhook-token").decode()
    assert post_webhook(teams_app, webhook_payload(), secret=other).status_code == 401


def test_webhook_rejects_replayed_and_stale_requests(teams_app):
    payload = webhook_payload()
    assert post_webhook(teams_app, payload).status_code == 200
    assert post_webhook(teams_app, payload).status_code == 401
    assert len(audit_rows(teams_app, f"teams:{payload['conversation']['id']}")) == 1

    stale = webhook_payload(sent=datetime.now(timezone.utc) - timedelta(minutes=10))
    assert post_webhook(teams_app, stale).status_code == 401
    assert not audit_rows(teams_app, f"teams:{stale['conversation']['id']}")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<at>Aimi</at>", EMPTY_HINT),
        ("<at>Aimi</at>&nbsp;😀", "Stel een vraag in woorden."),
        ("<at>Aimi</at> " + "Hoeveel vacatures zijn er in Groningen? " * 125, "De vraag is te lang"),
    ],
    ids=["empty-mention", "emoji-only", "5000-chars"],
)
def test_webhook_bad_input_gets_a_sensible_reply(teams_app, text, expected):
    response = post_webhook(teams_app, webhook_payload(text))
    assert response.status_code == 200
    assert expected in response.json()["text"]


def test_webhook_attachment_only_message(teams_app):
    payload = webhook_payload("<at>Aimi</at>")
    payload["attachments"] = [
        {"contentType": "image/png", "contentUrl": "https://example.invalid/a.png", "name": "grafiek.png"}
    ]
    response = post_webhook(teams_app, payload)
    assert response.status_code == 200
    assert response.json()["text"] == FILE_HINT


def test_webhook_rejects_malformed_json_with_a_valid_hmac(teams_app):
    body = b"{not json"
    response = httpx.post(
        f"{teams_app.url}{teams.WEBHOOK_PATH}",
        content=body,
        headers={"Authorization": teams.sign(WEBHOOK_SECRET, body)},
    )
    assert response.status_code == 400


# ---------------------------------------------------------------------------
# Bot Framework bot (as the Emulator sends activities)


def activity(sample: str, app, **fields) -> dict:
    payload = copy.deepcopy(load(sample))
    payload["serviceUrl"] = app.connector.url
    payload["id"] = fields.pop("id", None) or f"act-{time.time_ns()}"
    payload.update(fields)
    return payload


def send_activity(app, payload: dict) -> httpx.Response:
    return httpx.post(f"{app.url}{teams.MESSAGES_PATH}", json=payload, timeout=30)


def replies_to(app, payload: dict) -> list[Call]:
    path = f"/v3/conversations/{payload['conversation']['id']}/activities/{payload['id']}"
    return app.connector.matching(lambda c: c.unquoted_path == path)


def cards_of(reply: Call) -> list[dict]:
    return [a["content"] for a in reply.json.get("attachments", []) if a["contentType"] == CARD]


def card_text(card: dict) -> str:
    return json.dumps(card, ensure_ascii=False)


def test_bot_personal_chat_replies_with_a_valid_adaptive_card(teams_app):
    payload = activity("teams_bot_personal_message.json", teams_app, conversation={"id": f"personal-{time.time_ns()}"})
    response = send_activity(teams_app, payload)
    assert response.status_code == 200

    [reply] = replies_to(teams_app, payload)
    body = reply.json
    assert body["type"] == "message"
    assert body["replyToId"] == payload["id"]
    assert body["conversation"]["id"] == payload["conversation"]["id"]
    assert body["recipient"]["id"] == payload["from"]["id"] and body["from"]["id"] == payload["recipient"]["id"]
    [card] = cards_of(reply)
    validate_card(card)
    assert card["version"] == "1.5"

    [row] = audit_rows(teams_app, f"teams:{payload['conversation']['id']}")
    assert row["channel"] == "teams" and not row["refused"]
    text = card_text(card)
    for c in teams_app.services.assistant.ask(FACTUAL).citations:
        assert f"**[{c.n}]**" in text and page_label(c) in text and c.url in text
    submits = [a for a in card["actions"] if a["type"] == "Action.Submit"]
    [show] = [a for a in card["actions"] if a["type"] == "Action.ShowCard"]
    ratings = [a["data"]["rating"] for a in submits] + [show["card"]["actions"][0]["data"]["rating"]]
    assert ratings == ["helpful", "not_helpful", "missing_source"]
    assert {a["data"]["answer_id"] for a in submits} == {row["id"]}


def test_bot_channel_mention_is_stripped_and_answered_in_the_thread(teams_app):
    payload = activity("teams_bot_channel_mention.json", teams_app)
    assert send_activity(teams_app, payload).status_code == 200
    [reply] = replies_to(teams_app, payload)
    assert reply.json["replyToId"] == payload["id"]
    assert reply.json["conversation"]["id"] == "19:arbeidsmarkt@thread.tacv2;messageid=1750000800001"
    validate_card(cards_of(reply)[0])
    rows = audit_rows(teams_app, "teams:19:arbeidsmarkt@thread.tacv2;messageid=1750000800001")
    assert rows and rows[0]["question"] == FACTUAL


def test_bot_keeps_thread_context(teams_app):
    conversation = {
        "id": f"19:ctx@thread.tacv2;messageid={time.time_ns()}",
        "conversationType": "channel",
        "isGroup": True,
    }
    first = activity("teams_bot_channel_mention.json", teams_app, conversation=conversation)
    second = activity(
        "teams_bot_channel_mention.json", teams_app, conversation=conversation, text="<at>Aimi</at> En in de zorg?"
    )
    assert send_activity(teams_app, first).status_code == 200
    assert send_activity(teams_app, second).status_code == 200
    assert replies_to(teams_app, second)
    assert teams_app.services.audit.history(f"teams:{conversation['id']}") == [FACTUAL, "En in de zorg?"]


def test_bot_answers_a_third_turn_with_both_turns_before(teams_app):
    conversation = {
        "id": f"19:three@thread.tacv2;messageid={time.time_ns()}",
        "conversationType": "channel",
        "isGroup": True,
    }
    turns = [FACTUAL, "En in de zorg?", "En in 2024?"]
    sent = []
    for text in turns:
        payload = activity(
            "teams_bot_channel_mention.json", teams_app, conversation=conversation, text=f"<at>Aimi</at> {text}"
        )
        assert send_activity(teams_app, payload).status_code == 200
        sent.append(payload)
    assert teams_app.services.audit.history(f"teams:{conversation['id']}") == turns
    [reply] = replies_to(teams_app, sent[2])
    expected = teams_app.services.assistant.ask(turns[2], history=turns[:2])
    assert expected.answer.split(" [1]")[0] in card_text(cards_of(reply)[0])


def test_a_table_answer_is_a_dutch_sentence_in_teams(teams_app):
    response = post_webhook(teams_app, webhook_payload(f"<at>Aimi</at> {TABLE_ROW}"))
    text = response.json()["text"]
    assert text.startswith("Het aantal onderbenutte deeltijders bedroeg in 2024 25.000."), text
    answer, sources = text.split("**Bronnen**")
    assert "groep:" not in answer and "rij " in sources
    assert "groep: Onderbenutte deeltijders. aantal personen 2024: 25.000" in sources  # the row's cells, verbatim
    payload = activity("teams_bot_personal_message.json", teams_app, conversation={"id": f"personal-{time.time_ns()}"})
    payload["text"] = TABLE_ROW
    assert send_activity(teams_app, payload).status_code == 200
    [reply] = replies_to(teams_app, payload)
    card = cards_of(reply)[0]
    validate_card(card)
    assert "Het aantal onderbenutte deeltijders bedroeg in 2024 25.000." in card_text(card)


def test_bot_prediction_card_is_a_refusal(teams_app):
    payload = activity(
        "teams_bot_personal_message.json", teams_app, conversation={"id": f"personal-{time.time_ns()}"}, text=PREDICTION
    )
    assert send_activity(teams_app, payload).status_code == 200
    [reply] = replies_to(teams_app, payload)
    [card] = cards_of(reply)
    validate_card(card)
    refusal = card["body"][0]
    assert refusal["id"] == "refusal" and refusal["style"] == "attention"
    assert REFUSAL_TITLE in refusal["items"][0]["text"]
    assert "voorspellingen" in card_text(card)
    [row] = audit_rows(teams_app, f"teams:{payload['conversation']['id']}")
    assert row["refusal_reason"] == "prediction"


def test_bot_card_feedback_lands_in_the_audit_log(teams_app):
    _, answer_id = teams_app.services.answer(FACTUAL, "teams", "teams:feedback-test")
    payload = activity("teams_bot_card_submit.json", teams_app)
    payload["value"]["answer_id"] = answer_id
    assert send_activity(teams_app, payload).status_code == 200
    [reply] = replies_to(teams_app, payload)
    assert reply.json["text"] == FEEDBACK_THANKS["missing_source"]
    [row] = [r for r in teams_app.services.audit.recent(500) if r["id"] == answer_id]
    assert [(f["rating"], f["note"], f["channel"]) for f in row["feedback"]] == [
        ("missing_source", "De CBS-tabel over vacatures per sector ontbreekt.", "teams")
    ]


def test_bot_feedback_for_an_unknown_answer(teams_app):
    payload = activity("teams_bot_card_submit.json", teams_app)
    payload["value"] = {"action": "feedback", "answer_id": "nope", "rating": "helpful"}
    assert send_activity(teams_app, payload).status_code == 200
    [reply] = replies_to(teams_app, payload)
    assert "niet (meer) bekend" in reply.json["text"]


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"text": "<at>Aimi</at>"}, EMPTY_HINT),
        ({"text": "<at>Aimi</at> 😀"}, "Stel een vraag in woorden."),
        ({"text": "<at>Aimi</at> " + "Hoeveel vacatures zijn er in Groningen? " * 125}, "De vraag is te lang"),
        (
            {
                "text": "",
                "attachments": [
                    {
                        "contentType": "application/vnd.microsoft.teams.file.download.info",
                        "name": "rapport.pdf",
                        "content": {"downloadUrl": "https://example.invalid/rapport.pdf", "fileType": "pdf"},
                    }
                ],
            },
            FILE_HINT,
        ),
    ],
    ids=["empty-mention", "emoji-only", "5000-chars", "file-only"],
)
def test_bot_bad_input_gets_a_sensible_reply(teams_app, fields, expected):
    payload = activity("teams_bot_channel_mention.json", teams_app, **fields)
    assert send_activity(teams_app, payload).status_code == 200
    [reply] = replies_to(teams_app, payload)
    assert expected in reply.json["text"]


@pytest.mark.parametrize(
    "fields, status",
    [
        ({"type": "conversationUpdate"}, 200),
        ({"type": "typing"}, 200),
        ({"type": "messageReaction", "reactionsAdded": [{"type": "like"}]}, 200),
        (
            {
                "type": "invoke",
                "name": "adaptiveCard/action",
                "value": {"action": {"type": "Action.Execute", "verb": "x"}},
            },
            501,
        ),
        ({"type": "somethingNew"}, 200),
    ],
    ids=["conversation-update", "typing", "reaction", "unknown-invoke", "unknown-type"],
)
def test_bot_other_activities_do_not_crash_or_reply(teams_app, fields, status):
    payload = activity("teams_bot_conversation_update.json", teams_app, **fields)
    response = send_activity(teams_app, payload)
    assert response.status_code == status
    assert not replies_to(teams_app, payload)


def test_bot_without_app_id_refuses_a_remote_service_url(teams_app):
    payload = activity("teams_bot_personal_message.json", teams_app, serviceUrl="https://smba.trafficmanager.net/emea/")
    assert send_activity(teams_app, payload).status_code == 401


@pytest.mark.parametrize(
    "body, content_type, status",
    [(b"{broken", "application/json", 400), (b"{}", "application/json", 400), (b"x", "text/plain", 415)],
)
def test_bot_rejects_malformed_requests(teams_app, body, content_type, status):
    response = httpx.post(f"{teams_app.url}{teams.MESSAGES_PATH}", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status


# ---------------------------------------------------------------------------
# Rendering within Teams limits


def long_answer(n_citations: int, refused: bool = False) -> Answer:
    citations = [
        Citation(
            n=n,
            source_id=f"src-{n}",
            title=f"Regio in Beeld 2025-2026 Groningen [deel {n}] " * 4,
            publisher="UWV",
            url=f"https://www.werk.nl/arbeidsmarktinformatie/regio?deel={n}",
            page=str(n),
            section="Vacatures " * 30,
            quote=f"Passage {n}: " + "de vraag naar personeel blijft hoog " * 60,
            chunk_id=f"c{n}",
        )
        for n in range(1, n_citations + 1)
    ]
    text = " ".join(f"Bewering nummer {n} over de arbeidsmarkt. [{n}]" for n in range(1, n_citations + 1)) * 4
    return Answer(
        question="Lange vraag?",
        answer=text,
        citations=citations,
        refused=refused,
        refusal_reason="prediction" if refused else None,
    )


@pytest.mark.parametrize("n_citations, refused", [(40, False), (40, True), (400, False)])
def test_long_answers_fit_in_cards_without_losing_a_citation(n_citations, refused):
    cards = teams.answer_cards(long_answer(n_citations, refused), "answer-id")
    seen = []
    for i, card in enumerate(cards):
        validate_card(card)
        assert teams.card_bytes(card) <= teams.CARD_BYTES
        assert ("actions" in card) == (i == 0), "feedback actions once, on the first card"
        seen += [int(n) for n in re.findall(r"\*\*\[(\d+)\]\*\*", card_text(card))]
    assert seen == list(range(1, n_citations + 1))
    if n_citations == 400:
        assert len(cards) > 1


def test_long_webhook_reply_fits_without_losing_a_citation():
    text = teams.webhook_text(long_answer(40))
    assert len(text.encode()) <= teams.WEBHOOK_BYTES
    assert [int(n) for n in re.findall(r"\*\*\[(\d+)\]\*\*", text)] == list(range(1, 41))


# ---------------------------------------------------------------------------
# Deployment: the app package and the web app


def test_app_package_builds_with_manifest_and_icons(tmp_path):
    import importlib.util
    import struct
    import zipfile

    deploy = Path(__file__).resolve().parent.parent / "deploy" / "teams"
    manifest = json.loads((deploy / "manifest.json").read_text())
    assert manifest["manifestVersion"] == "1.17"
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}

    spec = importlib.util.spec_from_file_location("make_package", deploy / "make_package.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    bot_id = "11111111-2222-4333-8444-555555555555"
    package = module.build(bot_id, "aimi.example.org", tmp_path / "aimi.zip")
    with zipfile.ZipFile(package) as z:
        assert sorted(z.namelist()) == ["color.png", "manifest.json", "outline.png"]
        built = json.loads(z.read("manifest.json"))
        sizes = {name: struct.unpack(">II", z.read(name)[16:24]) for name in ("color.png", "outline.png")}
    assert built["bots"][0]["botId"] == bot_id and built["validDomains"] == ["aimi.example.org"]
    assert built["developer"]["websiteUrl"] == "https://aimi.example.org"
    assert sizes == {"color.png": (192, 192), "outline.png": (32, 32)}


def test_mounted_by_the_web_app(index_settings, assistant, tmp_path):
    from fastapi.testclient import TestClient

    from assistant.channels.web import create_app

    settings = index_settings.model_copy(
        update={
            "audit_db": tmp_path / "audit.sqlite3",
            "teams": TeamsSettings(outgoing_webhook_secret=WEBHOOK_SECRET, bot_enabled=True),
        }
    )
    app = create_app(settings, Services(settings, AuditLog(settings.audit_db), _assistant=assistant))
    body = json.dumps(webhook_payload("<at>Aimi</at>")).encode()
    with TestClient(app) as client:
        response = client.post(
            teams.WEBHOOK_PATH, content=body, headers={"Authorization": teams.sign(WEBHOOK_SECRET, body)}
        )
        assert response.status_code == 200 and response.json()["text"] == EMPTY_HINT
        assert client.post(teams.MESSAGES_PATH, content=b"x", headers={"Content-Type": "text/plain"}).status_code == 415


def test_bot_with_app_id_needs_tenant_and_password(index_settings, assistant, tmp_path):
    from assistant.errors import ConfigError

    for teams_settings, message in [
        (
            TeamsSettings(bot_enabled=True, app_id="11111111-2222-4333-8444-555555555555", app_password="pw"),
            "TENANT_ID",
        ),
        (TeamsSettings(bot_enabled=True, app_id="11111111-2222-4333-8444-555555555555", tenant_id="t"), "APP_PASSWORD"),
    ]:
        settings = index_settings.model_copy(update={"audit_db": tmp_path / "audit.sqlite3", "teams": teams_settings})
        with pytest.raises(ConfigError, match=message):
            teams.mount(FastAPI(), Services(settings, AuditLog(settings.audit_db), _assistant=assistant))


def test_bot_with_app_id_rejects_unauthenticated_activities(index_settings, assistant, tmp_path):
    from fastapi.testclient import TestClient

    settings = index_settings.model_copy(
        update={
            "audit_db": tmp_path / "audit.sqlite3",
            "teams": TeamsSettings(
                bot_enabled=True, app_id="11111111-2222-4333-8444-555555555555", app_password="pw", tenant_id="t"
            ),
        }
    )
    app = FastAPI()
    teams.mount(app, Services(settings, AuditLog(settings.audit_db), _assistant=assistant))
    payload = load("teams_bot_personal_message.json") | {"serviceUrl": "http://127.0.0.1:9/"}
    with TestClient(app) as client:
        assert client.post(teams.MESSAGES_PATH, json=payload).status_code == 401
