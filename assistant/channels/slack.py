"""Slack channel: a slack-bolt app mounted in the FastAPI app at POST /slack/events.

One request URL serves the Events API (app_mention, message.im), the slash command
(/aimi vraag) and interactivity (feedback buttons). Every request is checked by bolt
(signing secret, 5-minute window), then by `SlackChannel._guard`: a signature already
seen is a replay (401), and an event id already answered is a Slack retry (acknowledged,
not answered again). Both are remembered in `Services.state` (Redis when configured, so a
replay sent to another server process is refused too); when that store cannot be asked,
signed requests are refused (503) rather than risk answering a replay. Slack gets its
acknowledgement at once; the answer is posted in the thread afterwards from bolt's worker
threads, through the Web API at settings.slack.api_base_url. With settings.slack.app_token set, the same app also runs
over Socket Mode (no public URL needed).

Follow-ups in a thread share the conversation id "slack:{channel}:{thread_ts}", so the
assistant reads each new question together with the thread's earlier ones.
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from starlette.concurrency import run_in_threadpool

from ..errors import AssistantError, ConfigError, StoreUnavailable
from ..types import Answer
from . import Services
from .render import (
    EMPTY_HINT,
    EXAMPLE_QUESTION,
    FEEDBACK,
    FEEDBACK_THANKS,
    FILE_HINT,
    QUOTE_CHARS,
    REFUSAL_TITLE,
    clip,
    pack,
    paginate,
    question_words,
    refusal_reason,
    source_details,
    split_text,
)

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
CHANNEL = "slack"

# Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks)
MAX_BLOCKS = 50
SECTION_CHARS = 3000
HEADER_CHARS = 150
BUTTON_CHARS = 75
# Undocumented cumulative limit: Slack rejects block messages from roughly 11-13k characters
# of text (msg_blocks_too_long, slackapi/bolt-js#2509, #2867),
# so each message carries at most this much text and the rest follows in the thread.
MESSAGE_CHARS = 10_000
FALLBACK_CHARS = 3000

REPLAY_WINDOW = 600  # seconds; bolt accepts timestamps up to 5 minutes either side of now
EVENT_TTL = 3600  # Slack retries a failed delivery for up to about an hour
MAX_BODY_BYTES = 512 * 1024

# Message subtypes that are edits, joins, bot posts and the like: never a question.
_ANSWERED_SUBTYPES = {None, "thread_broadcast"}
_FILE_SUBTYPES = {"file_share"}


# ---------------------------------------------------------------------------
# Rendering: Answer -> Block Kit messages


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn_pieces(raw: str, limit: int = SECTION_CHARS) -> list[str]:
    """Escaped mrkdwn pieces of at most `limit` characters (escaping may lengthen a piece)."""
    out: list[str] = []
    for piece in split_text(raw, limit):
        escaped = escape(piece)
        if len(escaped) <= limit:
            out.append(escaped)
        else:
            out.extend(_mrkdwn_pieces(piece, max(limit // 2, 1)))
    return out


def _link(url: str, label: str) -> str:
    if not url.startswith(("https://", "http://")):
        return f"*{label}*"
    return f"<{url.replace('|', '%7C').replace('>', '%3E').replace(' ', '%20')}|{label.replace('|', '¦')}>"


def source_line(c) -> str:
    """One numbered source: number, linked title, publisher/page/section, the quoted passage."""
    line = f"*[{c.n}]* {_link(c.url, escape(clip(c.title, 150)))}"
    details = source_details(c)
    if details:
        line += f" — {escape(clip(details, 300))}"
    quote = clip(c.quote, QUOTE_CHARS)
    if quote:
        line += f"\n>_{escape(quote)}_"
    return line


def _text_of(block: dict) -> str:
    if block["type"] in ("section", "header"):
        return block["text"]["text"]
    if block["type"] == "context":
        return " ".join(e.get("text", "") for e in block["elements"])
    return ""


def _section(block_id: str, text: str) -> dict:
    return {"type": "section", "block_id": block_id, "text": {"type": "mrkdwn", "text": text}}


def _context(block_id: str, text: str) -> dict:
    return {"type": "context", "block_id": block_id, "elements": [{"type": "mrkdwn", "text": text}]}


def feedback_block(answer_id: str) -> dict:
    return {
        "type": "actions",
        "block_id": "feedback",
        "elements": [
            {
                "type": "button",
                "action_id": f"feedback:{rating}",
                "text": {"type": "plain_text", "text": label[:BUTTON_CHARS], "emoji": True},
                "value": answer_id,
            }
            for rating, label in FEEDBACK
        ],
    }


def answer_messages(answer: Answer, answer_id: str) -> list[dict[str, Any]]:
    """Render an answer as one or more Slack messages ({"text", "blocks"}), all within Block Kit limits.

    The first message holds the answer (or the styled refusal), as many sources as fit and
    the feedback buttons; remaining sources follow in continuation messages. Every
    citation number appears in exactly one message.
    """
    body: list[dict] = []
    if answer.refused:
        body.append(
            {
                "type": "header",
                "block_id": "refusal",
                "text": {"type": "plain_text", "text": f"⛔ {REFUSAL_TITLE}"[:HEADER_CHARS], "emoji": True},
            }
        )
        reason = refusal_reason(answer)
        if reason:
            body.append(_context("refusal-reason", f"*Reden:* {escape(reason)}"))
    for i, piece in enumerate(_mrkdwn_pieces(answer.answer or " ")):
        body.append(_section(f"answer-{i}", piece))

    if answer.citations:
        body.append({"type": "divider", "block_id": "sources-divider"})
        body.append(_context("sources-title", f"*Bronnen* ({len(answer.citations)})"))
        # several sources per section block, never one source split over two
        packed = pack((source_line(c) for c in answer.citations), SECTION_CHARS, sep="\n\n")
        body.extend(_section(f"sources-{i}", text) for i, text in enumerate(packed))

    def fits(page: list[dict], _number: int) -> bool:
        # one block is kept free on every page: the feedback buttons or the "vervolg" label
        return len(page) <= MAX_BLOCKS - 1 and sum(len(_text_of(b)) for b in page) <= MESSAGE_CHARS

    pages = paginate(body, fits)
    messages = []
    for i, blocks in enumerate(pages):
        if i == 0:
            blocks = blocks + [feedback_block(answer_id)]
            text = escape(clip(answer.answer, FALLBACK_CHARS))
            if answer.refused:
                text = f"{REFUSAL_TITLE}: {text}"
        else:
            blocks = [_context(f"continued-{i}", f"*Bronnen, vervolg {i + 1}/{len(pages)}*")] + blocks
            text = f"Bronnen bij het antwoord, vervolg {i + 1}/{len(pages)}"
        messages.append({"text": text, "blocks": blocks})
    return messages


# ---------------------------------------------------------------------------
# Incoming text

_USER_MENTION = re.compile(r"<[@!][^>]*>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_CHANNEL_LINK = re.compile(r"<#[A-Z0-9]+(?:\|([^>]*))?>")


def clean_text(text: str) -> str:
    """Slack message text as the advisor typed it: mentions removed, links and entities resolved."""
    text = _USER_MENTION.sub(" ", text or "")
    text = _CHANNEL_LINK.sub(lambda m: f"#{m.group(1) or ''}", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return question_words(text)


# ---------------------------------------------------------------------------
# The bolt app


class SlackChannel:
    """The bolt app and its listeners; each listener hands the question to `Services.answer`."""

    def __init__(self, services: Services):
        s = services.settings.slack
        if not s.bot_token:
            raise ConfigError(
                "Slack is configured without a bot token; set ASSISTANT_SLACK__BOT_TOKEN (xoxb-...) "
                "or unset ASSISTANT_SLACK__SIGNING_SECRET / ASSISTANT_SLACK__APP_TOKEN."
            )
        self.services = services
        self.command = s.command
        self.state = services.state
        base_url = s.api_base_url if s.api_base_url.endswith("/") else s.api_base_url + "/"
        self.client = WebClient(token=s.bot_token, base_url=base_url, timeout=15)
        self.app = App(
            client=self.client,  # carries the bot token and the Web API base URL
            signing_secret=s.signing_secret or "unused-in-socket-mode",
            request_verification_enabled=bool(s.signing_secret),
            # auth.test runs on the first request instead of at import time
            token_verification_enabled=False,
            # acknowledge first, answer afterwards: Slack's 3-second limit
            process_before_response=False,
            before_authorize=self._guard,
            listener_executor=ThreadPoolExecutor(max_workers=8, thread_name_prefix="slack-listener"),
            logger=logging.getLogger("assistant.channels.slack.bolt"),
        )
        self.app.event("app_mention")(self.on_mention)
        self.app.event("message")(self.on_message)
        self.app.command(self.command)(self.on_command)
        self.app.action(re.compile(r"^feedback:"))(self.on_feedback)
        # Anything else Slack sends (unknown event types) is acknowledged and ignored, so Slack does not retry it.
        self.app.event(re.compile(".*"))(self.on_other_event)

    # -- request guard (after bolt's signature check, before authorization) --

    def _guard(self, req: BoltRequest, next: Callable[[], None]) -> BoltResponse | None:
        try:
            refused = self._seen_before(req)
        except StoreUnavailable as exc:
            # Fail closed: without the shared memory of seen requests a replay cannot be told from a first request.
            # 503 makes Slack retry the delivery later, when the store may be back.
            log.error("Refused a signed Slack request: its replay check could not be made. %s", exc)
            return BoltResponse(status=503, body={"error": "replay protection unavailable"})
        if refused is not None:
            return refused
        next()
        return None

    def _seen_before(self, req: BoltRequest) -> BoltResponse | None:
        """The response for a replay or an already handled event; None for a request seen the first time."""
        if req.mode != "socket_mode":
            timestamp = req.headers.get("x-slack-request-timestamp", [""])[0]
            signature = req.headers.get("x-slack-signature", [""])[0]
            if not self.state.first_seen("slack-signature", f"{timestamp}:{signature}", REPLAY_WINDOW):
                log.warning("Rejected a replayed Slack request (timestamp %s).", timestamp)
                return BoltResponse(status=401, body={"error": "replayed request"})
        body = req.body or {}
        if body.get("type") == "event_callback" and body.get("event_id"):
            if not self.state.first_seen("slack-event", body["event_id"], EVENT_TTL):
                retry = req.headers.get("x-slack-retry-num", ["-"])[0]
                log.info("Slack event %s already handled (retry %s); not answering again.", body["event_id"], retry)
                return BoltResponse(status=200, body="")
        return None

    # -- listeners --

    def on_mention(self, event: dict) -> None:
        channel = event.get("channel", "")
        thread_ts = event.get("thread_ts") or event.get("ts", "")
        question = clean_text(event.get("text", ""))
        post = self._poster(channel, thread_ts)
        if not question and event.get("files"):
            post(text=FILE_HINT)
            return
        self._answer(question, channel, thread_ts, post)

    def on_message(self, event: dict) -> None:
        # Channel messages arrive as app_mention; only direct messages are answered here.
        if event.get("channel_type") != "im" or event.get("bot_id"):
            return
        subtype = event.get("subtype")
        channel = event.get("channel", "")
        thread_ts = event.get("thread_ts") or event.get("ts", "")
        post = self._poster(channel, thread_ts)
        if subtype in _FILE_SUBTYPES or (event.get("files") and not clean_text(event.get("text", ""))):
            post(text=FILE_HINT)
            return
        if subtype not in _ANSWERED_SUBTYPES:
            return
        self._answer(clean_text(event.get("text", "")), channel, thread_ts, post)

    def on_command(self, ack, command: dict, respond) -> None:
        question = clean_text(command.get("text", ""))
        if not question:
            ack(text=f"Gebruik: `{self.command} <vraag>`, bijvoorbeeld `{self.command} {EXAMPLE_QUESTION}`")
            return
        ack(text="🔎 Ik zoek het op in de goedgekeurde bronnen…")
        channel, user = command.get("channel_id", ""), command.get("user_id", "")
        try:
            # The question opens a thread, so the answer and any follow-ups stay together.
            root = self.client.chat_postMessage(
                channel=channel, text=f"<@{user}> vroeg: {escape(clip(question, 2900))}", unfurl_links=False
            )
        except SlackApiError as exc:
            # Not a member of this channel (or a DM between people): answer privately instead.
            log.info("Cannot post in %s (%s); answering through the response URL.", channel, exc.response.get("error"))
            self._answer(question, channel, None, lambda **msg: respond(response_type="ephemeral", **msg))
            return
        thread_ts = root["ts"]
        self._answer(question, channel, thread_ts, self._poster(channel, thread_ts))

    def on_feedback(self, ack, body: dict, action: dict) -> None:
        ack()
        rating = action.get("action_id", "").partition(":")[2]
        try:
            self.services.audit.feedback(action.get("value", ""), rating, "", CHANNEL)
            text = FEEDBACK_THANKS[rating]
        except AssistantError as exc:
            text = exc.message_nl
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or container.get("thread_ts") or message.get("ts")
        user = (body.get("user") or {}).get("id")
        if channel and user:
            try:
                self.client.chat_postEphemeral(channel=channel, user=user, text=text, thread_ts=thread_ts)
            except SlackApiError as exc:
                log.warning("Could not confirm feedback in %s: %s", channel, exc.response.get("error"))

    def on_other_event(self, event: dict) -> None:
        log.debug("Ignoring Slack event %s.", event.get("type"))

    # -- answering --

    def _poster(self, channel: str, thread_ts: str | None) -> Callable[..., None]:
        def post(**message) -> None:
            self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **message
            )

        return post

    def _answer(self, question: str, channel: str, thread_ts: str | None, post: Callable[..., None]) -> None:
        if not question:
            post(text=EMPTY_HINT)
            return
        conversation_id = f"slack:{channel}:{thread_ts}" if thread_ts else None
        try:
            answer, answer_id = self.services.answer(question, CHANNEL, conversation_id)
        except AssistantError as exc:
            log.info("Slack question not answered: %s", exc)
            post(text=exc.message_nl)
            return
        except Exception:
            log.exception("Answering a Slack question failed.")
            post(text=AssistantError.message_nl)
            return
        for message in answer_messages(answer, answer_id):
            try:
                post(**message)
            except SlackApiError as exc:
                # Never leave the advisor without an answer because Slack disliked a block.
                log.error("Slack rejected a block message (%s); sending plain text.", exc.response.get("error"))
                post(text=escape(clip(str(answer), 3500)))
                break


# ---------------------------------------------------------------------------
# Mounting


def mount(app: FastAPI, services: Services) -> None:
    """Add POST /slack/events (when a signing secret is set) and Socket Mode (when an app token is set)."""
    s = services.settings.slack
    if not (s.signing_secret or s.app_token):
        return
    channel = SlackChannel(services)
    app.state.slack = channel

    if s.signing_secret:

        @app.post(EVENTS_PATH, include_in_schema=False)
        async def slack_events(request: Request):
            body = await request.body()
            if len(body) > MAX_BODY_BYTES:
                return JSONResponse({"error": "request too large"}, status_code=413)
            bolt_response = await run_in_threadpool(channel.app.dispatch, to_bolt_request(request, body))
            return to_starlette_response(bolt_response)

    if s.app_token:
        _run_socket_mode(app, channel, s.app_token)


def _run_socket_mode(app: FastAPI, channel: SlackChannel, app_token: str) -> None:
    """Connect over Socket Mode while the FastAPI app runs (wraps the app's lifespan)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        handler = SocketModeHandler(channel.app, app_token)
        await run_in_threadpool(handler.connect)
        log.info("Slack Socket Mode connected.")
        try:
            async with inner(a) as state:
                yield state
        finally:
            await run_in_threadpool(handler.close)

    app.router.lifespan_context = lifespan
