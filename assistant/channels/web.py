"""Web channel: the advisors' chat page and the HTTP API over the one `Assistant`.

    assistant serve                       # builds the index when missing, then serves on :8000
    assistant serve --workers 4           # several processes: needs the shared state (see check_workers)
    app = create_app(Settings())          # the ASGI app, for tests or another ASGI server
    uvicorn assistant.channels.web:app_from_env --factory   # each worker builds its app from the environment

Routes (JSON unless noted). Every error is `{"error": {"code": ..., "message": <Dutch>}}`:

    POST /api/ask                     one question -> Answer.to_json() + answer_id
    POST /api/conversations           start a conversation -> conversation_id
    GET  /api/conversations/{id}      its earlier questions (404 when unknown)
    POST /api/chat                    a question within a conversation; follow-ups ("En in de zorg?")
                                      resolve against the earlier questions kept in the audit log
    POST /api/chat/stream             the same as Server-Sent Events: draft ..., answer ..., citations, done
    POST /api/answers/{id}/feedback   helpful | not_helpful | missing_source, with a note
    GET  /api/sources                 every manifest source with its status and indexed passages
    GET  /api/passages/{chunk_id}     a cited passage, highlighted quote, neighbours on its page
    GET  /healthz, /readyz            alive; index loaded and the Chroma server answering (else 503)
    GET  /, /docs, /openapi.json      chat page, offline API docs, the schema
    GET  /beheer, /api/admin/*        the content team's sources page and its API (admin keys; channels/admin.py)

The adapter is thin: it checks access and limits, calls `Services.answer()` (which also
writes the audit log) and renders. Other channel modules (Slack, Teams) are mounted
after these routes through their `mount(app, services)`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time
import uuid
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..audit import AuditLog, Rating
from ..errors import (
    AssistantError,
    BackendError,
    ConfigError,
    CorpusError,
    IndexNotBuiltError,
    IndexUnavailable,
    QuestionError,
    SourceConflict,
    SourceEditError,
    SourceNotFound,
    SourceTooLarge,
    StoreUnavailable,
)
from ..index import state_summary
from ..settings import Settings
from ..sources import _size, load_manifest
from ..state import RateLimiter
from ..types import Answer, SourceInfo
from . import Services, admin, channel_mounts

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"

# One place that turns the core's errors into HTTP: status and machine-readable code.
# Looked up along the exception's MRO, so a new subclass inherits its parent's mapping.
ERROR_STATUS: dict[type[AssistantError], tuple[int, str]] = {
    QuestionError: (400, "invalid_question"),
    SourceNotFound: (404, "source_not_found"),
    SourceConflict: (409, "conflict"),
    SourceTooLarge: (413, "file_too_large"),
    SourceEditError: (422, "invalid_source"),
    IndexNotBuiltError: (503, "index_not_built"),
    IndexUnavailable: (503, "index_unavailable"),
    StoreUnavailable: (503, "store_unavailable"),
    ConfigError: (500, "config_error"),
    CorpusError: (500, "corpus_error"),
    BackendError: (500, "backend_error"),
    AssistantError: (500, "assistant_error"),
}

HTTP_MESSAGES = {
    400: "Het verzoek kon niet worden gelezen. Stuur geldige JSON in UTF-8.",
    404: "Dit adres bestaat niet.",
    405: "Deze methode is hier niet toegestaan.",
}

# No external resources: the machine is offline and advisors' questions stay on this server.
CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"


class ApiError(Exception):
    """An HTTP-level refusal by the web adapter itself (access, limits, unknown ids)."""

    def __init__(self, status: int, code: str, message_nl: str, headers: dict[str, str] | None = None):
        super().__init__(message_nl)
        self.status, self.code, self.message_nl, self.headers = status, code, message_nl, headers


# ---------------------------------------------------------------- request and response models


class AskRequest(BaseModel):
    question: str = Field(
        description="The question in Dutch. Empty, word-less or too long questions "
        "(ASSISTANT_GUARD__MAX_QUESTION_CHARS) get 400.",
        examples=["Hoeveel vacatures stonden er eind tweede kwartaal 2025 open in Groningen?"],
    )
    explain: bool = Field(
        False,
        description="Also return `trace`: what the question was taken to ask, the evidence with its scores, "
        "and why the guard answered or refused.",
    )


class ChatRequest(AskRequest):
    conversation_id: str | None = Field(
        None,
        description="Id returned by an earlier /api/chat answer or by POST /api/conversations; omit to start a new "
        "conversation. Follow-ups such as 'En in de zorg?' are read together with the previous question. "
        "Unknown ids get 404.",
    )


class AskResponse(Answer):
    answer_id: str = Field(description="Id of the stored answer, for POST /api/answers/{answer_id}/feedback.")


class ChatResponse(AskResponse):
    conversation_id: str = Field(description="Send it with the next question to continue the conversation.")


class ConversationOut(BaseModel):
    conversation_id: str
    questions: list[str] = Field(default_factory=list, description="Earlier questions, oldest first.")


class FeedbackRequest(BaseModel):
    rating: Rating = Field(description="helpful | not_helpful | missing_source ('bron ontbreekt').")
    note: str = Field("", max_length=2000, description="Free text for the content team, e.g. which source is missing.")


class FeedbackOut(BaseModel):
    status: str = "stored"
    answer_id: str


class SourceOut(SourceInfo):
    status: str = Field(description="approved | expired | unapproved | missing file.")
    passages: int = Field(description="Passages in the index (0 when not indexed).")
    version: str = Field("", description="Indexed version (hash of file and manifest entry); empty when not indexed.")


class SourcesOut(BaseModel):
    index_ready: bool
    sources: list[SourceOut]


class Span(BaseModel):
    start: int
    end: int


class Neighbour(BaseModel):
    chunk_id: str
    section: str
    text: str


class PassageOut(BaseModel):
    chunk_id: str
    source: SourceInfo
    version: str
    page: str
    section: str
    text: str
    highlight: Span | None = Field(None, description="Character span of `quote` within `text`, when given and found.")
    before: list[Neighbour] = Field(default_factory=list, description="Earlier passages on the same page, in order.")
    after: list[Neighbour] = Field(default_factory=list, description="Later passages on the same page, in order.")


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    sources: int
    passages: int


class ErrorBody(BaseModel):
    code: str = Field(description="Machine-readable, e.g. invalid_question, index_not_built, rate_limited.")
    message: str = Field(description="Dutch message for the advisor.")


class ErrorResponse(BaseModel):
    error: ErrorBody


def _error_doc(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


API_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error_doc("Invalid JSON or an unreadable body; for questions also: empty, word-less or too long."),
    401: _error_doc("Missing or wrong API key (only when ASSISTANT_WEB__API_KEYS is set)."),
    413: _error_doc("Request body larger than ASSISTANT_WEB__MAX_BODY_BYTES."),
    422: _error_doc("The request does not match the schema."),
    429: _error_doc("More than ASSISTANT_WEB__RATE_LIMIT_PER_MINUTE requests in the last minute for this key."),
    503: _error_doc(
        "The index is not built yet (index_not_built), the Chroma server is unreachable (index_unavailable) or "
        "a shared store is (store_unavailable); try again in a minute."
    ),
}


SSE_EVENT_SCHEMA = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {
        "event": {"type": "string", "enum": ["draft", "answer", "citations", "done", "error"]},
        "data": {"type": "string", "description": "JSON"},
    },
}


# ---------------------------------------------------------------- access and limits


class BodyLimit:
    """ASGI middleware: refuse request bodies over `max_bytes` with 413, whether declared or streamed.

    Only paths under `prefixes` (the web API's own routes) are limited; Slack and Teams
    routes mounted on the same app keep their own, platform-sized limits.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, prefixes: tuple[str, ...] = ("/",), message: str = ""):
        self.app, self.max_bytes, self.prefixes = app, max_bytes, prefixes
        self.message = message or "Het verzoek is te groot. De grens is {kb} kB; stel een kortere vraag."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                return await _send_error(
                    send, 400, "invalid_request", "De lengte van het verzoek (Content-Length) is ongeldig."
                )
            if int(declared) > self.max_bytes:
                return await self._too_large(send)
        # Read the body up front (it is small by definition) so an undeclared, streamed body is capped too.
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return await self._too_large(send)
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return received.pop(0) if received else await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        message = self.message.format(kb=self.max_bytes // 1024, mb=round(self.max_bytes / 2**20))
        await _send_error(send, 413, "body_too_large", message)


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_bearer = HTTPBearer(auto_error=False, description="API key; required only when ASSISTANT_WEB__API_KEYS is set.")


def _services(request: Request) -> Services:
    return request.app.state.services


def _access(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> str:
    """Check the API key (when keys are configured) and the rate limit; returns the client key."""
    keys = request.app.state.services.settings.web.api_keys
    if keys:
        given = credentials.credentials if credentials else ""
        if not any(hmac.compare_digest(given.encode(), k.encode()) for k in keys):
            message = "Geen geldige API-sleutel. Stuur de sleutel mee als 'Authorization: Bearer <sleutel>'."
            raise ApiError(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})
        client = "key:" + given
    else:
        client = "ip:" + (request.client.host if request.client else "?")
    wait = _rate_wait(request.app, client)
    if wait:
        seconds = max(1, round(wait))
        raise ApiError(
            429,
            "rate_limited",
            f"Te veel vragen in korte tijd. Probeer het over {seconds} seconden opnieuw.",
            {"Retry-After": str(seconds)},
        )
    return client


def _rate_wait(app: FastAPI, client: str) -> float:
    """Count the request against the limit shared by every server process (`Services.state`)."""
    services: Services = app.state.services
    try:
        return services.state.hit("web", client, services.settings.web.rate_limit_per_minute, 60.0)
    except StoreUnavailable as exc:
        # Fail open, to this process's own count: the web API is behind API keys (or on the office network),
        # and its limit guards capacity, not identity, so a Redis outage should not stop advisors' answers.
        # Each process still limits what it sees; signed Slack/Teams requests fail closed instead.
        now = time.monotonic()
        if now - app.state.limit_warned > 60:
            app.state.limit_warned = now
            log.warning("Rate limit counted per process: the shared store is unreachable. %s", exc)
        return app.state.limiter.check(client)


# ---------------------------------------------------------------- API routes

api = APIRouter(prefix="/api", dependencies=[Depends(_access)], responses=API_ERRORS)


@api.post("/ask", response_model=AskResponse, tags=["answers"])
def ask(body: AskRequest, services: Services = Depends(_services)) -> JSONResponse:
    """Answer one question from the approved sources (or refuse with a reason); stored in the audit log."""
    answer, answer_id = services.answer(body.question, "api")
    return JSONResponse({**answer.to_json(explain=body.explain), "answer_id": answer_id})


@api.post("/conversations", status_code=201, response_model=ConversationOut, tags=["conversations"])
def start_conversation(services: Services = Depends(_services)) -> ConversationOut:
    """Start an empty conversation; its id is known from now on, even before the first question."""
    return ConversationOut(conversation_id=services.audit.start_conversation("web"))


@api.get(
    "/conversations/{conversation_id}",
    response_model=ConversationOut,
    tags=["conversations"],
    responses={404: _error_doc("Unknown conversation.")},
)
def get_conversation(conversation_id: str, services: Services = Depends(_services)) -> ConversationOut:
    """The questions asked so far in a conversation."""
    _known_conversation(services.audit, conversation_id)
    return ConversationOut(conversation_id=conversation_id, questions=services.audit.history(conversation_id))


@api.post("/chat", response_model=ChatResponse, tags=["answers"], responses={404: _error_doc("Unknown conversation.")})
def chat(body: ChatRequest, services: Services = Depends(_services)) -> JSONResponse:
    """Answer a question within a conversation; without `conversation_id` a new one starts."""
    answer, answer_id, conversation_id = _chat(services, body, "api")
    return JSONResponse(
        {**answer.to_json(explain=body.explain), "answer_id": answer_id, "conversation_id": conversation_id}
    )


@api.post(
    "/chat/stream",
    response_class=EventSourceResponse,
    tags=["answers"],
    responses={
        200: {
            "description": 'Server-Sent Events: `draft` (repeated, data {"text": piece}: a writing generator\'s '
            'unverified text as it comes; to be replaced), then `answer` (repeated, data {"text": piece}: the '
            "verified answer), `citations` (data: list of citations) and `done` (data: answer_id, conversation_id, "
            "question, refused, refusal_reason, timings_ms); `error` (data: message) if answering failed. Errors "
            "before the stream starts are ordinary JSON errors.",
            "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
        },
        404: _error_doc("Unknown conversation."),
    },
)
async def chat_stream(body: ChatRequest, services: Services = Depends(_services)) -> EventSourceResponse:
    """Like /api/chat, streamed: a writing generator's unverified text as `draft` events while it writes,
    then the verified answer in pieces, the citations and a done event (the chat page)."""
    conversation_id = _conversation(services.audit, body)

    # a bad question, a missing index or an unreachable Chroma server is a JSON error, before the stream
    # starts (opening may take a while)
    def check() -> None:
        assistant = services.assistant
        assistant.validate(body.question)
        ping_store(assistant.store)

    await asyncio.to_thread(check)
    return EventSourceResponse(_live_events(services, body.question, conversation_id))


@api.post(
    "/answers/{answer_id}/feedback",
    status_code=201,
    response_model=FeedbackOut,
    tags=["feedback"],
    responses={404: _error_doc("Unknown answer.")},
)
def feedback(answer_id: str, body: FeedbackRequest, services: Services = Depends(_services)) -> FeedbackOut:
    """Rate an answer for the content team: helpful, not helpful, or a source is missing (with a note)."""
    if not services.audit.has_answer(answer_id):
        raise ApiError(404, "answer_not_found", "Dit antwoord is niet (meer) bekend; de feedback is niet opgeslagen.")
    services.audit.feedback(answer_id, body.rating, body.note, channel="web")
    return FeedbackOut(answer_id=answer_id)


@api.get("/sources", response_model=SourcesOut, tags=["sources"])
def sources(services: Services = Depends(_services)) -> SourcesOut:
    """Every source in the manifest with its status; only `approved` sources that are indexed are cited."""
    settings = services.settings
    try:
        assistant = services.assistant
        counts, versions = state_summary(assistant.store), assistant.snapshot.meta_versions
    except IndexNotBuiltError:
        counts, versions = {}, {}
    out = [
        SourceOut(
            **st.source.model_dump(),
            status=st.status,
            passages=counts.get(st.source.id, 0),
            version=versions.get(st.source.id, ""),
        )
        for st in load_manifest(settings.manifest_path, settings.effective_today())
    ]
    return SourcesOut(index_ready=bool(versions), sources=out)


@api.get(
    "/passages/{chunk_id}", response_model=PassageOut, tags=["sources"], responses={404: _error_doc("Unknown passage.")}
)
def passage(
    chunk_id: str = PathParam(description="`chunk_id` of a citation or passage."),
    quote: str = Query("", max_length=4000, description="The cited quote, to get its span in `highlight`."),
    services: Services = Depends(_services),
) -> PassageOut:
    """A cited passage in its page context: the passage, its neighbours on the same page and the source."""
    snapshot = services.assistant.snapshot
    chunk = next((c for c in snapshot.chunks if c.id == chunk_id), None)
    if chunk is None:
        raise ApiError(
            404, "passage_not_found", "Deze passage staat niet (meer) in de index; de bron is mogelijk bijgewerkt."
        )
    page = [c for c in snapshot.chunks if c.source_id == chunk.source_id and c.page == chunk.page]  # sorted by position
    here = page.index(chunk)
    return PassageOut(
        chunk_id=chunk.id,
        source=snapshot.sources[chunk.source_id],
        version=snapshot.meta_versions.get(chunk.source_id, ""),
        page=chunk.page,
        section=chunk.section,
        text=chunk.text,
        highlight=highlight(chunk.text, quote),
        before=[Neighbour(chunk_id=c.id, section=c.section, text=c.text) for c in page[:here]],
        after=[Neighbour(chunk_id=c.id, section=c.section, text=c.text) for c in page[here + 1 :]],
    )


def _known_conversation(audit: AuditLog, conversation_id: str) -> None:
    if not audit.has_conversation(conversation_id):
        raise ApiError(404, "conversation_not_found", "Dit gesprek is niet (meer) bekend. Begin een nieuw gesprek.")


def _conversation(audit: AuditLog, body: ChatRequest) -> str:
    if body.conversation_id is None:
        return uuid.uuid4().hex  # known from its first recorded answer on
    _known_conversation(audit, body.conversation_id)
    return body.conversation_id


def _chat(services: Services, body: ChatRequest, channel: str) -> tuple[Answer, str, str]:
    conversation_id = _conversation(services.audit, body)
    answer, answer_id = services.answer(body.question, channel, conversation_id)
    return answer, answer_id, conversation_id


async def _live_events(services: Services, question: str, conversation_id: str) -> AsyncIterator[dict[str, str]]:
    """Answer in a worker thread; what a writing generator writes meanwhile goes out as `draft` events
    (shown as provisional and replaced: a sentence the verifier drops never stays on screen)."""
    loop = asyncio.get_running_loop()
    drafts: asyncio.Queue[str] = asyncio.Queue()

    def on_text(piece: str) -> None:
        loop.call_soon_threadsafe(drafts.put_nowait, piece)

    task = asyncio.ensure_future(asyncio.to_thread(services.answer, question, "web", conversation_id, on_text))
    while not task.done() or not drafts.empty():
        getter = asyncio.ensure_future(drafts.get())
        await asyncio.wait({task, getter}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            yield {"event": "draft", "data": _json({"text": getter.result()})}
        else:
            getter.cancel()
    try:
        answer, answer_id = task.result()
    except Exception as exc:
        if isinstance(exc, AssistantError):  # e.g. the Chroma server stopped after the stream began
            log.warning("streamed answer failed: %s", exc)
            message = exc.message_nl
        else:
            log.exception("streamed answer failed")
            message = "Er ging iets mis bij het maken van het antwoord. Probeer het opnieuw."
        yield {"event": "error", "data": _json({"message": message})}
        return
    async for event in _events(answer, answer_id, conversation_id):
        yield event


async def _events(answer: Answer, answer_id: str, conversation_id: str) -> AsyncIterator[dict[str, str]]:
    # The verified answer is complete before its first event; sending it in pieces lets the page
    # show text at once.
    for piece in stream_pieces(answer.answer):
        yield {"event": "answer", "data": _json({"text": piece})}
    yield {"event": "citations", "data": _json([c.model_dump(mode="json") for c in answer.citations])}
    yield {
        "event": "done",
        "data": _json(
            {
                "answer_id": answer_id,
                "conversation_id": conversation_id,
                "question": answer.question,
                "refused": answer.refused,
                "refusal_reason": answer.refusal_reason,
                "timings_ms": answer.timings_ms,
            }
        ),
    }


def stream_pieces(text: str, words: int = 6) -> list[str]:
    """Split text into pieces of a few words that join back to exactly `text`."""
    tokens = re.split(r"(?<=\s)(?=\S)", text)
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)] if text else []


def highlight(text: str, quote: str) -> Span | None:
    """Where the quote stands in the passage; tolerant of differing whitespace."""
    quote = quote.strip()
    if not quote:
        return None
    at = text.find(quote)
    if at >= 0:
        return Span(start=at, end=at + len(quote))
    match = re.search(r"\s+".join(re.escape(w) for w in quote.split()), text)
    return Span(start=match.start(), end=match.end()) if match else None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------- pages, probes, errors


def _page(name: str) -> FileResponse:
    return FileResponse(
        STATIC / name, media_type="text/html", headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"}
    )


def _add_pages_and_probes(app: FastAPI) -> None:
    @app.get("/", include_in_schema=False)
    def chat_page() -> FileResponse:
        return _page("index.html")

    @app.get("/beheer", include_in_schema=False)
    def admin_page() -> FileResponse:
        return _page("beheer.html")

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> FileResponse:
        return _page("docs.html")

    @app.get("/healthz", response_model=HealthOut, tags=["probes"])
    def healthz() -> HealthOut:
        """The server is up (says nothing about the index)."""
        return HealthOut(status="ok")

    @app.get(
        "/readyz",
        response_model=ReadyOut,
        tags=["probes"],
        responses={503: _error_doc("Index not built yet (index_not_built) or Chroma unreachable (index_unavailable).")},
    )
    def readyz(request: Request) -> ReadyOut:
        """Ready when the index is loaded and its store answers; 503 while it is not built or while the Chroma
        server is unreachable (a load balancer then sends advisors elsewhere; it recovers by itself)."""
        assistant = request.app.state.services.assistant
        ping_store(assistant.store)
        return ReadyOut(status="ready", sources=len(assistant.sources), passages=len(assistant.snapshot.chunks))

    app.mount("/static", StaticFiles(directory=STATIC), name="static")


def ping_store(store: object) -> None:
    """Raise IndexUnavailable when the vector store is a server that does not answer (embedded: nothing)."""
    ping = getattr(store, "ping", None)
    if ping is not None:
        ping()


def error_json(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AssistantError)
    async def assistant_error(request: Request, exc: AssistantError) -> JSONResponse:
        status, code = next(ERROR_STATUS[t] for t in type(exc).__mro__ if t in ERROR_STATUS)
        if status >= 500 and status != 503:
            log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc, exc_info=exc)
        return error_json(status, code, exc.message_nl)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_json(exc.status, exc.code, exc.message_nl, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_json(
                400, "invalid_json", 'Het verzoek is geen geldige JSON. Stuur bijvoorbeeld {"question": "..."}.'
            )
        if any(tuple(e.get("loc", ())) == ("body",) for e in errors):
            message = 'Stuur een JSON-object (Content-Type: application/json), bijvoorbeeld {"question": "..."}.'
            return error_json(422, "invalid_request", "Het verzoek heeft niet de juiste vorm. " + message)
        return error_json(
            422, "invalid_request", "Het verzoek klopt niet: " + "; ".join(_field_message(e) for e in errors[:5]) + "."
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = HTTP_MESSAGES.get(exc.status_code, "Het verzoek kon niet worden verwerkt.")
        return error_json(
            exc.status_code, "not_found" if exc.status_code == 404 else f"http_{exc.status_code}", message, exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("Unexpected error on %s", request.url.path)
        return error_json(500, "internal_error", AssistantError.message_nl)


def _field_message(error: dict[str, Any]) -> str:
    where = ".".join(str(p) for p in error.get("loc", ())[1:])
    kind = error.get("type", "")
    what = {
        "missing": "ontbreekt",
        "string_type": "moet tekst zijn",
        "literal_error": "heeft een onbekende waarde",
        "string_too_long": "is te lang",
    }.get(kind, "is ongeldig")
    if kind == "literal_error" and error.get("ctx", {}).get("expected"):
        what += f" (toegestaan: {error['ctx']['expected']})"
    return f"'{where}' {what}"


# ---------------------------------------------------------------- app and server


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """The web app: chat page, API, probes; then every other channel's `mount(app, services)`."""
    services = services or Services(settings, AuditLog.from_settings(settings))
    app = FastAPI(
        title="Arbeidsmarkt-assistent",
        version="0.1.0",
        summary="Grounded Dutch answers with citations from approved labour-market sources.",
        description=(
            "Answers come only from the approved sources, each sentence with a citation; forecasts the sources do "
            'not state are refused (`refusal_reason`). Errors are `{"error": {"code", "message"}}` with a Dutch '
            "message. When API keys are configured, send `Authorization: Bearer <key>`."
        ),
        docs_url=None,  # FastAPI's Swagger/ReDoc pages load from a CDN; /docs is served locally instead
        redoc_url=None,
    )
    app.state.services = services
    app.state.limiter = RateLimiter(settings.web.rate_limit_per_minute)  # used while the shared store is away
    app.state.limit_warned = float("-inf")
    _add_error_handlers(app)
    app.include_router(api)
    _add_pages_and_probes(app)
    own = tuple(sorted({route.path.split("{")[0] for route in api.routes}))
    app.add_middleware(BodyLimit, max_bytes=settings.web.max_body_bytes, prefixes=own)
    # uploads: the file limit, plus room for the form's other fields
    upload_limit = settings.sources.max_file_bytes + 256 * 1024
    app.add_middleware(
        BodyLimit,
        max_bytes=upload_limit,
        prefixes=("/api/admin/",),
        message=f"Het bestand is te groot. De grens is {_size(settings.sources.max_file_bytes, nl=True)}; "
        "splits of verklein het bestand.",
    )
    admin.mount(app, services)
    for mount in channel_mounts(services.settings):
        mount(app, services)
    return app


def ensure_index(services: Services) -> bool:
    """Build the index when there is none (first start on a fresh machine); True when it is ready."""
    from ..cli import err_console, run_ingest

    try:
        services.assistant
        return True
    except IndexNotBuiltError:
        pass
    except IndexUnavailable as exc:  # the Chroma server is not up (yet): serve, and open it once it answers
        err_console.print(f"[yellow]Chroma server unreachable[/yellow] ({exc}); serving anyway, /readyz answers 503.")
        return False
    err_console.print(
        f"No index yet: indexing the approved sources in {services.settings.corpus_dir} (once, about a minute)."
    )
    report = run_ingest(services.settings)
    for source_id, error in report.failed.items():
        err_console.print(f"[red]failed[/red] {source_id}: {error}")
    services.reload()
    try:
        services.assistant
        return True
    except IndexNotBuiltError as exc:
        err_console.print(f"[yellow]Still no index[/yellow] ({exc}); serving anyway, /readyz answers 503.")
        return False


def check_workers(settings: Settings, workers: int) -> list[str]:
    """What `workers` server processes need: raises ConfigError when they would be unsafe, returns warnings
    for what works on one machine only.

    Replay protection and rate limits live in each process's memory unless ASSISTANT_REDIS_URL is set: a
    second process would accept a Slack or Teams request replayed to it and allow the full rate again, so
    more than one worker without Redis is refused. The embedded SQLite audit file is shared by the workers of
    one machine (WAL, one writer at a time), not by a second machine: that needs ASSISTANT_DATABASE_URL. The
    embedded Chroma folder is read by each worker; an `assistant ingest` is seen after a restart, and a second
    machine needs ASSISTANT_CHROMA_URL.
    """
    if workers < 1:
        raise ConfigError(f"--workers must be 1 or more, not {workers}.")
    if workers == 1:
        return []
    if not settings.redis_url:
        raise ConfigError(
            f"--workers {workers} needs ASSISTANT_REDIS_URL: without Redis each worker keeps its own replay "
            "protection and rate limits, so a replayed Slack/Teams request would be accepted by another worker. "
            "Set ASSISTANT_REDIS_URL=redis://host:6379/0 or serve with one worker."
        )
    warnings = []
    if not settings.database_url:
        warnings.append(
            f"The {workers} workers share the SQLite audit file {settings.audit_db}: fine on this machine only; "
            "set ASSISTANT_DATABASE_URL (PostgreSQL) for several nodes."
        )
    if not settings.chroma_url:
        warnings.append(
            f"Each of the {workers} workers opens the embedded Chroma index in {settings.index_dir}: restart them "
            "after an `assistant ingest`; set ASSISTANT_CHROMA_URL (a Chroma server) for several nodes."
        )
    return warnings


def app_from_env() -> FastAPI:
    """The app factory each uvicorn worker calls: settings from the environment, the index opened at once
    (so the first question does not wait for it; when it fails, each request tries again)."""
    settings = Settings()
    services = Services(settings, AuditLog.from_settings(settings))
    try:
        services.assistant
    except AssistantError as exc:
        log.warning("The index is not open yet (%s); /readyz answers 503 until it is.", exc)
    return create_app(settings, services)


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Build the index if it is missing, then serve the chat page and the API with uvicorn; with `workers` > 1,
    that many processes, each building its app with `app_from_env` (the settings come from the environment)."""
    import uvicorn

    from ..cli import err_console

    for warning in check_workers(settings, workers):
        err_console.print(f"[yellow]warning[/yellow]: {warning}")
    services = Services(settings, AuditLog.from_settings(settings))
    ensure_index(services)
    if workers == 1:
        uvicorn.run(create_app(settings, services), host=host, port=port, log_level="info")
        return
    services.reload()  # the workers open their own index and audit log; this process only supervises them
    services.audit.close()
    uvicorn.run(
        "assistant.channels.web:app_from_env", factory=True, host=host, port=port, workers=workers, log_level="info"
    )


__all__ = [
    "create_app",
    "app_from_env",
    "check_workers",
    "serve",
    "ensure_index",
    "RateLimiter",
    "BodyLimit",
    "ERROR_STATUS",
]
