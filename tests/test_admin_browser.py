"""The content team's page /beheer and the chat page end to end, in Debian's Chromium through Playwright,
against a real uvicorn server over a small corpus (the report's two tables, copied; an index of its own).

An admin uploads a Word factsheet (made here, invented figures), fills in the form, approves it and watches
the re-index finish; an advisor then asks what only that factsheet says and gets it cited with its date; the
admin withdraws it, re-indexes, and the same question is refused. Screenshots of the page go to
tests/artifacts/beheer/, or with UPDATE_DOCS_SCREENSHOTS=1 to docs/beheer/ (the README shows them).

Accessibility: axe-core (npm, tests/node) runs in the page over the chat page with an answer, a refusal and
the citation dialog open, and over /beheer with the upload form open, at 1280 and 360 px; any violation
tagged WCAG 2.0/2.1 A or AA fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from admin_corpus import (
    ADMIN_KEY,
    ADVISOR_KEY,
    FACTSHEET_FIGURE,
    FACTSHEET_FORM,
    FACTSHEET_QUESTION,
    FACTSHEET_TITLE,
    TABLE_QUESTION,
    admin_settings,
    factsheet_docx,
    small_corpus,
)
from chat_servers import serve
from conftest import CHROMIUM

from assistant.audit import AuditLog
from assistant.channels import Services
from assistant.channels.web import create_app
from assistant.index import ingest

sync_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parent.parent
AXE = Path(__file__).resolve().parent / "node" / "node_modules" / "axe-core" / "axe.min.js"
# The README's screenshots: written to docs/beheer/ when UPDATE_DOCS_SCREENSHOTS=1, else to tests/artifacts/ (so
# an ordinary test run leaves the work tree clean).
DOCS = ROOT / "docs" / "beheer" if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1" else ROOT / "tests/artifacts/beheer"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
PREDICTION = "Wat is jouw eigen voorspelling voor het aantal vacatures in Groningen in 2031?"
WIDTHS = (1280, 360)
TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
    pytest.mark.skipif(not AXE.exists(), reason="needs axe-core: npm ci --prefix tests/node (make install-test)"),
]


@pytest.fixture(scope="module")
def services(tmp_path_factory, embedding_cache) -> Services:
    base = tmp_path_factory.mktemp("admin-browser")
    settings = admin_settings(base, small_corpus(base / "corpus"), embedding_cache)
    assert not ingest(settings).failed
    return Services(settings, AuditLog(settings.audit_db))


@pytest.fixture(scope="module")
def base_url(services):
    with serve(create_app(services.settings, services)) as url:
        yield url


def new_page(browser, base_url, width: int = 1280, key: str | None = None, store: str = "assistantApiKey"):
    # bypass_csp lets the test inject axe-core; the pages themselves load nothing from outside the server
    context = browser.new_context(
        base_url=base_url, viewport={"width": width, "height": 900}, locale="nl-NL", bypass_csp=True
    )
    if key:
        context.add_init_script(f"sessionStorage.setItem({store!r}, {key!r});")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.console_errors = []
    expected = "Failed to load resource: the server responded with a status of 4"
    page.on(
        "console",
        lambda m: m.type == "error" and not m.text.startswith(expected) and page.console_errors.append(m.text),
    )
    return page


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now, one line each."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_AA,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in result["violations"]
    ]


def assert_accessible(page, what: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{what}: " + "; ".join(violations)


def shot(page, name: str, full_page: bool = True) -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / name), full_page=full_page)


def login(page) -> None:
    page.goto("/beheer")
    page.get_by_label("Beheersleutel").fill(ADMIN_KEY)
    page.get_by_role("button", name="Inloggen").click()
    page.locator("#sources li.admin-source").first.wait_for()
    assert page.locator("#login-form").is_hidden() and page.get_by_role("button", name="Uitloggen").is_visible()


def card(page, title: str):
    return page.locator("li.admin-source", has=page.get_by_role("heading", name=title))


def reindex(page) -> str:
    page.get_by_role("button", name="Herindexeren").click()
    page.locator("#notice", has_text="Herindexering klaar").wait_for(timeout=240_000)
    return page.locator("#job-message").inner_text()


def ask(page, question: str):
    before = page.locator("article.msg").count()
    page.locator("#question").fill(question)
    page.keyboard.press("Enter")
    answer = page.locator("article.msg").nth(before)
    answer.and_(page.locator(":not([aria-busy])")).wait_for()
    return answer


def open_upload_form(page) -> None:
    page.get_by_role("button", name="Bron toevoegen").click()
    page.locator("#source-dialog[open]").wait_for()


def test_admin_uploads_approves_and_reindexes_then_an_advisor_gets_the_factsheet_cited(browser, base_url, services):
    admin = new_page(browser, base_url)
    admin.on("dialog", lambda d: d.accept())
    login(admin)
    assert card(admin, "Onbenut arbeidspotentieel naar groep, Groningen 2024").locator(".state").inner_text() == (
        "Goedgekeurd"
    )

    open_upload_form(admin)
    admin.get_by_label("Bestand").set_input_files(
        {
            "name": "factsheet-zeewolde.docx",
            "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "buffer": factsheet_docx(),
        }
    )
    admin.get_by_label("Titel *").fill(FACTSHEET_FORM["title"])
    admin.get_by_label("Uitgever *").fill(FACTSHEET_FORM["publisher"])
    admin.get_by_label("Soort *").select_option("factsheet")
    admin.get_by_label("Publicatiedatum *").fill(FACTSHEET_FORM["published"])
    admin.get_by_label("Geldig tot").fill(FACTSHEET_FORM["valid_until"])
    admin.get_by_label("Regio").fill(FACTSHEET_FORM["region"])
    admin.get_by_label("Periode").fill(FACTSHEET_FORM["period"])
    shot(admin, "01-bron-toevoegen.png", full_page=False)
    admin.get_by_role("button", name="Uploaden").click()
    admin.locator("#notice", has_text="is toegevoegd").wait_for()
    factsheet = card(admin, FACTSHEET_TITLE)
    assert factsheet.locator(".state").inner_text() == "Niet goedgekeurd"
    assert "niet in de index" in factsheet.inner_text()

    factsheet.get_by_role("button", name="Goedkeuren").click()
    admin.locator("#notice", has_text="is goedgekeurd").wait_for()
    assert card(admin, FACTSHEET_TITLE).locator(".state").inner_text() == "Goedgekeurd"
    assert admin.evaluate("() => document.activeElement.textContent") == "Intrekken"  # focus stays on the card
    message = reindex(admin)
    assert "1 toegevoegd" in message
    assert "in de index" in card(admin, FACTSHEET_TITLE).inner_text()
    assert admin.locator("#job-progress").evaluate("p => p.value === p.max")
    shot(admin, "02-bronnen-na-herindexering.png")

    advisor = new_page(browser, base_url, key=ADVISOR_KEY)
    advisor.goto("/")
    answer = ask(advisor, FACTSHEET_QUESTION)
    assert "refusal" not in (answer.get_attribute("class") or "")
    assert FACTSHEET_FIGURE in answer.locator(".answer-text").inner_text()
    cited = answer.locator("ol.sources li").first.inner_text()
    assert FACTSHEET_TITLE in cited and "gepubliceerd 15 januari 2026" in cited

    card(admin, FACTSHEET_TITLE).get_by_role("button", name="Intrekken").click()
    admin.locator("#notice", has_text="is ingetrokken").wait_for()
    assert "1 verwijderd" in reindex(admin)
    advisor.get_by_role("button", name="Nieuw gesprek").click()
    again = ask(advisor, FACTSHEET_QUESTION)
    assert "refusal" in (again.get_attribute("class") or "")
    assert FACTSHEET_TITLE not in again.inner_text()

    actions = [a["action"] for a in reversed(services.audit.admin_actions())]
    assert actions[:6] == ["add", "approve", "reindex", "reindex_finished", "withdraw", "reindex"]
    assert admin.console_errors == [] and advisor.console_errors == []
    admin.context.close()
    advisor.context.close()


def test_a_refused_upload_shows_the_dutch_reason_in_the_form(browser, base_url, services):
    page = new_page(browser, base_url, width=360)
    login(page)
    before = services.settings.manifest_path.read_bytes()
    open_upload_form(page)
    page.get_by_label("Bestand").set_input_files(
        {"name": "rapport.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00" + bytes(200)}
    )
    page.get_by_label("Titel *").fill("Rapport")
    page.get_by_label("Uitgever *").fill("UWV")
    page.get_by_label("Publicatiedatum *").fill("2026-01-15")
    page.get_by_role("button", name="Uploaden").click()
    problem = page.locator("#form-problem")
    problem.filter(has_text="Windows-programma").wait_for()
    assert problem.get_attribute("role") == "alert"
    assert_accessible(page, "/beheer, refused upload, 360 px")
    assert services.settings.manifest_path.read_bytes() == before
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_beheer_with_the_upload_form_open_has_no_wcag_violations(browser, base_url, width):
    page = new_page(browser, base_url, width=width)
    page.goto("/beheer")
    assert_accessible(page, f"/beheer, login, {width} px")
    login(page)
    assert_accessible(page, f"/beheer, source list, {width} px")
    open_upload_form(page)
    assert_accessible(page, f"/beheer, upload form open, {width} px")
    if width == 360:
        shot(page, "03-bron-toevoegen-360.png", full_page=False)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width  # nothing wider than the screen
    page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_chat_page_with_an_answer_a_refusal_and_a_citation_has_no_wcag_violations(browser, base_url, width):
    page = new_page(browser, base_url, width=width, key=ADVISOR_KEY)
    page.goto("/")
    assert_accessible(page, f"chat, empty, {width} px")
    answer = ask(page, TABLE_QUESTION)
    assert "refusal" not in (answer.get_attribute("class") or "")
    assert_accessible(page, f"chat, answer, {width} px")
    refusal = ask(page, PREDICTION)
    assert "refusal" in (refusal.get_attribute("class") or "")
    assert_accessible(page, f"chat, refusal, {width} px")
    answer.locator(".answer-text button.cite").first.click()
    page.locator("#passage-dialog mark").wait_for()
    assert_accessible(page, f"chat, citation dialog open, {width} px")
    assert page.console_errors == []
    page.context.close()


def test_the_accessibility_check_does_fail_on_a_violation(browser, base_url):
    """The check above can fail: a button without a name and low-contrast text are reported."""
    page = new_page(browser, base_url)
    page.goto("/beheer")
    page.evaluate(
        """() => {
        document.querySelector('main').append(Object.assign(document.createElement('button'), {type: 'button'}));
        const p = document.createElement('p');
        p.textContent = 'Bijna onleesbaar';
        p.style.color = '#dddddd';
        document.querySelector('main').append(p);
    }"""
    )
    found = {line.split(" ", 1)[0] for line in axe_violations(page)}
    assert {"button-name", "color-contrast"} <= found
    page.context.close()
