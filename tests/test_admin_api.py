"""The content team's API (/api/admin/*) through FastAPI's TestClient, over a real index of a small corpus
(the report's two tables, copied into a temporary folder) and real files: each action, the audit log, the
manifest written atomically with its previous version kept, bad input refused in Dutch with nothing
changed, and background re-indexes that swap the served index only when they are done."""

from __future__ import annotations

import io
import shutil
import time
import tomllib
from datetime import date

import pytest
from admin_corpus import (
    ADMIN_ID,
    ADMIN_KEY,
    ADVISOR_KEY,
    CORPUS,
    FACTSHEET_FIGURE,
    FACTSHEET_FORM,
    FACTSHEET_QUESTION,
    FACTSHEET_TITLE,
    TABLE_QUESTION,
    admin_settings,
    factsheet_docx,
    small_corpus,
    tree,
)
from fastapi.testclient import TestClient

from assistant.audit import AuditLog
from assistant.channels import Services, web
from assistant.core import Assistant
from assistant.errors import ConfigError
from assistant.index import ingest, load_snapshot, sweep
from assistant.sources import load_manifest

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
ADVISOR = {"Authorization": f"Bearer {ADVISOR_KEY}"}
ONBENUT = "rib-groningen-2025-onbenut-arbeidspotentieel"
VACATURES = "rib-groningen-2025-vacatures-per-sector"


@pytest.fixture(scope="module")
def template(tmp_path_factory, embedding_cache):
    """The small corpus with a built index, made once; tests copy the corpus and share this index read-only."""
    base = tmp_path_factory.mktemp("admin-template")
    corpus = small_corpus(base / "corpus")
    settings = admin_settings(base, corpus, embedding_cache)
    report = ingest(settings)
    assert not report.failed and len(report.added) == 2
    return settings, Assistant.open(settings)


@pytest.fixture
def env(template, tmp_path, embedding_cache):
    """A copy of the small corpus over the shared index (for tests that do not re-index)."""
    settings, assistant = template
    corpus = tmp_path / "corpus"
    shutil.copytree(settings.corpus_dir, corpus)
    settings = admin_settings(tmp_path, corpus, embedding_cache, index_dir=settings.index_dir)
    services = Services(settings, AuditLog(settings.audit_db), _assistant=assistant)
    return services, TestClient(web.create_app(settings, services))


@pytest.fixture
def fresh(tmp_path, embedding_cache):
    """A copy of the small corpus with its own index (for tests that re-index)."""
    corpus = small_corpus(tmp_path / "corpus")
    settings = admin_settings(tmp_path, corpus, embedding_cache)
    assert not ingest(settings).failed
    services = Services(settings, AuditLog(settings.audit_db))
    return services, TestClient(web.create_app(settings, services))


def upload(client, form=None, filename="factsheet.docx", data=None, headers=ADMIN):
    return client.post(
        "/api/admin/sources",
        headers=headers,
        data=form if form is not None else FACTSHEET_FORM,
        files={"file": (filename, data if data is not None else factsheet_docx())},
    )


def manifest(services) -> dict[str, dict]:
    data = tomllib.loads(services.settings.manifest_path.read_text(encoding="utf-8"))
    return {s["id"]: s for s in data["source"]}


def run_job(client, job_id: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/admin/jobs/{job_id}", headers=ADMIN).json()
        if job["status"] != "running":
            return job
        time.sleep(0.2)
    raise AssertionError(f"re-index {job_id} did not finish")


def reindex(client) -> dict:
    response = client.post("/api/admin/reindex", headers=ADMIN)
    assert response.status_code == 202, response.text
    return run_job(client, response.json()["job_id"])


def ask(client, question: str) -> dict:
    response = client.post("/api/ask", headers=ADVISOR, json={"question": question})
    assert response.status_code == 200, response.text
    return response.json()


def dutch_error(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return error["message"]


# ------------------------------------------------------------------ access


def admin_routes() -> list[tuple[str, str]]:
    from assistant.channels.admin import router

    routes = []
    for route in router.routes:
        if route.path.startswith("/api/admin"):
            for method in sorted(route.methods - {"HEAD"}):
                routes.append((method, route.path.replace("{source_id}", ONBENUT).replace("{job_id}", "x")))
    return routes


def test_every_admin_route_refuses_an_advisor_key_with_403_and_no_key_with_401(env):
    services, client = env
    routes = admin_routes()
    assert len(routes) >= 9  # list, add, edit, replace, approve, withdraw, delete, reindex, job
    before = tree(services.settings.corpus_dir)
    for method, path in routes:
        as_advisor = client.request(method, path, headers=ADVISOR)
        assert as_advisor.status_code == 403, (method, path, as_advisor.text)
        assert "adviseurssleutel" in as_advisor.json()["error"]["message"]
        anonymous = client.request(method, path)
        assert anonymous.status_code == 401, (method, path)
        assert anonymous.headers["www-authenticate"] == "Bearer"
        assert "beheersleutel" in anonymous.json()["error"]["message"]
        wrong = client.request(method, path, headers={"Authorization": "Bearer geraden"})
        assert wrong.status_code == 401, (method, path)
    assert tree(services.settings.corpus_dir) == before
    assert services.audit.admin_actions() == []
    # and the admin key is no advisor key: the chat API stays closed to it
    assert client.post("/api/ask", headers=ADMIN, json={"question": TABLE_QUESTION}).status_code == 401
    assert client.get("/beheer").status_code == 200  # the page itself holds no data: it asks for the key


def test_the_source_list_shows_status_counts_and_dates(env):
    services, client = env
    response = client.get("/api/admin/sources", headers=ADMIN)
    assert response.status_code == 200
    body = response.json()
    by_id = {s["id"]: s for s in body["sources"]}
    assert set(by_id) == {ONBENUT, VACATURES}
    onbenut = by_id[ONBENUT]
    assert onbenut["status"] == "approved" and onbenut["indexed"] == "current"
    assert onbenut["passages"] == 4 and onbenut["facts"] > 0
    assert onbenut["published"] == "2025-11-01" and onbenut["valid_until"] == "2027-06-30"
    assert onbenut["region"] == "arbeidsmarktregio Groningen" and onbenut["period"].startswith("2024")
    assert onbenut["approved_by"] == "Team Arbeidsmarktinformatie Noord"
    assert body["max_file_mb"] == 50 and ".docx" in body["suffixes"] and body["job"] is None


# ------------------------------------------------------------------ each action


def test_upload_stores_the_file_under_the_corpus_and_adds_an_unapproved_entry(env):
    services, client = env
    before = services.settings.manifest_path.read_bytes()
    response = upload(client)
    assert response.status_code == 201, response.text
    added = response.json()
    assert added["id"] == "factsheet-dronepiloten-zeewolde-2026"
    assert added["status"] == "unapproved" and added["approved"] is False and added["indexed"] == "absent"
    entry = manifest(services)[added["id"]]
    assert entry["title"] == FACTSHEET_TITLE and str(entry["published"]) == "2026-01-15"
    assert entry["region"] == "Zeewolde" and entry["period"] == "januari 2026" and entry["approved"] is False
    stored = services.settings.corpus_dir / entry["file"]
    assert entry["file"].startswith("bronnen/") and stored.read_bytes() == factsheet_docx()
    # the previous manifest is kept, once as .prev and once in the history folder; no temporary files stay
    assert (services.settings.corpus_dir / "manifest.toml.prev").read_bytes() == before
    history = list((services.settings.corpus_dir / ".geschiedenis").glob("manifest-*.toml"))
    assert [h.read_bytes() for h in history] == [before]
    assert not [p for p in services.settings.corpus_dir.rglob("*") if p.name.endswith(".tmp") or ".upload-" in p.name]
    assert "# Approved sources." in services.settings.manifest_path.read_text()  # comments kept
    (action,) = services.audit.admin_actions()
    assert (action["key_id"], action["action"], action["source_id"], action["outcome"]) == (
        ADMIN_ID,
        "add",
        added["id"],
        "ok",
    )
    assert action["created_at"][:4] >= "2026" and action["detail"]["fields"]["title"] == FACTSHEET_TITLE


def test_approve_and_withdraw_record_who_and_when(env):
    services, client = env
    source_id = upload(client).json()["id"]
    approved = client.post(f"/api/admin/sources/{source_id}/approve", headers=ADMIN)
    assert approved.status_code == 200
    body = approved.json()
    assert body["approved"] is True and body["approved_by"] == ADMIN_ID and body["approved_at"]
    assert body["status"] == "approved" and body["indexed"] == "absent"  # cited after the next re-index
    assert manifest(services)[source_id]["approved_by"] == ADMIN_ID
    withdrawn = client.post(f"/api/admin/sources/{source_id}/withdraw", headers=ADMIN).json()
    assert withdrawn["approved"] is False and withdrawn["status"] == "unapproved" and withdrawn["approved_by"] == ""
    assert "approved_at" not in manifest(services)[source_id]
    actions = [(a["action"], a["key_id"]) for a in reversed(services.audit.admin_actions())]
    assert actions == [("add", ADMIN_ID), ("approve", ADMIN_ID), ("withdraw", ADMIN_ID)]


def test_patch_changes_metadata_as_json_or_form_and_clears_an_emptied_field(env):
    services, client = env
    response = client.patch(
        f"/api/admin/sources/{ONBENUT}", headers=ADMIN, json={"valid_until": "2026-12-31", "period": "2024"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["valid_until"] == "2026-12-31" and response.json()["period"] == "2024"
    assert response.json()["indexed"] == "outdated"  # the index holds the entry as it was, until re-indexed
    entry = manifest(services)[ONBENUT]
    assert str(entry["valid_until"]) == "2026-12-31" and entry["approved"] is True  # approval kept
    response = client.patch(f"/api/admin/sources/{ONBENUT}", headers=ADMIN, data={"region": ""})
    assert response.status_code == 200 and "region" not in manifest(services)[ONBENUT]
    refused = client.patch(f"/api/admin/sources/{ONBENUT}", headers=ADMIN, json={"id": "iets-anders"})
    assert "kan niet worden gewijzigd" in dutch_error(refused, 422, "invalid_source")
    refused = client.patch(f"/api/admin/sources/{ONBENUT}", headers=ADMIN, json={"approved": "true"})
    assert "Onbekend veld: approved" in dutch_error(refused, 422, "invalid_source")
    missing = client.patch("/api/admin/sources/bestaat-niet", headers=ADMIN, json={"title": "x"})
    assert "Er is geen bron met id 'bestaat-niet'" in dutch_error(missing, 404, "source_not_found")
    assert [a["action"] for a in services.audit.admin_actions()][:2] == ["update", "update"]


def test_replacing_the_file_withdraws_the_approval_and_keeps_the_old_file_in_the_history(env):
    services, client = env
    old = services.settings.corpus_dir / manifest(services)[ONBENUT]["file"]
    new_csv = old.read_text(encoding="utf-8").replace("25.000", "26.000")
    response = client.put(
        f"/api/admin/sources/{ONBENUT}/file",
        headers=ADMIN,
        files={"file": ("onbenut-2.csv", new_csv.encode())},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["approved"] is False and body["status"] == "unapproved" and body["file"].startswith("bronnen/")
    assert (services.settings.corpus_dir / body["file"]).read_text(encoding="utf-8") == new_csv
    assert not old.exists()
    (kept,) = (services.settings.corpus_dir / ".geschiedenis" / "bestanden").iterdir()
    assert kept.name.endswith(old.name) and "25.000" in kept.read_text(encoding="utf-8")
    # a multipart PATCH with a file does the same, with metadata in the same request
    response = client.patch(
        f"/api/admin/sources/{ONBENUT}",
        headers=ADMIN,
        data={"title": "Onbenut arbeidspotentieel (herzien)"},
        files={"file": ("onbenut-3.csv", new_csv.replace("26.000", "27.000").encode())},
    )
    assert response.status_code == 200 and response.json()["title"] == "Onbenut arbeidspotentieel (herzien)"
    assert [a["action"] for a in services.audit.admin_actions()][:2] == ["replace", "replace"]


def test_delete_removes_the_entry_and_keeps_its_file_in_the_history(env):
    services, client = env
    file = services.settings.corpus_dir / manifest(services)[VACATURES]["file"]
    response = client.delete(f"/api/admin/sources/{VACATURES}", headers=ADMIN)
    assert response.status_code == 200 and response.json() == {"deleted": VACATURES}
    assert VACATURES not in manifest(services) and ONBENUT in manifest(services)
    assert not file.exists()
    assert [p.name.endswith(file.name) for p in (services.settings.corpus_dir / ".geschiedenis/bestanden").iterdir()]
    again = client.delete(f"/api/admin/sources/{VACATURES}", headers=ADMIN)
    dutch_error(again, 404, "source_not_found")
    assert [(a["action"], a["outcome"]) for a in services.audit.admin_actions()][:2] == [
        ("delete", "refused"),
        ("delete", "ok"),
    ]


# ------------------------------------------------------------------ bad input changes nothing


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(CORPUS / "regio-in-beeld-2025-2026-groningen.pdf"), pages=(0, 1))
    writer.encrypt("geheim")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _formulas_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Totalen"
    ws.append(["Gemeente", "Vacatures"])
    ws.append(['="Tyn"&"aarlo"', "=100+9"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


STATLINE_BAD_PERIOD = (
    '"Regio\'s";"Perioden";"Werkloosheidspercentage (%)"\n"Drenthe (PV)";"2025KW02";"3,7"\n'
    '"Drenthe (PV)";"2025KW05";"4,8"\n'
).encode()
SIXTY_MB = b"%PDF-1.7\n" + bytes(60 * 1024 * 1024)

BAD_UPLOADS = {
    "encrypted pdf": ("beveiligd.pdf", _encrypted_pdf, {}, 422, "beveiligd met een wachtwoord"),
    "60 MB file": ("groot.pdf", lambda: SIXTY_MB, {}, 413, "te groot"),
    "exe renamed pdf": (
        "rapport.pdf",
        lambda: b"MZ\x90\x00\x03\x00\x00\x00" + bytes(4096),
        {},
        422,
        "Windows-programma",
    ),
    "docx named xlsx": ("cijfers.xlsx", factsheet_docx, {"kind": "table"}, 422, "hoort een Excel-werkmap"),
    "unsupported type": ("notities.odt", lambda: b"tekst", {}, 422, "kan de assistent niet lezen"),
    "duplicate id": ("factsheet.docx", factsheet_docx, {"id": ONBENUT}, 409, f"al een bron met id '{ONBENUT}'"),
    "script in title": (
        "factsheet.docx",
        factsheet_docx,
        {"title": "Factsheet <script>alert(1)</script>"},
        422,
        "mag geen HTML",
    ),
    "valid_until before published": (
        "factsheet.docx",
        factsheet_docx,
        {"valid_until": "2025-01-01"},
        422,
        "ligt vóór de publicatiedatum",
    ),
    "statline unknown period": (
        "statline.csv",
        lambda: STATLINE_BAD_PERIOD,
        {"kind": "table"},
        422,
        "onbekende StatLine-periodecode '2025KW05'",
    ),
    "xlsx with only formulas": ("formules.xlsx", _formulas_xlsx, {"kind": "table"}, 422, "formules zonder berekende"),
    "date not a date": ("factsheet.docx", factsheet_docx, {"published": "15-01-2026"}, 422, "JJJJ-MM-DD"),
    "unknown kind": ("factsheet.docx", factsheet_docx, {"kind": "blog"}, 422, "soort"),
    "missing publisher": ("factsheet.docx", factsheet_docx, {"publisher": ""}, 422, "Vul 'uitgever' in"),
    "javascript url": ("factsheet.docx", factsheet_docx, {"url": "javascript:alert(1)"}, 422, "http://"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS), ids=list(BAD_UPLOADS))
def test_bad_input_gets_a_clear_dutch_message_and_changes_nothing(env, case):
    services, client = env
    filename, make, fields, status, phrase = BAD_UPLOADS[case]
    before_files = tree(services.settings.corpus_dir)
    before_state = services.assistant.store.read_state()
    response = upload(client, {**FACTSHEET_FORM, **fields}, filename, make())
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert phrase in message, message
    assert "Traceback" not in message and "sheet 'Totalen'" not in message  # Dutch, not the log's English
    assert tree(services.settings.corpus_dir) == before_files  # manifest, files: as they were, no leftovers
    assert services.assistant.store.read_state() == before_state
    listed = client.get("/api/admin/sources", headers=ADMIN).json()["sources"]
    assert {(s["id"], s["status"], s["indexed"]) for s in listed} == {
        (ONBENUT, "approved", "current"),
        (VACATURES, "approved", "current"),
    }
    assert ask(client, TABLE_QUESTION)["refused"] is False
    if status != 413:  # a body refused at the door never reaches the admin code
        action = services.audit.admin_actions()[0]
        assert (action["action"], action["outcome"], action["key_id"]) == ("add", "refused", ADMIN_ID)
        assert action["detail"]["reason"] == message


def test_an_edit_that_would_break_the_manifest_changes_nothing(env):
    services, client = env
    before = tree(services.settings.corpus_dir)
    response = client.patch(f"/api/admin/sources/{ONBENUT}", headers=ADMIN, json={"valid_until": "2020-01-01"})
    assert "ligt vóór de publicatiedatum" in dutch_error(response, 422, "invalid_source")
    response = client.patch(f"/api/admin/sources/{ONBENUT}", headers=ADMIN, json={"title": "<b>vet</b>"})
    assert "mag geen HTML" in dutch_error(response, 422, "invalid_source")
    bad_file = client.put(
        f"/api/admin/sources/{ONBENUT}/file", headers=ADMIN, files={"file": ("t.csv", STATLINE_BAD_PERIOD)}
    )
    assert "periodecode" in dutch_error(bad_file, 422, "invalid_source")
    assert tree(services.settings.corpus_dir) == before


# ------------------------------------------------------------------ re-index


def test_staged_ingest_keeps_the_served_versions_until_the_switch(fresh):
    """The core of 'advisors keep their answers until the switch': a staged ingest writes the new version
    beside the old one and switches the state once; the running Assistant still finds its passages (BM25 and
    dense) until `sweep` after the swap."""
    services, _ = fresh
    settings = services.settings
    old = Assistant.open(settings)
    path = settings.corpus_dir / "tables/onbenut-arbeidspotentieel-groningen.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("25.000", "26.000"), encoding="utf-8")
    report = ingest(settings, store=old.store, embedder=old.embedder, serving=old.snapshot.versions)
    assert report.replaced == [ONBENUT]
    answer = old.ask(TABLE_QUESTION)
    assert not answer.refused and "25.000" in answer.answer
    dense = old.store.search(old.embedder.embed_query(TABLE_QUESTION), 10, {"version": {"$in": old.snapshot.versions}})
    assert dense, "the served versions' vectors are still there"
    new = Assistant.open(settings, old.store, old.embedder)
    assert "26.000" in new.ask(TABLE_QUESTION).answer
    sweep(old.store)
    assert old.store.get({"version": {"$in": [old.snapshot.meta_versions[ONBENUT]]}}) == []
    assert load_snapshot(old.store).meta_versions == new.snapshot.meta_versions


def test_upload_approve_reindex_cites_the_new_source_then_withdraw_removes_it(fresh):
    services, client = fresh
    before = services.assistant
    assert ask(client, FACTSHEET_QUESTION)["refused"] is True
    source_id = upload(client).json()["id"]
    client.post(f"/api/admin/sources/{source_id}/approve", headers=ADMIN)
    started = client.post("/api/admin/reindex", headers=ADMIN)
    assert started.status_code == 202
    job_id = started.json()["job_id"]
    # progress and result as Server-Sent Events
    with client.stream("GET", f"/api/admin/jobs/{job_id}", headers={**ADMIN, "Accept": "text/event-stream"}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line.split(": ", 1)[1] for line in r.iter_lines() if line.startswith("event: ")]
    assert events[0] == "progress" and events[-1] == "done" and events.count("done") == 1
    job = client.get(f"/api/admin/jobs/{job_id}", headers=ADMIN).json()
    assert job["status"] == "succeeded" and job["added"] == [source_id] and job["done"] == job["total"] == 3
    assert job["key_id"] == ADMIN_ID and job["finished_at"]
    assert services.assistant is not before  # swapped
    answer = ask(client, FACTSHEET_QUESTION)
    assert not answer["refused"] and FACTSHEET_FIGURE in answer["answer"]
    assert answer["citations"][0]["title"] == FACTSHEET_TITLE
    assert answer["citations"][0]["published"] == "2026-01-15"
    listed = {s["id"]: s for s in client.get("/api/admin/sources", headers=ADMIN).json()["sources"]}
    assert listed[source_id]["indexed"] == "current" and listed[source_id]["passages"] > 0

    client.post(f"/api/admin/sources/{source_id}/withdraw", headers=ADMIN)
    assert ask(client, FACTSHEET_QUESTION)["refused"] is False  # still cited until the re-index...
    job = reindex(client)
    assert job["status"] == "succeeded" and job["removed"] == [source_id]
    answer = ask(client, FACTSHEET_QUESTION)  # ...and never after it
    assert answer["refused"] is True and all(c["source_id"] != source_id for c in answer["citations"])
    state = services.assistant.store.read_state()["sources"]
    assert source_id not in state and not services.assistant.store.get({"source_id": source_id})
    actions = [a["action"] for a in reversed(services.audit.admin_actions())]
    assert actions == ["add", "approve", "reindex", "reindex_finished", "withdraw", "reindex", "reindex_finished"]


def test_an_expired_source_is_not_cited_after_the_reindex(fresh):
    services, client = fresh
    assert not ask(client, TABLE_QUESTION)["refused"]
    response = client.patch(f"/api/admin/sources/{ONBENUT}", headers=ADMIN, json={"valid_until": "2025-12-01"})
    assert response.json()["status"] == "expired"
    job = reindex(client)
    assert job["removed"] == [ONBENUT] and job["skipped"] == {ONBENUT: "expired"}
    answer = ask(client, TABLE_QUESTION)
    assert all(c["source_id"] != ONBENUT for c in answer["citations"])


def test_a_source_that_fails_to_load_keeps_its_previous_version_and_says_why(fresh):
    services, client = fresh
    path = services.settings.corpus_dir / "tables/onbenut-arbeidspotentieel-groningen.csv"
    path.write_bytes(b"\x00\x01binair" * 100)  # changed on the server's disk by hand, behind the page's back
    job = reindex(client)
    assert job["status"] == "succeeded" and set(job["failed"]) == {ONBENUT}
    assert "geen tekst maar binaire gegevens" in job["failed"][ONBENUT]
    listed = {s["id"]: s for s in client.get("/api/admin/sources", headers=ADMIN).json()["sources"]}
    assert listed[ONBENUT]["status"] == "failed" and "binaire gegevens" in listed[ONBENUT]["error"]
    assert listed[ONBENUT]["indexed"] == "outdated" and listed[ONBENUT]["passages"] == 4  # the previous version
    answer = ask(client, TABLE_QUESTION)
    assert not answer["refused"] and answer["citations"][0]["source_id"] == ONBENUT


def test_a_second_reindex_while_one_runs_is_refused(fresh):
    services, client = fresh
    admin = services.admin
    first = admin.start_reindex(ADMIN_ID)
    second = client.post("/api/admin/reindex", headers=ADMIN)
    if admin.job(first.id).status == "running":  # the small corpus may finish in between
        assert "Er loopt al een herindexering" in dutch_error(second, 409, "conflict")
    else:
        assert second.status_code == 202
        run_job(client, second.json()["job_id"])
    run_job(client, first.id)
    dutch_error(client.get("/api/admin/jobs/onbekend", headers=ADMIN), 404, "source_not_found")


def test_a_job_cut_off_by_a_restart_reads_as_interrupted(fresh, tmp_path):
    services, _ = fresh
    jobs = services.settings.index_dir / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    record = (
        '{"pid": 999999999, "job": {"id": "oud", "status": "running", "key_id": "x", '
        '"started_at": "2026-01-01T10:00:00Z"}}'
    )
    (jobs / "oud.json").write_text(record, encoding="utf-8")
    services2 = Services(services.settings, services.audit)
    client = TestClient(web.create_app(services2.settings, services2))
    job = client.get("/api/admin/jobs/oud", headers=ADMIN).json()
    assert job["status"] == "interrupted" and "vorige index is nog in gebruik" in job["message"]
    with client.stream("GET", "/api/admin/jobs/oud", headers={**ADMIN, "Accept": "text/event-stream"}) as r:
        assert [ln for ln in r.iter_lines() if ln.startswith("event: ")] == ["event: done"]


def test_reading_the_manifest_checks_the_same_rules(tmp_path):
    corpus = small_corpus(tmp_path / "corpus")
    text = (corpus / "manifest.toml").read_text(encoding="utf-8")
    (corpus / "manifest.toml").write_text(text.replace("published = 2025-11-01", "published = 2028-01-01", 1))
    with pytest.raises(ConfigError) as exc:
        load_manifest(corpus / "manifest.toml", date(2026, 1, 1))
    assert "is before published" in str(exc.value) and "ligt vóór de publicatiedatum" in exc.value.message_nl


def test_a_manifest_write_that_fails_half_way_leaves_the_manifest_and_removes_the_new_file(env):
    """A real write failure (the .prev path is taken by a folder), after the uploaded file was put in place:
    the manifest is untouched, the file is taken away again, and the audit log says it failed."""
    services, client = env
    client = TestClient(client.app, raise_server_exceptions=False)
    corpus = services.settings.corpus_dir
    (corpus / "manifest.toml.prev").mkdir()
    before = tree(corpus)
    response = upload(client)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert tree(corpus) == before
    action = services.audit.admin_actions()[0]
    assert (action["action"], action["outcome"], action["detail"]["reason"]) == ("add", "failed", "IsADirectoryError")
