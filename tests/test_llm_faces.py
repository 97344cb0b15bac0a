"""LLM mode (`generator="openai"`) through the faces, against a real llama.cpp server.

The packaged 0.5B model is weak, so these tests do not ask whether its answer is right, only that
what each face ships is the verified answer: every sentence carries a citation marker, every number
in it stands in the text of a passage that sentence cites, and nothing the verifier dropped (no draft,
no unverified sentence) reaches the advisor. The answer may be the model's ("openai") or, when its
sentences fail the verifier, the extractive one; then it must be exactly the extractive answer.

Slack and Teams get the question as in tests/test_slack.py and tests/test_teams.py (a Slack-signed
event; a Bot Framework activity as the Emulator sends it) on a real uvicorn server, with a recorder
standing in for Slack's Web API and the Bot Framework connector; the API test posts /api/chat.
The Assistant is real; `Services.answer` is only wrapped to keep the returned Answer (with its trace:
which generator wrote it and each sentence's check), which the audit log does not store.
"""

from __future__ import annotations

import html
import re
import time
from types import SimpleNamespace

import httpx
import pytest
from chat_servers import Recorder, serve
from conftest import llm_assistant
from fastapi import FastAPI
from test_slack import SECRET, event, post_event, posts, slack_api_respond
from test_teams import activity, cards_of, replies_to, validate_card

from assistant.audit import AuditLog
from assistant.channels import Services, slack, teams
from assistant.channels.web import create_app
from assistant.settings import SlackSettings, TeamsSettings
from assistant.types import Answer

# One answerable question per face, chosen so the verified path is exercised. Seen with the packaged model
# (temperature 0, yet not the same every run): the first gets four verified sentences with three figures, or
# the extractive answer (the model left out the asked figure, or timed out on a busy machine); the second one
# verified sentence with its figure; the third the model's "cannot answer" (a no_evidence refusal).
# Every face accepts each of these outcomes.
SLACK_QUESTION = "Hoeveel vacatures waren er per kortdurend werkzoekende in Groningen?"
TEAMS_QUESTION = "Hoeveel onderbenutte deeltijders waren er in 2024?"
API_QUESTION = "Hoeveel vacatures stonden er eind tweede kwartaal 2025 open in Groningen?"
ANSWER_TIMEOUT = 300  # seconds: the model writes ~10-15 s per answer on 2 quiet cores, far slower on a busy machine

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


@pytest.fixture(scope="module")
def llm(index_settings, llama):
    """The real Assistant in LLM mode over the session's index and the session's llama.cpp server."""
    return llm_assistant(index_settings, llama, timeout_s=120)


def keep_answers(services: Services) -> list[Answer]:
    """Wrap `services.answer` to keep each returned Answer (the real call runs unchanged)."""
    kept: list[Answer] = []
    inner = services.answer

    def answer(*args, **kwargs):
        result = inner(*args, **kwargs)
        kept.append(result[0])
        return result

    services.answer = answer
    return kept


def sentences_with_markers(text: str, notices: list[str]) -> list[tuple[str, set[int]]]:
    """The shipped text as (sentence, cited numbers); fails on any text that carries no marker.
    Notices (a period or place the sources do not cover, ...) are the assistant's own unmarked words."""
    for notice in notices:
        assert notice in text, (notice, text)
        text = text.replace(notice, " ")
    parts = _MARKER.split(text)  # sentence, markers, sentence, markers, ..., what follows the last marker
    assert not parts[-1].strip(), f"text without a citation marker is shipped: {parts[-1]!r}"
    out = []
    for sentence, markers in zip(parts[0::2], parts[1::2]):
        assert sentence.strip(" ."), f"a marker without a sentence in {text!r}"
        out.append((sentence.strip(), {int(n) for n in markers.split(",")}))
    return out


def assert_verified(
    text: str,
    *,
    citations: list[dict],
    notices: list[str],
    refused: bool,
    generator: str,
    generation: dict,
    chunks: dict[str, str],
    extractive: str,
) -> None:
    """What a face shipped is a verified answer (see the module docstring); `extractive` is the extractive
    generator's answer to the same question, the only text a fallback may ship."""
    assert generation.get("configured") == "openai", generation
    assert generator in ("openai", "extractive"), generator
    if refused:  # the model read the passages and said it cannot answer: a refusal, no claim of its own
        assert generation["notes"] == ["model: cannot answer"] and not generation["checks"], generation
        assert not citations and not _NUMBER.search(text), text
        return
    assert citations, "an answer carries citations"
    by_n = {c["n"]: c for c in citations}
    for c in citations:
        assert c["quote"] in chunks[c["chunk_id"]], "a quote is the passage's own words, never the model's"
    sentences = sentences_with_markers(text, notices)
    assert sentences, text
    assert {n for _, cited in sentences for n in cited} == set(by_n), "every citation is used, none is invented"
    for sentence, cited in sentences:
        passage_numbers = {tok for n in cited for tok in _NUMBER.findall(chunks[by_n[n]["chunk_id"]])}
        for number in _NUMBER.findall(sentence):
            assert number in passage_numbers, f"{number} in {sentence!r} stands in none of its cited passages {cited}"

    checks = generation.get("checks", [])
    for check in checks:
        assert check["ok"] == (not check["reasons"]), check
    if generator == "extractive":
        assert any("fallback" in note for note in generation["notes"]), generation
        assert text == extractive, "a fallback ships the extractive answer, nothing the model wrote"
    else:
        kept = [c["text"] for c in checks if c["ok"]]
        assert kept, generation
        for sentence, _ in sentences:
            assert any(sentence.rstrip(".") in k for k in kept), f"{sentence!r} is not a verified sentence"
        for check in checks:
            if not check["ok"] and check["text"] not in kept:
                assert check["text"].rstrip(".") not in text, f"a dropped sentence was shipped: {check['text']!r}"


def describe(question: str, answer_text: str, generator: str, trace: dict) -> str:
    """Which generator produced the shipped text (Answer.generator and the trace's), its notes and checks."""
    generation = trace["generation"]
    checks = [(c["ok"], c["passages"], c["text"], c["reasons"]) for c in generation.get("checks", [])]
    return (
        f"{question}\nAnswer.generator={generator} trace.generator={trace['generator']} "
        f"notes={generation.get('notes')} checks={checks}\nshipped: {answer_text}"
    )


def chunk_texts(assistant) -> dict[str, str]:
    return {ch.id: ch.text for ch in assistant.snapshot.chunks}


# ---------------------------------------------------------------------------


def assert_shipped_answer_verified(shipped, answer, refused, llm, assistant, question, record_property) -> None:
    """What a face delivered (`shipped`) for `question` is the verified answer of `answer` (`assert_verified`)."""
    record_property("generator", answer.generator)
    print(describe(answer.question, shipped, answer.generator, answer.trace.model_dump()))
    assert_verified(
        shipped,
        citations=[c.model_dump() for c in answer.citations],
        notices=[n.text for n in answer.notices],
        refused=refused,
        generator=answer.generator,
        generation=answer.trace.generation,
        chunks=chunk_texts(llm),
        extractive=assistant.ask(question).answer,
    )


def test_slack_in_llm_mode_posts_only_the_verified_answer(llm, assistant, tmp_path, record_property):
    with Recorder(slack_api_respond) as api:
        settings = llm.settings.model_copy(
            update={
                "audit_db": tmp_path / "audit.sqlite3",
                "slack": SlackSettings(
                    signing_secret=SECRET, bot_token="xoxb-test-token", api_base_url=f"{api.url}/api/"
                ),
            }
        )
        services = Services(settings, AuditLog(settings.audit_db), _assistant=llm)
        answers = keep_answers(services)
        app = FastAPI()
        slack.mount(app, services)
        with serve(app) as base_url:
            face = SimpleNamespace(url=base_url, api=api, services=services)
            payload = event("slack_app_mention.json", channel="C0LLM", text=f"<@U0BOT> {SLACK_QUESTION}")
            ts = payload["event"]["ts"]
            started = time.monotonic()
            assert post_event(face, payload).status_code == 200
            assert time.monotonic() - started < 3, "Slack is acknowledged before the model writes"
            api.wait_for(posts(face, "C0LLM"), timeout=ANSWER_TIMEOUT)
            time.sleep(1)  # a second message (a draft, a correction) would arrive now
            [call] = api.matching(posts(face, "C0LLM"))

    message = call.json
    assert message["thread_ts"] == ts and call.headers["authorization"] == "Bearer xoxb-test-token"
    blocks = message["blocks"]
    shipped = html.unescape(" ".join(b["text"]["text"] for b in blocks if b["block_id"].startswith("answer-")))
    [answer] = answers
    [row] = [r for r in services.audit.recent(10) if r["conversation_id"] == f"slack:C0LLM:{ts}"]
    assert shipped == answer.answer == row["answer"], "the posted answer is the audited one"
    assert [(c["n"], c["chunk_id"]) for c in row["citations"]] == [(c.n, c.chunk_id) for c in answer.citations]
    sources = " ".join(b["text"]["text"] for b in blocks if b["block_id"].startswith("sources-") and "text" in b)
    assert all(f"*[{c.n}]*" in sources for c in answer.citations)
    assert [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]] == [row["id"]] * 3

    assert_shipped_answer_verified(shipped, answer, row["refused"], llm, assistant, SLACK_QUESTION, record_property)


def test_teams_bot_in_llm_mode_replies_with_only_the_verified_answer(llm, assistant, tmp_path, record_property):
    replies = iter(range(1, 10_000))
    with Recorder(lambda call: (200, {"id": f"reply-{next(replies)}"})) as connector:
        settings = llm.settings.model_copy(
            update={
                "audit_db": tmp_path / "audit.sqlite3",
                # the bot only: a webhook secret would also warm the assistant up with a model answer at startup
                "teams": TeamsSettings(bot_enabled=True),
            }
        )
        services = Services(settings, AuditLog(settings.audit_db), _assistant=llm)
        answers = keep_answers(services)
        app = FastAPI()
        teams.mount(app, services)
        with serve(app) as base_url:
            face = SimpleNamespace(url=base_url, connector=connector, services=services)
            conversation = f"personal-llm-{time.time_ns()}"
            payload = activity("teams_bot_personal_message.json", face, conversation={"id": conversation})
            payload["text"] = TEAMS_QUESTION
            response = httpx.post(f"{base_url}{teams.MESSAGES_PATH}", json=payload, timeout=ANSWER_TIMEOUT)
            assert response.status_code == 200
            time.sleep(1)
            [reply] = replies_to(face, payload)
            assert len(connector.calls) == 1, [c.path for c in connector.calls]

    body = reply.json
    assert body["type"] == "message" and body["replyToId"] == payload["id"]
    [card] = cards_of(reply)
    validate_card(card)
    containers = [e for e in card["body"] if e.get("type") == "Container" and re.match(r"(answer|refusal)", e["id"])]
    shipped = " ".join(c["items"][-1]["text"] for c in containers)
    [answer] = answers
    [row] = [r for r in services.audit.recent(10) if r["conversation_id"] == f"teams:{conversation}"]
    assert shipped == answer.answer == row["answer"], "the card's answer is the audited one"
    assert answer.answer.startswith(body["summary"].rstrip("…")), "the notification shows the verified answer too"
    assert [(c["n"], c["chunk_id"]) for c in row["citations"]] == [(c.n, c.chunk_id) for c in answer.citations]
    sources = " ".join(i["text"] for e in card["body"] if e.get("id", "").startswith("source-") for i in e["items"][:1])
    assert all(f"**[{c.n}]**" in sources for c in answer.citations)
    submits = [a for a in card.get("actions", []) if a["type"] == "Action.Submit"]
    assert {a["data"]["answer_id"] for a in submits} == {row["id"]}

    assert_shipped_answer_verified(shipped, answer, row["refused"], llm, assistant, TEAMS_QUESTION, record_property)


def test_api_chat_in_llm_mode_returns_only_the_verified_answer(llm, assistant, tmp_path, record_property):
    settings = llm.settings.model_copy(update={"audit_db": tmp_path / "audit.sqlite3"})
    services = Services(settings, AuditLog(settings.audit_db), _assistant=llm)
    with serve(create_app(settings, services)) as base_url:
        response = httpx.post(
            f"{base_url}/api/chat", json={"question": API_QUESTION, "explain": True}, timeout=ANSWER_TIMEOUT
        )
    assert response.status_code == 200, response.text
    data = response.json()
    [row] = services.audit.recent(10)
    assert row["id"] == data["answer_id"] and row["conversation_id"] == data["conversation_id"]
    assert row["answer"] == data["answer"] and row["channel"] == "api"
    assert [(c["n"], c["chunk_id"]) for c in row["citations"]] == [(c["n"], c["chunk_id"]) for c in data["citations"]]

    generation = data["trace"]["generation"]
    assert data["trace"]["generator"] in ("openai", "extractive")
    record_property("generator", data["generator"])
    print(describe(data["question"], data["answer"], data["generator"], data["trace"]))
    assert_verified(
        data["answer"],
        citations=data["citations"],
        notices=[n["text"] for n in data["notices"]],
        refused=data["refused"],
        generator=data["generator"],
        generation=generation,
        chunks=chunk_texts(llm),
        extractive=assistant.ask(API_QUESTION).answer,
    )
