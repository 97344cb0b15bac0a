"""The chat page end to end: a real uvicorn server on localhost over the session's index,
driven by Debian's headless Chromium through Playwright. Screenshots of each state go to
tests/artifacts/ (git-ignored).

Answer quality is tuned elsewhere, so the assertions are about structure: an answer with
[1], a citation that opens its passage with the quote highlighted, a refusal shown as
such, feedback that reaches the audit log, a page that fits 360 px.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from chat_servers import Scripted, serve
from conftest import CHROMIUM
from PIL import Image

from assistant.audit import AuditLog
from assistant.channels import Services
from assistant.channels.web import create_app
from assistant.core import Assistant
from assistant.settings import LLMSettings

sync_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
FACTUAL = "Hoeveel vacatures stonden er eind tweede kwartaal 2025 open in Groningen?"
PREDICTION = "Wat is jouw eigen voorspelling voor het aantal vacatures in Groningen in 2031?"
FOLLOW_UP = "En in de zorg?"
TABLE_ROW = "Hoeveel onderbenutte deeltijders waren er in 2024?"
ANSWER_TIMEOUT_MS = 30_000

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")


@pytest.fixture(scope="module")
def services(index_settings, assistant, tmp_path_factory) -> Services:
    settings = index_settings.model_copy(update={"audit_db": tmp_path_factory.mktemp("browser") / "audit.sqlite3"})
    return Services(settings, AuditLog(settings.audit_db), _assistant=assistant)


@pytest.fixture(scope="module")
def base_url(services):
    """A real uvicorn server in a thread, on a free localhost port."""
    with serve(create_app(services.settings, services)) as url:
        yield url


@pytest.fixture
def page(browser, base_url):
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    page.outside_requests = []
    page.on("request", lambda r: r.url.startswith((base_url, "data:")) or page.outside_requests.append(r.url))
    page.console_errors = []
    expected = "Failed to load resource: the server responded with a status of 4"  # Chromium logs every 4xx
    page.on(
        "console",
        lambda m: m.type == "error" and not m.text.startswith(expected) and page.console_errors.append(m.text),
    )
    page.goto("/")
    yield page
    assert page.outside_requests == [], "the page must not load anything from outside the server"
    assert page.console_errors == []
    context.close()


def shot(page, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def ask(page, question: str):
    """Type the question, send it with Enter (keyboard only), return the finished answer element."""
    before = page.locator("article.msg").count()
    page.locator("#question").focus()
    page.keyboard.type(question)
    page.keyboard.press("Enter")
    answer = page.locator("article.msg").nth(before)
    answer.and_(page.locator(":not([aria-busy])")).wait_for()
    return answer


def test_factual_answer_with_citation_that_opens_the_highlighted_passage(page, services):
    page.locator("#source-list a").first.wait_for(state="attached")  # approved sources listed in the "what I do" note
    assert "geen voorspellingen" in page.locator(".about").inner_text().lower()
    answer = ask(page, FACTUAL)
    assert "refusal" not in (answer.get_attribute("class") or "")
    assert "[1]" in answer.locator(".answer-text").inner_text()
    marker = answer.locator(".answer-text button.cite[data-n='1']")
    assert marker.is_visible()
    assert answer.locator("ol.sources li").count() >= 1
    assert "gepubliceerd 1 november 2025" in answer.locator("ol.sources li").first.inner_text()  # the source's age
    shot(page, "01-answer.png")

    record = services.audit.recent(1)[0]
    citation = record["citations"][0]
    source = services.assistant.sources[citation["source_id"]]

    marker.focus()
    page.keyboard.press("Enter")  # citation markers are buttons: keyboard works
    dialog = page.locator("#passage-dialog")
    highlighted = dialog.locator("mark")
    highlighted.wait_for()
    assert dialog.evaluate("d => d.open")
    assert page.locator("#passage-title").inner_text() == source.title
    meta = page.locator("#passage-meta").inner_text()
    assert source.publisher in meta and citation["page"] in meta
    assert highlighted.inner_text().strip()
    assert page.locator("#passage-link").get_attribute("href") == source.url
    shot(page, "02-citation.png")

    page.keyboard.press("Escape")
    assert not dialog.evaluate("d => d.open")
    assert page.evaluate("document.activeElement.dataset.n") == "1"  # focus returns to the marker


def test_a_table_answer_reads_as_a_dutch_sentence_on_the_page(page, services):
    answer = ask(page, TABLE_ROW)
    text = answer.locator(".answer-text").inner_text()
    assert text.startswith("Het aantal onderbenutte deeltijders bedroeg in 2024 25.000."), text
    assert not re.search(r"\w+: [^ ]+;", text) and "groep:" not in text  # never "groep: …; aantal …"
    source = answer.locator("ol.sources li").first.inner_text()
    assert "rij " in source  # cited as table + row
    png = answer.screenshot()
    shot(page, "08-table-answer.png")
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.width > 200 and image.height > 40
    dark = sum(image.histogram()[:128])
    assert dark > 500, "the answer's sentence is drawn on the screen"  # text pixels, not an empty box


def test_prediction_question_is_shown_as_a_refusal_with_its_reason(page):
    answer = ask(page, PREDICTION)
    assert "refusal" in answer.get_attribute("class")
    assert answer.get_attribute("data-reason") == "prediction"
    reason = answer.locator(".refusal-reason").inner_text()
    assert "voorspelling" in reason.lower()
    assert "geen antwoord" in answer.locator(".who").inner_text().lower()
    shot(page, "03-refusal.png")


def test_feedback_missing_source_with_a_note_reaches_the_audit_log(page, services):
    answer = ask(page, FACTUAL)
    answer_id = answer.get_attribute("data-answer-id")
    answer.locator("button[data-rating='missing_source']").click()
    note = answer.locator(".feedback-note textarea")
    note.fill("De CBS-cijfers over de zorg ontbreken.")
    answer.locator(".feedback-note button[type='submit']").click()
    status = answer.locator(".feedback-status")
    status.filter(has_text="opgeslagen").wait_for()
    shot(page, "04-feedback.png")
    record = next(r for r in services.audit.recent(20) if r["id"] == answer_id)
    assert [(f["rating"], f["note"]) for f in record["feedback"]] == [
        ("missing_source", "De CBS-cijfers over de zorg ontbreken.")
    ]


def test_follow_up_continues_the_conversation_and_copy_includes_sources(page, services):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    first = ask(page, FACTUAL)
    follow = ask(page, FOLLOW_UP)
    ids = {first.get_attribute("data-answer-id"), follow.get_attribute("data-answer-id")}
    records = [r for r in services.audit.recent(20) if r["id"] in ids]
    assert len(records) == 2 and len({r["conversation_id"] for r in records}) == 1 and records[0]["channel"] == "web"

    first.locator("button.copy").click()
    first.locator(".feedback-status").filter(has_text="gekopieerd").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(first.locator(".answer-text").inner_text().strip()[:40])
    assert "Bronnen:" in copied and "[1]" in copied

    page.locator("#new-chat").click()
    assert page.locator("article.msg").count() == 0


def test_unusable_question_shows_the_servers_dutch_message(page):
    page.locator("#question").focus()
    page.keyboard.press("Enter")  # empty: checked in the page, nothing is sent
    assert "leeg" in page.locator("#status").inner_text()
    error = ask(page, "?!")
    assert "error" in error.get_attribute("class")
    assert error.locator(".error-text").inner_text() == "Stel een vraag in woorden."


def test_usable_on_a_360_px_wide_screen(browser, base_url):
    context = browser.new_context(
        base_url=base_url, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    try:
        page.goto("/")
        answer = ask(page, FACTUAL)
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling"
        for selector in ("#question", "#send", "#new-chat"):
            box = page.locator(selector).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, selector
        shot(page, "05-mobile-360.png", full_page=False)
        answer.locator(".answer-text button.cite").first.click()
        page.locator("#passage-dialog mark").wait_for()
        box = page.locator("#passage-dialog").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
        shot(page, "06-mobile-citation.png", full_page=False)
    finally:
        context.close()


def test_offline_api_docs_render_from_the_schema(page):
    page.goto("/docs")
    page.locator("#operations section.op").nth(7).wait_for()
    text = page.locator("#operations").inner_text()
    assert "/api/ask" in text and "/api/chat/stream" in text and "429" in text
    shot(page, "07-api-docs.png")


# ------------------------------------------------------------- LLM mode: a streamed draft, then the verified answer


@pytest.fixture(scope="module")
def llm_page_setup(index_settings, assistant, browser, tmp_path_factory):
    """The chat page over the `openai` generator, with a scripted OpenAI-compatible server that streams
    its answer slowly: one sentence the evidence states, one with a figure no source gives."""
    scripted = Scripted()
    settings = index_settings.model_copy(
        update={
            "generator": "openai",
            "llm": LLMSettings(base_url=scripted.url, model="test", timeout_s=20),
            "audit_db": tmp_path_factory.mktemp("browser-llm") / "audit.sqlite3",
        }
    )
    llm = Assistant.open(settings)
    signals, _, evidence, verdict = llm.examine(FACTUAL)
    lead = assistant.generator.generate(signals, evidence, verdict).sentences[0].text
    passages = llm.generator.passages(evidence)
    n = next(p.n for p in passages if any(lead in it.clean or it.clean in lead for it in p.items))
    wrong = "Volgens de bron komen daar in 2026 nog 99.999 vacatures bij."
    scripted.say((lead, [n]), (wrong, [n]))
    scripted.piece_chars, scripted.piece_delay = 6, 0.06
    with serve(create_app(settings, Services(settings, AuditLog(settings.audit_db), _assistant=llm))) as url:
        yield url, lead, wrong
    scripted.server.shutdown()


def test_llm_mode_streams_a_draft_then_keeps_only_verified_sentences(browser, llm_page_setup):
    url, lead, wrong = llm_page_setup
    context = browser.new_context(base_url=url, viewport={"width": 1280, "height": 900}, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    page.goto("/")
    page.locator("#question").fill(FACTUAL)
    page.keyboard.press("Enter")
    answer = page.locator("article.msg").last
    draft = answer.locator(".answer-text.draft")
    draft.wait_for()  # the model's text shows while it writes, marked as provisional
    page.wait_for_function(
        "w => [...document.querySelectorAll('.answer-text.draft')].some(e => e.textContent.includes(w))", arg="99.999"
    )
    shot(page, "08-llm-draft.png")
    answer.and_(page.locator(":not([aria-busy])")).wait_for()
    text = answer.locator(".answer-text").inner_text()
    assert "99.999" not in text, "a sentence the verifier dropped must not stay on screen"
    assert lead.rstrip(".") in text and "[1]" in text
    assert answer.locator(".answer-text.draft").count() == 0
    assert answer.locator("ol.sources li").count() >= 1
    shot(page, "09-llm-verified.png")
    context.close()
