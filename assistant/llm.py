"""The `openai` generator: a language model on any OpenAI-compatible chat-completions server
(llama.cpp's server, vLLM, Ollama, LM Studio, OpenAI, Azure OpenAI) writes the answer from the
numbered evidence passages; the verifier (`verifier.py`) checks every sentence before it is kept.

    ASSISTANT_GENERATOR=openai ASSISTANT_LLM__BASE_URL=http://127.0.0.1:8080/v1 assistant ask "…"

- The prompt (Dutch) gives the question, the earlier turns, and the passages the evidence stage
  scored best, numbered, with source, page and date; the rules: only the passages, `[n]` after
  every sentence, figures copied exactly, a forecast named as the source's, and a fixed sentence
  (`CANNOT_ANSWER`) when the passages do not answer.
- Output is constrained by a JSON schema (`response_format`, which llama.cpp turns into a grammar
  and OpenAI enforces): a list of sentences, each with the passage numbers it rests on. With
  `ASSISTANT_LLM__JSON_SCHEMA=false` the model writes plain text with `[n]` markers instead.
- The model's "cannot answer" is a `no_evidence` refusal. Sentences that fail the verifier are
  dropped; if the key sentence fails (the first one, or for a figure question the first one with a
  figure), or fewer than `min_kept` of them survive, the answer is the extractive one built from
  the same evidence. A server that is down, slow or answers nonsense gives the extractive answer
  too, with a note in the trace; the advisor never sees an error.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Callable

from .answer import ExtractiveGenerator
from .settings import LLMSettings
from .text import has_figure, parse_numbers
from .types import Draft, DraftSentence, Evidence, EvidencePassage, GeneratedSentence, Signals, SourceInfo, Verdict
from .verifier import Verifier

log = logging.getLogger(__name__)

CANNOT_ANSWER = "De bronnen geven hierop geen antwoord."

SYSTEM_PROMPT = f"""Je bent een assistent voor arbeidsmarktadviseurs. Je beantwoordt de vraag uitsluitend met \
de genummerde passages hieronder, in het Nederlands, in hooguit vier korte zinnen.
Regels:
- Gebruik alleen wat in de passages staat; geen eigen kennis, geen eigen advies, geen eigen mening.
- Elke zin steunt op één of meer passages; geef hun nummers op.
- Neem cijfers, jaartallen en plaatsnamen exact over zoals ze in de passage staan.
- Noem een verwachting of prognose alleen als een passage die geeft, en zeg dan dat het de verwachting van \
de bron is.
- Alleen als geen enkele passage iets over de vraag zegt, antwoord je met precies deze ene zin: \
"{CANNOT_ANSWER}\""""

ANSWER_SCHEMA = {
    "type": "object",
    "properties": {
        "zinnen": {
            "type": "array",
            "minItems": 1,
            "maxItems": 4,
            "items": {
                "type": "object",
                "properties": {
                    "zin": {"type": "string"},
                    "passages": {"type": "array", "items": {"type": "integer"}},
                },
                "required": ["zin", "passages"],
            },
        }
    },
    "required": ["zinnen"],
}

_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_ZIN_VALUE = re.compile(r'"zin"\s*:\s*"((?:[^"\\]|\\.)*)(")?')
_PARTIAL_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{0,3})?$")


class ReadableStream:
    """Turns the text a model streams into what a reader can follow as it comes: the sentences of the
    JSON answer (`{"zinnen": [{"zin": ...}]}`) as they are written, or plain text as it is."""

    def __init__(self, emit: Callable[[str], None]):
        self.emit, self.raw, self.shown = emit, "", ""

    def feed(self, delta: str) -> None:
        self.raw += delta
        text = self.readable()
        if text.startswith(self.shown) and len(text) > len(self.shown):
            self.emit(text[len(self.shown) :])
            self.shown = text

    def readable(self) -> str:
        if not self.raw.lstrip().startswith("{"):
            return self.raw
        parts = []
        for m in _ZIN_VALUE.finditer(self.raw):
            value = m.group(1) if m.group(2) else _PARTIAL_ESCAPE.sub("", m.group(1))
            try:
                text = json.loads(f'"{value}"')
            except json.JSONDecodeError:
                break
            parts.append(text + (" " if m.group(2) else ""))
            if not m.group(2):
                break
        return "".join(parts)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


class LLMUnavailable(Exception):
    """The server could not be reached, timed out, or answered what cannot be read."""


class OpenAIGenerator:
    name = "openai"

    def __init__(
        self,
        settings: LLMSettings,
        fallback: ExtractiveGenerator,
        verifier: Verifier,
        sources: dict[str, SourceInfo],
        client=None,
    ):
        self.settings, self.fallback, self.verifier, self.sources = settings, fallback, verifier, sources
        self._client = client

    # ------------------------------------------------------------------ the protocol

    def generate(
        self, q: Signals, ev: Evidence, verdict: Verdict, on_text: Callable[[str], None] | None = None
    ) -> Draft:
        extractive = self.fallback.generate(q, ev, verdict)  # the fallback, and the asked figure to look for
        passages = self.passages(ev)

        def fallback(note: str, checks=()) -> Draft:
            extractive.generator = self.fallback.name
            extractive.notes = [f"fallback to extractive: {note}"]
            extractive.checks = list(checks)
            return extractive

        if not passages:
            return fallback("no evidence passages to write from")
        try:
            raw = self.complete(self.messages(q, passages), on_text)
            sentences = self.parse(raw)
        except LLMUnavailable as e:
            log.warning("LLM generator fell back to extractive: %s", e)
            return fallback(f"language model unavailable: {e}")
        if len(sentences) == 1 and _is_cannot_answer(sentences[0].text):
            return Draft(
                notices=list(verdict.notices), generator=self.name, refuse=True, notes=["model: cannot answer"]
            )
        sentences = list(dict.fromkeys(s for s in sentences if not _is_cannot_answer(s.text)))
        checks = [self.verifier.check(s, passages) for s in sentences]
        kept = [c for c in checks if c.ok]
        key = _key_index(checks, q.asks_quantity, self.verifier)
        if key is not None and not checks[key].ok:
            return fallback("the key sentence failed verification", checks)
        if len(kept) < min(self.settings.min_kept, len(checks)) or not kept:
            return fallback("too few sentences passed verification", checks)
        if q.asks_number and not self._states_asked_figure(extractive, kept):
            return fallback("the verified sentences leave out the asked figure", checks)
        out = [DraftSentence(text=c.text, item=c.item, quote=c.quote) for c in kept]
        return Draft(sentences=out, notices=list(verdict.notices), generator=self.name, checks=checks)

    def _states_asked_figure(self, extractive: Draft, kept: list) -> bool:
        """A figure question: the figure the evidence stage found for it (the extractive answer's lead)
        must stand in a kept sentence, else the model answered something beside the question."""
        lead = extractive.sentences[:1]
        wanted = {n.value for s in lead for n in parse_numbers(s.text, self.verifier.lexicon) if n.figure}
        if not wanted:
            return True
        written = {n.value for c in kept for n in parse_numbers(c.text, self.verifier.lexicon) if n.figure}
        return bool(wanted & written)

    # ------------------------------------------------------------------ prompt

    def passages(self, ev: Evidence) -> list[EvidencePassage]:
        """The chunks of the best evidence, in order of their best sentence, each with its quotable
        sentences in reading order; numbered from 1."""
        order: list[str] = []
        groups: dict[str, list] = {}
        for item in ev.items[: self.settings.sentences]:
            if item.chunk.id not in groups:
                if len(order) == self.settings.passages:
                    continue
                order.append(item.chunk.id)
                groups[item.chunk.id] = []
            groups[item.chunk.id].append(item)
        out = []
        for n, chunk_id in enumerate(order, 1):
            items = sorted(groups[chunk_id], key=lambda it: it.position)
            chunk = items[0].chunk
            src = self.sources.get(chunk.source_id)
            out.append(
                EvidencePassage(
                    n=n,
                    chunk=chunk,
                    items=items,
                    title=src.title if src else chunk.source_id,
                    published=src.published.isoformat() if src and src.published else "",
                )
            )
        return out

    def messages(self, q: Signals, passages: list[EvidencePassage]) -> list[dict]:
        blocks = []
        for p in passages:
            about = f"bron: {p.title}; pagina {p.chunk.page}"
            if p.published:
                about += f"; gepubliceerd: {p.published}"
            blocks.append(f"Passage {p.n} ({about})\nTekst: " + " ".join(item.clean for item in p.items))
        turns = ""
        if q.history:
            turns = "Eerdere vragen in dit gesprek:\n" + "\n".join(f"- {h}" for h in q.history) + "\n\n"
        asked = q.question if q.text == q.question else f"{q.question} (bedoeld: {q.text})"
        user = f"{turns}Vraag: {asked}\n\nPassages:\n\n" + "\n\n".join(blocks)
        return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]

    # ------------------------------------------------------------------ the server

    @property
    def client(self):
        if self._client is None:
            import openai

            s = self.settings
            common = dict(api_key=s.api_key or "none", timeout=s.timeout_s, max_retries=0)
            if s.api_version:  # Azure OpenAI: base_url is the resource endpoint, model the deployment
                self._client = openai.AzureOpenAI(azure_endpoint=s.base_url, api_version=s.api_version, **common)
            else:
                self._client = openai.OpenAI(base_url=s.base_url, **common)
        return self._client

    def complete(self, messages: list[dict], on_text: Callable[[str], None] | None = None) -> str:
        import openai

        s = self.settings
        kwargs: dict = dict(
            model=s.deployment or s.model, messages=messages, max_tokens=s.max_tokens, temperature=s.temperature
        )
        if s.json_schema:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "antwoord", "schema": ANSWER_SCHEMA, "strict": True},
            }
        try:
            if on_text is None:
                response = self.client.chat.completions.create(**kwargs)
                if not response.choices:
                    raise LLMUnavailable("the server returned no choices")
                return response.choices[0].message.content or ""
            stream = ReadableStream(on_text)
            for chunk in self.client.chat.completions.create(stream=True, **kwargs):
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    stream.feed(delta)
            return stream.raw
        except openai.APIError as e:  # connection, timeout, status and malformed-response errors
            raise LLMUnavailable(f"{type(e).__name__}: {e}") from e

    def parse(self, raw: str) -> list[GeneratedSentence]:
        """The model's sentences with their passage numbers, from the JSON object or from plain text
        with `[n]` markers (a marker of a sentence may also stand at its end)."""
        text = raw.strip()
        if self.settings.json_schema or text.startswith("{"):
            try:
                data = json.loads(text)
                items = data["zinnen"]
                out = [
                    GeneratedSentence(str(i["zin"]).strip(), tuple(int(n) for n in i.get("passages", [])))
                    for i in items
                    if str(i.get("zin", "")).strip()
                ]
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise LLMUnavailable(f"output is not the asked JSON: {text[:120]!r}") from e
            # each sentence is checked on its own; markers typed into it count as citations too
            return [
                GeneratedSentence(_MARKER.sub("", part).strip(), tuple(dict.fromkeys(s.passages + _markers(part))))
                for s in out
                for part in _SENTENCE_END.split(s.text)
                if _MARKER.sub("", part).strip()
            ]
        out = []
        for part in _SENTENCE_END.split(text):
            part = part.strip()
            if part:
                out.append(GeneratedSentence(_MARKER.sub("", part).strip(), _markers(part)))
        if not out:
            raise LLMUnavailable("empty output")
        return out


def _markers(text: str) -> tuple[int, ...]:
    return tuple(int(n) for m in _MARKER.finditer(text) for n in m.group(1).split(","))


def _is_cannot_answer(text: str) -> bool:
    return _MARKER.sub("", text).strip().rstrip(".").lower() == CANNOT_ANSWER.rstrip(".").lower()


def _key_index(checks, asks_quantity: bool, verifier: Verifier) -> int | None:
    """The key sentence: for a figure question the first sentence with a figure, else the first."""
    if not checks:
        return None
    if asks_quantity:
        for i, c in enumerate(checks):
            if has_figure(c.text, verifier.lexicon):
                return i
    return 0


__all__ = ["OpenAIGenerator", "ReadableStream", "CANNOT_ANSWER", "SYSTEM_PROMPT", "ANSWER_SCHEMA", "LLMUnavailable"]
