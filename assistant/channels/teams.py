"""Microsoft Teams channel, two ways over the same assistant.

* Outgoing webhook, POST /api/teams/webhook: Teams signs the raw body with the webhook's
  security token (`Authorization: HMAC base64(HMAC-SHA256(b64decode(token), body))`) and
  waits at most 5 seconds for the reply, which is the HTTP response itself: the answer and
  its sources as one Markdown message. Webhooks cannot receive button clicks, so there is
  no feedback here. A signature seen before (by any server process sharing `Services.state`)
  is a replay and refused; when that store cannot be asked, the request is refused too (503).
* Bot Framework bot, POST /api/teams/messages (botbuilder CloudAdapter): answers personal
  chats and channel @mentions with an Adaptive Card (answer or refusal, sources, feedback
  actions) posted back to the conversation's serviceUrl as a reply to the question.
  Without an app id (Bot Framework Emulator, local tests) requests are unauthenticated,
  so the bot then only talks to a loopback serviceUrl.

The conversation id ("teams:" + conversation.id) keeps thread context: in a channel,
Teams puts the thread's root message id in conversation.id (";messageid=...").
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import html
import json
import logging
import re
import threading
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlparse

from botbuilder.core import ActivityHandler, CardFactory, MessageFactory, TurnContext, serializer_helper
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from ..errors import AssistantError, ConfigError, StoreUnavailable
from ..types import Answer, Citation
from . import Services
from .render import (
    EMPTY_HINT,
    EXAMPLE_QUESTION,
    FEEDBACK,
    FEEDBACK_THANKS,
    FILE_HINT,
    QUOTE_CHARS,
    REFUSAL_TITLE,
    TIMEOUT_NOTE,
    UNCHECKED_NOTE,
    clip,
    paginate,
    question_words,
    refusal_reason,
    source_details,
    split_text,
)

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/teams/webhook"
MESSAGES_PATH = "/api/teams/messages"
CHANNEL = "teams"

CARD_VERSION = "1.5"
# Teams rejects messages above ~28 KB; the card leaves room for the activity around it.
CARD_BYTES = 24_000
WEBHOOK_BYTES = 20_000
ANSWER_BLOCK_CHARS = 4000
WEBHOOK_ANSWER_CHARS = 8000
WEBHOOK_TIMEOUT = 4.0  # seconds; Teams gives up on an outgoing webhook after 5
REPLAY_WINDOW = 300  # seconds an outgoing-webhook activity timestamp may differ from now
MAX_BODY_BYTES = 256 * 1024

_LOOPBACK = {"localhost", "127.0.0.1", "::1"}


# ---------------------------------------------------------------------------
# Incoming text

_MENTION = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def clean_text(text: str) -> str:
    """The question as typed: <at>…</at> mentions and HTML removed, entities resolved."""
    text = _MENTION.sub(" ", text or "")
    text = _TAG.sub(" ", text)
    return question_words(html.unescape(text).replace("\xa0", " "))


# ---------------------------------------------------------------------------
# Outgoing webhook


def sign(secret: str, body: bytes) -> str:
    """The Authorization header value Teams sends for `body` (also used by the tests)."""
    digest = hmac.new(base64.b64decode(secret), body, hashlib.sha256).digest()
    return "HMAC " + base64.b64encode(digest).decode()


def verify_hmac(secret: str, body: bytes, authorization: str) -> bool:
    scheme, _, provided = (authorization or "").partition(" ")
    if scheme.upper() != "HMAC" or not provided.strip():
        return False
    try:
        expected = sign(secret, body)
    except (binascii.Error, ValueError):
        log.error("ASSISTANT_TEAMS__OUTGOING_WEBHOOK_SECRET is not valid base64; copy the security token Teams showed.")
        return False
    return hmac.compare_digest(expected.encode(), f"HMAC {provided.strip()}".encode())


def _md(text: str) -> str:
    """Plain text made safe for Teams Markdown (Teams also reads HTML tags)."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _md_link(url: str, label: str) -> str:
    label = label.replace("[", "(").replace("]", ")")
    if url.startswith(("https://", "http://")):
        return f"[{label}]({url.replace(' ', '%20').replace(')', '%29')})"
    return f"**{label}**"


def webhook_markdown(
    answer: Answer, quote_chars: int = QUOTE_CHARS, title_chars: int = 150, details: bool = True
) -> str:
    parts = []
    if answer.refused:
        parts.append(f"**⛔ {REFUSAL_TITLE}**")
        reason = refusal_reason(answer)
        if reason:
            parts.append(f"_{_md(reason)}_")
    parts.append(_md(clip(answer.answer, WEBHOOK_ANSWER_CHARS)))
    if answer.citations:
        parts.append(f"**Bronnen** ({len(answer.citations)})")
        for c in answer.citations:
            line = f"**[{c.n}]** {_md_link(c.url, _md(clip(c.title, title_chars)))}"
            if details and source_details(c):
                line += f" — {_md(clip(source_details(c), 200))}"
            quote = clip(c.quote, quote_chars) if quote_chars else ""
            if quote:
                line += f"<br>“{_md(quote)}”"
            parts.append(line)
    return "\n\n".join(parts)


def webhook_text(answer: Answer, limit: int = WEBHOOK_BYTES) -> str:
    """One Markdown message within `limit` bytes: quotes shrink first, then titles; numbers always stay."""
    text = ""
    for quote_chars, title_chars, details in (
        (QUOTE_CHARS, 150, True),
        (140, 150, True),
        (60, 100, True),
        (0, 80, True),
        (0, 40, False),
    ):
        text = webhook_markdown(answer, quote_chars, title_chars, details)
        if len(text.encode()) <= limit:
            return text
    return text


# ---------------------------------------------------------------------------
# Adaptive Card


def _text_block(text: str, **props: Any) -> dict:
    return {"type": "TextBlock", "text": text, "wrap": True, **props}


def citation_element(c: Citation) -> dict:
    heading = f"**[{c.n}]** {_md_link(c.url, clip(c.title, 150))}"
    details = source_details(c)
    if details:
        heading += f" — {clip(details, 200)}"
    items = [_text_block(heading)]
    quote = clip(c.quote, QUOTE_CHARS)
    if quote:
        items.append(_text_block(f"“{quote}”", isSubtle=True, size="Small", spacing="None"))
    return {"type": "Container", "id": f"source-{c.n}", "spacing": "Small", "items": items}


def feedback_actions(answer_id: str) -> list[dict]:
    def data(rating: str) -> dict:
        return {"action": "feedback", "answer_id": answer_id, "rating": rating}

    labels = dict(FEEDBACK)
    return [
        {"type": "Action.Submit", "title": labels["helpful"], "data": data("helpful")},
        {"type": "Action.Submit", "title": labels["not_helpful"], "data": data("not_helpful")},
        {
            "type": "Action.ShowCard",
            "title": labels["missing_source"],
            "card": {
                "type": "AdaptiveCard",
                "body": [
                    {
                        "type": "Input.Text",
                        "id": "note",
                        "label": "Welke bron of welk gegeven ontbreekt? (optioneel)",
                        "isMultiline": True,
                        "maxLength": 500,
                    }
                ],
                "actions": [{"type": "Action.Submit", "title": "Versturen", "data": data("missing_source")}],
            },
        },
    ]


def _card(body: list[dict], actions: list[dict] | None = None) -> dict:
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return card


def card_bytes(card: dict) -> int:
    return len(json.dumps(card, ensure_ascii=False).encode())


def answer_cards(answer: Answer, answer_id: str | None, limit: int = CARD_BYTES) -> list[dict]:
    """Render an answer as one or more Adaptive Cards of at most `limit` bytes each.

    The first card carries the answer (or the styled refusal), the first sources and the
    feedback actions; sources that do not fit follow in continuation cards, so every
    citation number is shown exactly once.
    """
    # One container per piece of answer text, so even a very long answer can spread over cards.
    name, style = ("refusal", "attention") if answer.refused else ("answer", None)
    elements: list[dict] = []
    for i, piece in enumerate(split_text(answer.answer or " ", ANSWER_BLOCK_CHARS)):
        items = [_text_block(piece)]
        if i == 0 and answer.refused:
            reason = refusal_reason(answer)
            heading = [_text_block(f"⛔ {REFUSAL_TITLE}", weight="Bolder", color="Attention", style="heading")]
            items = heading + ([_text_block(reason, isSubtle=True, spacing="None")] if reason else []) + items
        container = {"type": "Container", "id": name if i == 0 else f"{name}-{i + 1}", "items": items}
        if style:
            container["style"] = style
        elements.append(container)
    if answer.citations:
        elements.append(
            _text_block(f"Bronnen ({len(answer.citations)})", weight="Bolder", separator=True, spacing="Medium")
        )
        elements.extend(citation_element(c) for c in answer.citations)

    actions = feedback_actions(answer_id) if answer_id else None
    margin = 200  # the "vervolg" label added to continuation cards

    def fits(page: list[dict], number: int) -> bool:
        return card_bytes(_card(page, actions if number == 0 else None)) + margin <= limit

    pages = paginate(elements, fits)
    cards = []
    for i, body in enumerate(pages):
        if i == 0:
            cards.append(_card(body, actions))
        else:
            label = _text_block(f"Bronnen, vervolg {i + 1}/{len(pages)}", weight="Bolder")
            cards.append(_card([label] + body))
    return cards


# ---------------------------------------------------------------------------
# Bot Framework bot


class AssistantBot(ActivityHandler):
    """Answers messages with Adaptive Cards and stores feedback from the card's actions."""

    def __init__(self, services: Services):
        self.services = services

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        value = activity.value if isinstance(activity.value, dict) else None
        if value and value.get("action") == "feedback":
            await self._feedback(turn_context, value)
            return
        question = clean_text(activity.text or "")
        if not question:
            files = [a for a in activity.attachments or [] if a.content_type != "text/html"]
            await turn_context.send_activity(MessageFactory.text(FILE_HINT if files else EMPTY_HINT))
            return
        conversation_id = (
            f"teams:{activity.conversation.id}" if activity.conversation and activity.conversation.id else None
        )
        try:
            answer, answer_id = await asyncio.to_thread(self.services.answer, question, CHANNEL, conversation_id)
        except AssistantError as exc:
            log.info("Teams question not answered: %s", exc)
            await turn_context.send_activity(MessageFactory.text(exc.message_nl))
            return
        for card in answer_cards(answer, answer_id):
            reply = MessageFactory.attachment(CardFactory.adaptive_card(card))
            reply.summary = clip(answer.answer, 200)  # shown in notifications
            await turn_context.send_activity(reply)

    async def _feedback(self, turn_context: TurnContext, value: dict) -> None:
        rating = str(value.get("rating", ""))
        note = str(value.get("note") or "")
        try:
            await asyncio.to_thread(
                self.services.audit.feedback, str(value.get("answer_id", "")), rating, note, CHANNEL
            )
            text = FEEDBACK_THANKS[rating]
        except AssistantError as exc:
            text = exc.message_nl
        await turn_context.send_activity(MessageFactory.text(text))


class _AdapterConfig:
    """The configuration object botbuilder's ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings):
        t = settings.teams
        self.APP_ID = t.app_id
        self.APP_PASSWORD = t.app_password
        self.APP_TYPE = t.app_type if t.app_id else "MultiTenant"
        self.APP_TENANTID = t.tenant_id


def make_adapter(services: Services) -> CloudAdapter:
    t = services.settings.teams
    if t.app_id and t.app_type.lower() in ("singletenant", "userassignedmsi") and not t.tenant_id:
        raise ConfigError(f"A {t.app_type} Teams bot needs its tenant id; set ASSISTANT_TEAMS__TENANT_ID.")
    if t.app_id and t.app_type.lower() != "userassignedmsi" and not t.app_password:
        raise ConfigError("The Teams bot has an app id but no password; set ASSISTANT_TEAMS__APP_PASSWORD.")
    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(_AdapterConfig(services.settings)))

    async def on_turn_error(turn_context: TurnContext, error: Exception) -> None:
        log.exception("Teams bot turn failed.", exc_info=error)
        try:
            await turn_context.send_activity(MessageFactory.text(AssistantError.message_nl))
        except Exception:  # the reply channel itself may be what failed
            log.exception("Could not tell the Teams user about the failure.")

    adapter.on_turn_error = on_turn_error
    return adapter


# ---------------------------------------------------------------------------
# Mounting


def mount(app: FastAPI, services: Services) -> None:
    """Add POST /api/teams/webhook (webhook secret set) and POST /api/teams/messages (bot enabled)."""
    t = services.settings.teams
    if t.outgoing_webhook_secret:
        _mount_webhook(app, services)
    if t.bot_enabled:
        _mount_bot(app, services)


def _activity_time_ok(payload: dict) -> bool:
    stamp = payload.get("timestamp")
    if not isinstance(stamp, str):
        return True  # Teams always sends one; without it the HMAC and replay cache still apply
    try:
        sent = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return True
    if sent.tzinfo is None:
        sent = sent.replace(tzinfo=timezone.utc)
    return abs((datetime.now(timezone.utc) - sent).total_seconds()) <= REPLAY_WINDOW


def _consume(future: asyncio.Future) -> None:
    """Retrieve the outcome, so a failure after the reply was sent is not reported as 'never retrieved'."""
    if not future.cancelled() and future.exception() is not None:
        log.debug("Teams webhook answer ended with %r.", future.exception())


def _warm_up_on_startup(app: FastAPI, services: Services) -> None:
    """Open the index and load the models when the app starts, not on the first webhook call,
    which has only 5 seconds (wraps the app's lifespan; runs in a background thread)."""
    inner = app.router.lifespan_context

    def warm() -> None:
        try:
            services.assistant.ask(EXAMPLE_QUESTION)
        except AssistantError as exc:
            log.info("Assistant not warmed up yet: %s", exc)

    @asynccontextmanager
    async def lifespan(a):
        threading.Thread(target=warm, name="teams-warm-up", daemon=True).start()
        async with inner(a) as state:
            yield state

    app.router.lifespan_context = lifespan


def _mount_webhook(app: FastAPI, services: Services) -> None:
    secret = services.settings.teams.outgoing_webhook_secret
    _warm_up_on_startup(app, services)

    def reply(text: str, status: int = 200) -> JSONResponse:
        return JSONResponse({"type": "message", "text": text}, status_code=status)

    @app.post(WEBHOOK_PATH, include_in_schema=False)
    async def teams_webhook(request: Request):
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return reply("Bericht te groot.", 413)
        authorization = request.headers.get("authorization", "")
        if not verify_hmac(secret, body, authorization):
            log.warning("Rejected a Teams webhook request with an invalid HMAC.")
            return reply("Afzender niet herkend.", 401)
        try:
            payload = json.loads(body)
        except ValueError:
            return reply("Ongeldig bericht.", 400)
        if not isinstance(payload, dict):
            return reply("Ongeldig bericht.", 400)
        try:
            # the signature is the nonce: seen by any server process within the window, it is a replay
            fresh = _activity_time_ok(payload) and services.state.first_seen(
                "teams-webhook", authorization, 2 * REPLAY_WINDOW
            )
        except StoreUnavailable as exc:
            # fail closed: without the shared memory of seen requests a replay cannot be told from a first one
            log.error("Refused a signed Teams webhook request: its replay check could not be made. %s", exc)
            return reply(UNCHECKED_NOTE, 503)
        if not fresh:
            log.warning("Rejected a stale or replayed Teams webhook request.")
            return reply("Verlopen of herhaald verzoek.", 401)
        if payload.get("type", "message") != "message":
            return reply("")
        question = clean_text(payload.get("text") or "")
        if not question:
            files = [a for a in payload.get("attachments") or [] if a.get("contentType") != "text/html"]
            return reply(FILE_HINT if files else EMPTY_HINT)
        conversation = (payload.get("conversation") or {}).get("id")
        conversation_id = f"teams:{conversation}" if conversation else None
        work = asyncio.get_running_loop().run_in_executor(None, services.answer, question, CHANNEL, conversation_id)
        work.add_done_callback(_consume)  # a late answer is still audited
        try:
            answer, _answer_id = await asyncio.wait_for(asyncio.shield(work), WEBHOOK_TIMEOUT)
        except asyncio.TimeoutError:
            log.warning("Teams webhook answer took longer than %.1f s; replied with a retry note.", WEBHOOK_TIMEOUT)
            return reply(TIMEOUT_NOTE)
        except AssistantError as exc:
            return reply(exc.message_nl)
        except Exception:
            log.exception("Answering a Teams webhook question failed.")
            return reply(AssistantError.message_nl)
        return reply(webhook_text(answer))


def _mount_bot(app: FastAPI, services: Services) -> None:
    adapter = make_adapter(services)
    bot = AssistantBot(services)
    emulator = not services.settings.teams.app_id
    if emulator:
        log.warning(
            "Teams bot runs without an app id: unauthenticated, replies only to a loopback serviceUrl (Emulator)."
        )
    app.state.teams_bot = bot

    @app.post(MESSAGES_PATH, include_in_schema=False)
    async def teams_messages(request: Request):
        if "application/json" not in request.headers.get("content-type", ""):
            return Response(status_code=415)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return Response(status_code=413)
        try:
            activity = Activity().deserialize(json.loads(body))
        except (ValueError, TypeError, AttributeError):
            return Response(status_code=400)
        if not activity.type:
            return Response(status_code=400)
        if emulator and (urlparse(activity.service_url or "").hostname or "") not in _LOOPBACK:
            # Without authentication, a remote serviceUrl would let anyone make the bot post anywhere.
            log.warning("Refused an unauthenticated activity for serviceUrl %r.", activity.service_url)
            return Response(status_code=401)
        try:
            invoke = await adapter.process_activity(request.headers.get("authorization", ""), activity, bot.on_turn)
        except PermissionError:
            return Response(status_code=401)
        if invoke:
            return JSONResponse(serializer_helper(invoke.body), status_code=invoke.status)
        return Response(status_code=200)
