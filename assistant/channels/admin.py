"""Web face of the content team's side (`admin.py`): the page /beheer and its API, for admin keys only.

    ASSISTANT_WEB__ADMIN_KEYS='["redactie:een-lange-geheime-sleutel"]'   # id:key; the id goes to the audit log

Routes (JSON; errors `{"error": {"code", "message"}}` in Dutch, as elsewhere). `Authorization: Bearer <admin
key>` on each; no key or an unknown one gets 401, an advisor key 403:

    GET    /beheer                               the page
    GET    /api/admin/sources                    every source with its status, and the last re-index
    POST   /api/admin/sources                    multipart: `file` + title, publisher, url, kind, published,
                                                 valid_until, region, period, unit (and optionally id); the
                                                 file is read by its loader first; adds an UNAPPROVED entry
    PATCH  /api/admin/sources/{id}               change metadata: a JSON object of fields, or form fields
                                                 (multipart optionally with `file`, replacing the file too)
    PUT    /api/admin/sources/{id}/file          multipart `file`: replace the file (withdraws the approval)
    POST   /api/admin/sources/{id}/approve       approve (cited after the next re-index)
    POST   /api/admin/sources/{id}/withdraw      withdraw (no longer cited after the next re-index)
    DELETE /api/admin/sources/{id}               remove the entry; the file moves to corpus/.geschiedenis/
    POST   /api/admin/reindex                    start a background re-index -> 202 {"job_id", "job"}
    GET    /api/admin/jobs/{id}                  the job's progress and result; with `Accept: text/event-stream`
                                                 Server-Sent Events: `progress` (repeated), then `done`, each
                                                 with the job as data
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any, AsyncIterator

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sse_starlette import EventSourceResponse
from starlette.datastructures import UploadFile as StarletteUpload

from ..admin import FORM_FIELDS, Upload, supported_suffixes
from ..settings import Settings
from ..types import AdminSource, Job
from . import Services

_bearer = HTTPBearer(auto_error=False, description="Admin key (ASSISTANT_WEB__ADMIN_KEYS).")


class AdminError(Exception):
    def __init__(self, status: int, code: str, message_nl: str, headers: dict[str, str] | None = None):
        super().__init__(message_nl)
        self.status, self.code, self.message_nl, self.headers = status, code, message_nl, headers


def key_ids(settings: Settings) -> list[tuple[str, str]]:
    """(id, key) of each admin key; an entry without 'id:' is known by a fingerprint of the key."""
    out = []
    for entry in settings.web.admin_keys:
        key_id, sep, key = entry.partition(":")
        if not sep or not key_id.strip() or not key:
            key_id, key = "sleutel-" + hashlib.sha256(entry.encode()).hexdigest()[:8], entry
        out.append((key_id.strip(), key))
    return out


def admin_key(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> str:
    """The admin key's id; 401 without a key or with an unknown one, 403 for an advisor's key."""
    settings: Settings = request.app.state.services.settings
    given = (credentials.credentials if credentials else "").encode()
    challenge = {"WWW-Authenticate": "Bearer"}
    if not given:
        raise AdminError(
            401, "unauthorized", "Log in met een beheersleutel ('Authorization: Bearer <sleutel>').", challenge
        )
    found = None
    for key_id, key in key_ids(settings):
        if hmac.compare_digest(given, key.encode()):
            found = key_id
    if found:
        return found
    if any(hmac.compare_digest(given, k.encode()) for k in settings.web.api_keys):
        raise AdminError(
            403,
            "forbidden",
            "Deze sleutel is een adviseurssleutel. Bronnenbeheer vraagt een beheersleutel van het contentteam.",
        )
    if not settings.web.admin_keys:
        raise AdminError(
            403, "admin_disabled", "Bronnenbeheer staat uit op deze server (ASSISTANT_WEB__ADMIN_KEYS is leeg)."
        )
    raise AdminError(401, "unauthorized", "Deze beheersleutel is niet geldig. Vraag de juiste sleutel na.", challenge)


def _admin(request: Request):
    services: Services = request.app.state.services
    return services.admin


class AdminSourcesOut(BaseModel):
    sources: list[AdminSource]
    job: Job | None = Field(None, description="The running re-index, else the last one (None: none yet).")
    max_file_mb: float = Field(description="Largest file an upload may be (ASSISTANT_SOURCES__MAX_FILE_MB).")
    suffixes: list[str] = Field(description="File types the loaders read.")


class JobStarted(BaseModel):
    job_id: str
    job: Job


class Deleted(BaseModel):
    deleted: str


class _ErrorBody(BaseModel):
    code: str
    message: str = Field(description="Dutch message for the content team.")


class _ErrorResponse(BaseModel):
    error: _ErrorBody


def _error(description: str) -> dict[str, Any]:
    return {"model": _ErrorResponse, "description": description}


ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The form or JSON could not be read."),
    401: _error("No admin key, or an unknown one."),
    403: _error("An advisor's key, or admin keys are not configured (ASSISTANT_WEB__ADMIN_KEYS)."),
    404: _error("No source or job with this id."),
    409: _error("The id is taken, or a re-index is already running."),
    413: _error("The file is larger than ASSISTANT_SOURCES__MAX_FILE_MB."),
    422: _error("Refused, nothing changed: the file cannot be read, or a field is wrong (the message says which)."),
}
_FORM_SCHEMA = {
    "type": "object",
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "The source file."},
        **{name: {"type": "string"} for name in FORM_FIELDS},
    },
}
_MULTIPART = {"requestBody": {"content": {"multipart/form-data": {"schema": _FORM_SCHEMA}}}}

router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(admin_key)], responses=ADMIN_ERRORS)


@router.get("/sources", response_model=AdminSourcesOut)
def list_sources(request: Request, admin=Depends(_admin)) -> AdminSourcesOut:
    """Every manifest source with its status, passages and facts in the index advisors are answered from."""
    return AdminSourcesOut(
        sources=admin.sources(),
        job=admin.latest_job(),
        max_file_mb=request.app.state.services.settings.sources.max_file_mb,
        suffixes=supported_suffixes(),
    )


@router.post("/sources", status_code=201, response_model=AdminSource, openapi_extra=_MULTIPART)
async def add_source(request: Request, key_id: str = Depends(admin_key), admin=Depends(_admin)) -> AdminSource:
    """Upload a file with its metadata (multipart); it is added unapproved."""
    fields, upload = await _form(request)
    if upload is None:
        raise AdminError(422, "invalid_source", "Kies een bestand om te uploaden (veld 'file').")
    return await asyncio.to_thread(admin.add, fields, upload, key_id)


@router.patch("/sources/{source_id}", response_model=AdminSource)
async def edit_source(
    source_id: str, request: Request, key_id: str = Depends(admin_key), admin=Depends(_admin)
) -> AdminSource:
    """Change metadata (JSON object or multipart fields); multipart with `file` replaces the file as well."""
    if request.headers.get("content-type", "").startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        fields, upload = await _form(request)
    else:
        fields, upload = await _json_fields(request), None
    return await asyncio.to_thread(admin.update, source_id, fields, key_id, upload)


@router.put("/sources/{source_id}/file", response_model=AdminSource, openapi_extra=_MULTIPART)
async def replace_file(
    source_id: str, request: Request, key_id: str = Depends(admin_key), admin=Depends(_admin)
) -> AdminSource:
    """Replace the source's file (multipart `file`); the approval is withdrawn until it is approved again."""
    fields, upload = await _form(request)
    if upload is None:
        raise AdminError(422, "invalid_source", "Kies het nieuwe bestand (veld 'file').")
    return await asyncio.to_thread(admin.update, source_id, fields, key_id, upload)


@router.post("/sources/{source_id}/approve", response_model=AdminSource)
def approve(source_id: str, key_id: str = Depends(admin_key), admin=Depends(_admin)) -> AdminSource:
    """Approve a source: cited after the next re-index (unless it has expired)."""
    return admin.approve(source_id, key_id)


@router.post("/sources/{source_id}/withdraw", response_model=AdminSource)
def withdraw(source_id: str, key_id: str = Depends(admin_key), admin=Depends(_admin)) -> AdminSource:
    """Withdraw the approval: not cited after the next re-index."""
    return admin.withdraw(source_id, key_id)


@router.delete("/sources/{source_id}", response_model=Deleted)
def delete(source_id: str, key_id: str = Depends(admin_key), admin=Depends(_admin)) -> Deleted:
    """Remove the source from the manifest (its file is kept in corpus/.geschiedenis/)."""
    admin.delete(source_id, key_id)
    return Deleted(deleted=source_id)


@router.post("/reindex", status_code=202, response_model=JobStarted)
def reindex(key_id: str = Depends(admin_key), admin=Depends(_admin)) -> JobStarted:
    """Start a background re-index; advisors are answered from the previous index until it finishes."""
    job = admin.start_reindex(key_id)
    return JobStarted(job_id=job.id, job=job)


@router.get(
    "/jobs/{job_id}",
    response_model=Job,
    responses={200: {"content": {"text/event-stream": {}}, "description": "The job, or its events as SSE."}},
)
async def job(job_id: str, request: Request, admin=Depends(_admin)) -> Any:
    """A re-index's progress and result; `Accept: text/event-stream` streams `progress` and `done` events."""
    current = admin.job(job_id)
    if "text/event-stream" in request.headers.get("accept", ""):
        return EventSourceResponse(_job_events(admin, job_id))
    return current


async def _job_events(admin, job_id: str) -> AsyncIterator[dict[str, str]]:
    after = 0
    while True:
        events, ended = await asyncio.to_thread(admin.events, job_id, after, 1.0)
        after += len(events)
        for event in events:
            yield {"event": event["event"], "data": json.dumps(event["data"], ensure_ascii=False)}
        if any(e["event"] == "done" for e in events):
            return
        if ended:  # a job of an earlier server run: no live events, only how it ended
            yield {"event": "done", "data": admin.job(job_id).model_dump_json()}
            return


async def _form(request: Request) -> tuple[dict[str, str], Upload | None]:
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - the multipart parser raises several kinds
        raise AdminError(
            400, "invalid_request", "Het formulier kon niet worden gelezen. Stuur het als multipart/form-data."
        ) from None
    fields: dict[str, str] = {}
    upload = None
    for key, value in form.multi_items():
        if isinstance(value, StarletteUpload):
            if key == "file" and value.filename:
                upload = Upload(value.filename, value.file)
            continue
        if key in fields:
            raise AdminError(422, "invalid_source", f"Het veld '{key}' staat meer dan eens in het formulier.")
        fields[key] = value
    return fields, upload


async def _json_fields(request: Request) -> dict[str, str]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise AdminError(
            400, "invalid_json", 'Het verzoek is geen geldige JSON. Stuur bijvoorbeeld {"title": "..."}.'
        ) from None
    if not isinstance(body, dict) or not all(isinstance(v, str) or v is None for v in body.values()):
        raise AdminError(
            422,
            "invalid_request",
            'Stuur een JSON-object met tekstvelden, bijvoorbeeld {"valid_until": "2026-12-31"}. '
            f"Velden: {', '.join(FORM_FIELDS)}.",
        )
    return {k: v or "" for k, v in body.items()}


def mount(app: FastAPI, services: Services) -> None:
    """Add the admin API and its error handler to the web app (the page is served by web.py)."""

    @app.exception_handler(AdminError)
    async def admin_error(request: Request, exc: AdminError) -> JSONResponse:
        return JSONResponse(
            {"error": {"code": exc.code, "message": exc.message_nl}}, status_code=exc.status, headers=exc.headers
        )

    app.include_router(router)


__all__ = ["router", "mount", "admin_key", "key_ids"]
