"""The content team's side: change the sources (add, edit, replace, approve, withdraw, delete) and re-index
in the background, while advisors keep being answered from the index they had until the switch.

    admin = Admin(settings, audit, current=services.current, swap=services.swap)
    admin.add({"title": "...", "publisher": "UWV", "kind": "factsheet", "published": "2026-01-15"},
              Upload("factsheet.docx", stream), key_id="redactie")
    admin.approve("factsheet-drenthe", key_id="redactie")
    job = admin.start_reindex(key_id="redactie")        # a thread; admin.job(job.id) tells how far it is

The manifest stays the one source of truth. Every change is made to its text (tomlkit keeps the comments),
checked with the one manifest check (`sources.parse_manifest`) and only then written: to a temporary file
beside it, then renamed over it (`os.replace`), with the version before kept as manifest.toml.prev and in
.geschiedenis/. An uploaded file is read by its loader before anything is written, so a file the assistant
cannot read (encrypted, too large, not what its name says) is refused with the loader's Dutch message, and a
refused change leaves the manifest, the files and the index as they were. Replacing a file withdraws the
approval: the new content is approved anew. Every action, refused ones too, goes to the audit log with the
admin key's id.

A re-index runs the same incremental ingest as `assistant ingest`, staged (`index.ingest(serving=...)`): the
new versions are written beside the old ones, the index state switches once at the end, and only then does
the running Assistant swap to the new index (`swap`). Killed half-way, the server restarts on the index it
had. A source that fails to load keeps its previous version; the job and the source list say why. Jobs are
kept as JSON in index_dir/jobs/, so a job cut off by a restart reads as interrupted.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator, Mapping

import tomlkit
from tomlkit.items import AoT, Table

from .backends import get_embedder, get_store
from .chunking import chunk_document
from .errors import (
    AssistantError,
    ConfigError,
    CorpusError,
    IndexNotBuiltError,
    SourceConflict,
    SourceEditError,
    SourceNotFound,
    SourceTooLarge,
)
from .index import ingest, source_version, sweep
from .lexicon import Lexicon
from .settings import Settings
from .sources import LOADERS, SourceStatus, _size, load_document, load_manifest, parse_manifest
from .types import AdminSource, Job, SourceInfo

if TYPE_CHECKING:
    from .audit import AuditLog
    from .core import Assistant

log = logging.getLogger(__name__)

UPLOAD_DIR = "bronnen"  # uploaded files, under the corpus folder
HISTORY_DIR = ".geschiedenis"  # earlier manifests and replaced or deleted files, under the corpus folder
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
# What the form may set; file, approved, approved_by and approved_at are the page's own doing.
FORM_FIELDS = ("id", "title", "publisher", "url", "kind", "published", "valid_until", "region", "period", "unit")
REQUIRED = ("title", "publisher", "kind", "published")
DATES = ("published", "valid_until")


@dataclass
class Upload:
    """A file as the browser sent it: its name (for the suffix only) and its bytes."""

    filename: str
    stream: BinaryIO


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Admin:
    def __init__(
        self,
        settings: Settings,
        audit: AuditLog,
        current: Callable[[], Assistant | None],
        swap: Callable[[Assistant | None], None],
    ):
        """`current`: the Assistant advisors are answered by now (None while there is no index); `swap`: make
        another one that (None: there is no index any more)."""
        self.settings, self.audit, self._current, self._swap = settings, audit, current, swap
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._events: dict[str, list[dict]] = {}
        self._changed = threading.Condition()
        self._ended: set[str] = set()  # jobs whose `done` event went out, or that ended in an earlier run
        self.jobs_dir = settings.index_dir / "jobs"
        self._load_jobs()

    @property
    def manifest_path(self) -> Path:
        return self.settings.manifest_path

    # ------------------------------------------------------------ reading

    def sources(self) -> list[AdminSource]:
        """Every manifest source with its status, most pressing first in `status`; the manifest's order."""
        statuses = load_manifest(self.manifest_path, self.settings.effective_today())
        assistant = self._current()
        lexicon = assistant.lexicon if assistant else Lexicon.load(self.settings.lexicon_file)
        passages: dict[str, int] = {}
        facts: dict[str, int] = {}
        versions: dict[str, str] = {}
        if assistant is not None:
            snapshot = assistant.snapshot
            versions = snapshot.meta_versions
            for source_id, annotations in snapshot.passages.source_annotations(snapshot.versions):
                passages[source_id] = passages.get(source_id, 0) + 1
                found = sum(len(s.get("facts", [])) for s in json.loads(annotations or "[]"))
                facts[source_id] = facts.get(source_id, 0) + found
        last = self.last_finished()
        out = []
        for st in statuses:
            sid = st.source.id
            version = source_version(st, lexicon) if st.status != "missing file" else ""
            indexed = "absent" if sid not in versions else "current" if versions[sid] == version else "outdated"
            error = last.failed.get(sid, "") if last and indexed != "current" else ""
            status = st.status
            if status == "approved" and error:
                status = "failed"
            elif status == "approved" and st.warning.startswith("Verloopt"):
                status = "expiring"
            out.append(
                AdminSource(
                    **st.source.model_dump(),
                    status=status,
                    warning=st.warning,
                    error=error,
                    passages=passages.get(sid, 0),
                    facts=facts.get(sid, 0),
                    indexed=indexed,
                )
            )
        return out

    def source(self, source_id: str) -> AdminSource:
        for s in self.sources():
            if s.id == source_id:
                return s
        raise _not_found(source_id)

    # ------------------------------------------------------------ changes

    def add(self, fields: Mapping[str, str], upload: Upload, key_id: str) -> AdminSource:
        """A new, unapproved source: the file stored under the corpus folder, an entry added to the manifest."""
        return self._audited("add", fields.get("id", ""), key_id, lambda: self._add(fields, upload), fields)

    def update(self, source_id: str, fields: Mapping[str, str], key_id: str, upload: Upload | None = None):
        """Change an entry's metadata; with `upload`, replace its file too (which withdraws the approval)."""
        action = "replace" if upload else "update"
        return self._audited(action, source_id, key_id, lambda: self._update(source_id, fields, upload), fields)

    def approve(self, source_id: str, key_id: str) -> AdminSource:
        """Approve a source: cited from the next re-index on (unless expired)."""

        def edit(table: Table) -> None:
            table["approved"] = True
            table["approved_by"] = key_id
            table["approved_at"] = _now()

        return self._audited("approve", source_id, key_id, lambda: self._edit_entry(source_id, edit))

    def withdraw(self, source_id: str, key_id: str) -> AdminSource:
        """Withdraw the approval: the next re-index removes the source from the index; the entry and file stay."""

        def edit(table: Table) -> None:
            table["approved"] = False
            for key in ("approved_by", "approved_at"):
                if key in table:
                    del table[key]

        return self._audited("withdraw", source_id, key_id, lambda: self._edit_entry(source_id, edit))

    def delete(self, source_id: str, key_id: str) -> None:
        """Remove the entry; its file moves to .geschiedenis/ (the next re-index removes its passages)."""
        self._audited("delete", source_id, key_id, lambda: self._delete(source_id))

    # ------------------------------------------------------------ the changes themselves

    def _add(self, fields: Mapping[str, str], upload: Upload) -> AdminSource:
        values = _form_values(fields, partial=False)
        source_id = values.pop("id", "") or _slug(values["title"])
        _check_id(source_id)
        with self._locked():
            doc = self._read_doc()
            if _find(doc, source_id) is not None:
                raise SourceConflict(
                    f"Source id {source_id!r} exists.",
                    f"Er is al een bron met id '{source_id}'. Kies een andere id of bewerk de bestaande bron.",
                )
            table = tomlkit.table()
            table["id"] = source_id
            for key, value in values.items():
                table[key] = value
            table["file"] = f"{UPLOAD_DIR}/{source_id}{Path(upload.filename or '').suffix.lower()}"
            table["approved"] = False
            if "source" not in doc:
                doc["source"] = tomlkit.aot()
            elif len(doc["source"]):
                doc["source"][-1].add(tomlkit.nl())  # a blank line between entries, as the file is written by hand
            doc["source"].append(table)
            _check(doc, self.manifest_path)  # the entry first: a wrong date or title is refused before the file
            staged, final = self._stage(upload, source_id, values)
            try:
                table["file"] = final.relative_to(self.settings.corpus_dir).as_posix()
                self._commit(doc, move=(staged, final))
            finally:
                staged.unlink(missing_ok=True)
        return self.source(source_id)

    def _update(self, source_id: str, fields: Mapping[str, str], upload: Upload | None) -> AdminSource:
        if fields.get("id") and fields["id"] != source_id:
            raise SourceEditError(
                f"The id of {source_id!r} cannot change.",
                "De id van een bron kan niet worden gewijzigd. Voeg de bron opnieuw toe onder de nieuwe id.",
            )
        values = _form_values({k: v for k, v in fields.items() if k != "id"}, partial=True)
        if not values and upload is None:
            raise SourceEditError(
                "Nothing to change.", "Er is niets om te wijzigen: vul een veld in of kies een bestand."
            )
        with self._locked():
            doc = self._read_doc()
            table = _find(doc, source_id)
            if table is None:
                raise _not_found(source_id)
            for key, value in values.items():
                if value is None:
                    if key in table:
                        del table[key]
                else:
                    table[key] = value
            if upload is None:
                self._commit(doc)
                return self.source(source_id)
            _check(doc, self.manifest_path)
            entry = {k: v for k, v in table.unwrap().items() if k in FORM_FIELDS}
            staged, final = self._stage(upload, source_id, entry)
            try:
                old = self.settings.corpus_dir / str(table["file"])
                table["file"] = final.relative_to(self.settings.corpus_dir).as_posix()
                table["approved"] = False  # new content is approved anew
                for key in ("approved_by", "approved_at"):
                    if key in table:
                        del table[key]
                self._commit(doc, move=(staged, final), retire=old)
            finally:
                staged.unlink(missing_ok=True)
        return self.source(source_id)

    def _edit_entry(self, source_id: str, edit: Callable[[Table], None]) -> AdminSource:
        with self._locked():
            doc = self._read_doc()
            table = _find(doc, source_id)
            if table is None:
                raise _not_found(source_id)
            edit(table)
            self._commit(doc)
        return self.source(source_id)

    def _delete(self, source_id: str) -> None:
        with self._locked():
            doc = self._read_doc()
            aot: AoT = doc.get("source", tomlkit.aot())
            at = next((i for i, t in enumerate(aot) if t.get("id") == source_id), None)
            if at is None:
                raise _not_found(source_id)
            old = self.settings.corpus_dir / str(aot[at]["file"])
            del aot[at]
            self._commit(doc, retire=old)

    # ------------------------------------------------------------ manifest and files

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One change at a time: in this process (a lock) and across server processes (a lock file)."""
        with self._lock:
            lock_path = self.settings.corpus_dir / ".manifest.lock"
            with open(lock_path, "a") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

    def _read_doc(self) -> tomlkit.TOMLDocument:
        raw = self.manifest_path.read_bytes()
        try:
            parse_manifest(raw, self.manifest_path)
        except ConfigError as exc:
            raise SourceEditError(
                str(exc),
                "Het bronnenbestand (manifest.toml) is nu al ongeldig; herstel het eerst: " + exc.message_nl,
            ) from exc
        return tomlkit.parse(raw.decode("utf-8"))

    def _commit(
        self, doc: tomlkit.TOMLDocument, move: tuple[Path, Path] | None = None, retire: Path | None = None
    ) -> None:
        """Check the new manifest, put a staged file in place, write the manifest atomically (the previous one
        kept), then move a file no entry names any more to .geschiedenis/. A refused manifest changes nothing;
        a failed write puts the staged file back."""
        text = tomlkit.dumps(doc)
        infos = _check(doc, self.manifest_path)
        if move:
            staged, final = move
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
        try:
            self._write_manifest(text)
        except BaseException:
            if move:
                move[1].unlink(missing_ok=True)
            raise
        corpus = self.settings.corpus_dir.resolve()
        named = {(corpus / i.file).resolve() for i in infos}
        if retire is not None and retire.exists() and retire.resolve() not in named:
            if retire.resolve().is_relative_to(corpus):
                history = self._history_dir() / "bestanden"
                history.mkdir(parents=True, exist_ok=True)
                os.replace(retire, history / f"{_stamp()}-{retire.name}")

    def _write_manifest(self, text: str) -> None:
        path = self.manifest_path
        if path.exists():
            previous = path.read_bytes()
            _atomic_write(path.with_name(path.name + ".prev"), previous)
            history = self._history_dir()
            history.mkdir(parents=True, exist_ok=True)
            _atomic_write(history / f"manifest-{_stamp()}.toml", previous)
        _atomic_write(path, text.encode("utf-8"))

    def _history_dir(self) -> Path:
        return self.settings.corpus_dir / HISTORY_DIR

    def _stage(self, upload: Upload, source_id: str, entry: Mapping) -> tuple[Path, Path]:
        """Copy the upload (at most the size limit) beside its final place and read it with its loader, as
        ingest will; returns (staged, final path). Raises SourceEditError with the loader's Dutch message."""
        suffix = Path(upload.filename or "").suffix.lower()
        folder = self.settings.corpus_dir / UPLOAD_DIR
        folder.mkdir(parents=True, exist_ok=True)
        staged = folder / f".upload-{uuid.uuid4().hex}{suffix}"
        limit = self.settings.sources.max_file_bytes
        digest = hashlib.sha256()
        size = 0
        try:
            with open(staged, "wb") as out:
                while block := upload.stream.read(1 << 20):
                    size += len(block)
                    if size > limit:
                        raise SourceTooLarge(
                            f"{upload.filename}: more than {limit} bytes.",
                            f"Het bestand {upload.filename} is te groot (meer dan {_size(limit, nl=True)}). "
                            "Splits of verklein het bestand.",
                        )
                    digest.update(block)
                    out.write(block)
            info = SourceInfo(
                **{"id": source_id, "title": "?", "publisher": "?", "kind": "report", "published": date.today()}
                | {k: v for k, v in entry.items() if v is not None}
                | {"file": staged.name, "approved": True}
            )
            status = SourceStatus(info, staged, "approved")
            document = load_document(status, limit)
            lexicon = Lexicon.load(self.settings.lexicon_file)
            if not chunk_document(document, self.settings.chunking, lexicon):
                raise CorpusError(
                    f"{upload.filename} produced no text passages.",
                    f"Uit {upload.filename} kwam geen tekst om te citeren.",
                )
        except CorpusError as exc:
            staged.unlink(missing_ok=True)
            message = exc.message_nl.replace(staged.name, upload.filename or "het bestand")
            raise SourceEditError(str(exc).replace(staged.name, upload.filename), message) from exc
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return staged, folder / f"{source_id}-{digest.hexdigest()[:8]}{suffix}"

    def _audited(self, action: str, source_id: str, key_id: str, work: Callable, fields: Mapping | None = None):
        detail = {"fields": {k: v for k, v in (fields or {}).items() if k in FORM_FIELDS}} if fields else {}
        try:
            result = work()
        except AssistantError as exc:
            self.audit.admin_action(key_id, action, source_id, "refused", {**detail, "reason": exc.message_nl})
            raise
        except Exception as exc:
            self.audit.admin_action(key_id, action, source_id, "failed", {**detail, "reason": type(exc).__name__})
            raise
        sid = result.id if isinstance(result, AdminSource) else source_id
        self.audit.admin_action(key_id, action, sid, "ok", detail)
        return result

    # ------------------------------------------------------------ re-index jobs

    def start_reindex(self, key_id: str) -> Job:
        """Start a background re-index; raises SourceConflict while one runs."""
        with self._changed:
            running = next((j for j in self._jobs.values() if j.status == "running"), None)
            if running is not None:
                self.audit.admin_action(key_id, "reindex", "", "refused", {"running": running.id})
                raise SourceConflict(
                    f"Re-index {running.id} is still running.",
                    f"Er loopt al een herindexering (gestart om {running.started_at:%H:%M}). Wacht tot die klaar is.",
                )
            job = Job(id=uuid.uuid4().hex[:12], key_id=key_id, started_at=_now(), message="Herindexering gestart.")
            self._jobs[job.id] = job
            self._events[job.id] = []
            self._save(job)
        self.audit.admin_action(key_id, "reindex", "", "ok", {"job_id": job.id})
        self._emit(job, "progress")
        threading.Thread(target=self._run, args=(job,), name=f"reindex-{job.id}", daemon=True).start()
        return job

    def job(self, job_id: str) -> Job:
        with self._changed:
            job = self._jobs.get(job_id)
            if job is None:
                raise SourceNotFound(
                    f"No job {job_id!r}.", "Deze herindexering is niet bekend (de server is mogelijk vervangen)."
                )
            return job.model_copy(deep=True)

    def latest_job(self) -> Job | None:
        """The running re-index, else the one started last."""
        with self._changed:
            jobs = sorted(self._jobs.values(), key=lambda j: (j.status == "running", j.started_at))
            return jobs[-1].model_copy(deep=True) if jobs else None

    def last_finished(self) -> Job | None:
        with self._changed:
            done = [j for j in self._jobs.values() if j.status in ("succeeded", "failed")]
        return max(done, key=lambda j: j.started_at) if done else None

    def events(self, job_id: str, after: int, timeout: float) -> tuple[list[dict], bool]:
        """The job's events from number `after` on, waiting up to `timeout` s for one; and whether it ended."""
        self.job(job_id)
        with self._changed:
            events = self._events.setdefault(job_id, [])
            if len(events) <= after and job_id not in self._ended:
                self._changed.wait(timeout)
            return self._events[job_id][after:], job_id in self._ended

    def _emit(self, job: Job, event: str) -> None:
        with self._changed:
            self._events.setdefault(job.id, []).append({"event": event, "data": job.model_dump(mode="json")})
            if event == "done":
                self._ended.add(job.id)
            self._changed.notify_all()

    def _run(self, job: Job) -> None:
        settings = self.settings
        try:
            current = self._current()
            store = current.store if current else get_store(settings)
            embedder = current.embedder if current else get_embedder(settings)
            serving = list(current.snapshot.versions) if current else []
            titles = {s.id: s.title for s in self.sources()}

            def progress(source_id: str, n: int, total: int) -> None:
                with self._changed:
                    job.done, job.total, job.current = n - 1, total, source_id
                    job.message = f"Bron {n} van {total}: {titles.get(source_id, source_id)}"
                self._emit(job, "progress")

            report = ingest(settings, progress, store, embedder, serving=serving)
            with self._changed:
                job.done, job.current = job.total, ""
                job.message = "Bronnen gelezen; de nieuwe index wordt in gebruik genomen."
                job.added, job.replaced, job.removed = report.added, report.replaced, report.removed
                job.unchanged, job.skipped = report.unchanged, report.skipped
                job.failed = report.failed_nl
            self._emit(job, "progress")
            try:
                fresh = _open_assistant(settings, store, embedder)
            except IndexNotBuiltError:
                fresh = None  # every source withdrawn: there is nothing left to answer from
            self._swap(fresh)
            sweep(store)
            with self._changed:
                job.status = "succeeded"
                job.message = _summary(job)
        except AssistantError as exc:
            log.warning("Re-index %s failed: %s", job.id, exc)
            with self._changed:
                job.status, job.message = "failed", f"Herindexering mislukt: {exc.message_nl} De vorige index blijft."
        except Exception:
            log.exception("Re-index %s failed", job.id)
            with self._changed:
                job.status = "failed"
                job.message = "Herindexering mislukt door een fout in de assistent. De vorige index blijft in gebruik."
        with self._changed:
            job.finished_at = _now()
            self._save(job)
        outcome = "ok" if job.status == "succeeded" else "failed"
        detail = {"job_id": job.id, "failed": job.failed, "added": job.added, "removed": job.removed}
        try:
            self.audit.admin_action(job.key_id, "reindex_finished", "", outcome, detail)
        finally:
            self._emit(job, "done")

    def _save(self, job: Job) -> None:
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        record = {"pid": os.getpid(), "job": job.model_dump(mode="json")}
        _atomic_write(self.jobs_dir / f"{job.id}.json", json.dumps(record, ensure_ascii=False).encode())

    def _load_jobs(self) -> None:
        """Earlier jobs from index_dir/jobs/; one whose process is gone while it ran was cut off."""
        if not self.jobs_dir.is_dir():
            return
        for path in sorted(self.jobs_dir.glob("*.json")):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
                job = Job(**record["job"])
            except (ValueError, KeyError, TypeError):
                continue
            if job.status == "running" and not _alive(record.get("pid", 0)):
                job.status = "interrupted"
                job.finished_at = _now()
                job.message = (
                    "Afgebroken: de server stopte tijdens deze herindexering. De vorige index is nog in gebruik; "
                    "start de herindexering opnieuw."
                )
                self._save(job)
            self._jobs[job.id] = job
            self._events[job.id] = []
            if job.status != "running":
                self._ended.add(job.id)


def _open_assistant(settings: Settings, store, embedder) -> Assistant:
    from .core import Assistant

    return Assistant.open(settings, store, embedder)


def _summary(job: Job) -> str:
    parts = [
        f"{len(job.added)} toegevoegd",
        f"{len(job.replaced)} bijgewerkt",
        f"{len(job.removed)} verwijderd",
        f"{len(job.unchanged)} ongewijzigd",
    ]
    text = "Herindexering klaar: " + ", ".join(parts) + "."
    if job.failed:
        text += f" {len(job.failed)} bron(nen) niet gelezen; de vorige versie blijft gebruikt."
    return text


def _alive(pid: int) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, flush it to disk, then rename it over `path`."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def _check(doc: tomlkit.TOMLDocument, where: Path) -> list[SourceInfo]:
    """The one manifest check (`parse_manifest`) on the manifest as it would be written."""
    try:
        return parse_manifest(tomlkit.dumps(doc).encode("utf-8"), where)
    except ConfigError as exc:
        raise SourceEditError(str(exc), exc.message_nl) from exc


def _find(doc: tomlkit.TOMLDocument, source_id: str) -> Table | None:
    return next((t for t in doc.get("source", []) if t.get("id") == source_id), None)


def _not_found(source_id: str) -> SourceNotFound:
    return SourceNotFound(f"No source {source_id!r}.", f"Er is geen bron met id '{source_id}'.")


def _slug(title: str) -> str:
    slug = re.sub(
        r"[^a-z0-9]+", "-", title.lower().translate(str.maketrans("áàäâéèëêíìïîóòöôúùüûç", "aaaaeeeeiiiioooouuuuc"))
    )
    return slug.strip("-")[:60].strip("-") or "bron"


def _check_id(source_id: str) -> None:
    if not ID_PATTERN.match(source_id):
        raise SourceEditError(
            f"Invalid source id {source_id!r}.",
            "De id mag alleen kleine letters, cijfers, punten, streepjes en lage streepjes bevatten "
            "(bijvoorbeeld factsheet-drenthe-2026), en begint met een letter of cijfer.",
        )


def _form_values(fields: Mapping[str, str], partial: bool) -> dict:
    """The form's fields as manifest values: text stripped, dates read (JJJJ-MM-DD). `partial` (an edit):
    only the given fields, an emptied optional field is removed (None). Unknown fields are refused."""
    unknown = sorted(set(fields) - set(FORM_FIELDS))
    if unknown:
        raise SourceEditError(
            f"Unknown fields: {', '.join(unknown)}.",
            f"Onbekend veld: {', '.join(unknown)}. Toegestaan zijn {', '.join(FORM_FIELDS)}.",
        )
    values: dict = {}
    for key in FORM_FIELDS:
        if key not in fields:
            if not partial and key in REQUIRED:
                raise _missing(key)
            continue
        text = (fields[key] or "").strip()
        if not text:
            if key in REQUIRED:
                raise _missing(key)
            if partial:
                values[key] = None
            continue
        if key in DATES:
            try:
                values[key] = date.fromisoformat(text)
            except ValueError:
                raise SourceEditError(
                    f"{key}: not a date: {text!r}.",
                    f"'{_label(key)}' is geen geldige datum: vul die in als JJJJ-MM-DD, bijvoorbeeld 2026-01-15.",
                ) from None
        else:
            values[key] = text
    return values


def _missing(key: str) -> SourceEditError:
    return SourceEditError(f"{key} is required.", f"Vul '{_label(key)}' in: dat veld is verplicht.")


def _label(key: str) -> str:
    from .sources import FIELD_NAMES_NL

    return FIELD_NAMES_NL.get(key, key)


def supported_suffixes() -> list[str]:
    return sorted(LOADERS)


__all__ = ["Admin", "Upload", "FORM_FIELDS", "UPLOAD_DIR", "HISTORY_DIR", "supported_suffixes"]
