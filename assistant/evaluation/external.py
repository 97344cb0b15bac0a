"""Answers another system produced (for example the AIMI prototype), scored like ours: the same
grounding metrics over the same question set, and every cited sentence put through the same
verifier that gates our LLM mode. A content team can so audit any assistant on its own sources.

    assistant eval --questions evals/dev_questions.jsonl --answers their_answers.jsonl --out evals/runs/theirs

The answers file is JSONL, one answer per question of the set, matched by `id` (else by the exact
`question` text):

    {"id": "D001", "answer": "Er stonden 12.500 vacatures open [1].", "refused": false,
     "refusal_reason": null,
     "citations": [{"n": 1, "quote": "Aan het eind van ... 12.500 vacatures open.",
                    "source_id": "rib-groningen-2025", "page": "4", "chunk_id": "..."}]}

Only `answer` is required. A citation is matched to an indexed passage by its `chunk_id`, else by
its quote (whitespace-tolerant, within its `source_id` and `page` when given), else by `source_id`
and `page` alone; a citation that matches no passage supports nothing. A question the file has no
answer for counts as answered with nothing (so it scores zero rather than disappearing).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence, get_args

from ..core import Assistant
from ..errors import ConfigError
from ..types import Answer, Chunk, Citation, EvidencePassage, GeneratedSentence, Hit, Passage, RefusalReason
from ..verifier import Verifier, VerifierParams
from .records import read_jsonl

FORMAT_HINT = "see the docstring of assistant/evaluation/external.py (or evals/README.md)"


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


class ExternalAnswers:
    """A system under evaluation whose answers are read from a file instead of computed."""

    def __init__(self, path: Path, assistant: Assistant, name: str = ""):
        self.path = Path(path)
        self.name = name or f"external-{self.path.stem}"
        self.assistant = assistant
        self.verifier = Verifier(
            assistant.lexicon, assistant.weights, VerifierParams.load(assistant.settings.params_dir)
        )
        self._chunks = {c.id: c for c in assistant.snapshot.chunks}
        self._squashed = {c.id: _squash(c.text) for c in assistant.snapshot.chunks}
        self.by_id: dict[str, dict] = {}
        self.by_question: dict[str, dict] = {}
        for lineno, rec in read_jsonl(self.path, FORMAT_HINT):
            if not isinstance(rec, dict) or not isinstance(rec.get("answer"), str):
                raise ConfigError(f"{self.path}:{lineno}: each line needs a JSON object with an 'answer' string.")
            if not isinstance(rec.get("citations") or [], list):
                raise ConfigError(f"{self.path}:{lineno}: 'citations' must be a list of objects.")
            if rec.get("id") is not None:
                self.by_id[str(rec["id"])] = rec
            if isinstance(rec.get("question"), str):
                self.by_question[rec["question"].strip()] = rec
            if rec.get("id") is None and not isinstance(rec.get("question"), str):
                raise ConfigError(f"{self.path}:{lineno}: give the question's 'id' or its 'question' text.")

    # ------------------------------------------------------------------ the Pipeline protocol

    def answer_for(self, q: dict) -> Answer:
        rec = self.by_id.get(q["id"]) or self.by_question.get(q["question"].strip())
        if rec is None:
            return Answer(question=q["question"], answer="", refused=False)
        citations = [c for c in (self._citation(i, raw) for i, raw in enumerate(rec.get("citations") or [], 1)) if c]
        cited = {c.chunk_id: self._chunks[c.chunk_id] for c in citations if c.chunk_id in self._chunks}
        return Answer(
            question=q["question"],
            answer=rec["answer"],
            refused=bool(rec.get("refused")),
            refusal_reason=rec.get("refusal_reason") if rec.get("refusal_reason") in get_args(RefusalReason) else None,
            citations=citations,
            passages=[
                Passage(chunk_id=c.id, source_id=c.source_id, page=c.page, section=c.section, score=0.0, text=c.text)
                for c in cited.values()
            ],
            generator=self.name,
        )

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        return self.answer_for({"id": "", "question": question})

    def rank(self, question: str, k: int, answer: Answer) -> list[Passage]:
        return answer.passages[:k]  # retrieval is scored on what the other system cited

    def chunk_texts(self) -> dict[str, str]:
        return {cid: c.text for cid, c in self._chunks.items()}

    def verify_claims(self, claims: Sequence[dict], response: dict) -> list[bool]:
        """Our verifier's verdict on each sentence of the answer (`text`, `cited`) against the passages it
        cites; the answer's passages are read once for all its sentences."""
        passages = []
        for c in response.get("citations") or []:
            chunk = self._chunks.get(c.get("chunk_id") or "")
            if chunk is not None:
                items = self.assistant.evidence.candidates([Hit(chunk=chunk, score=0.0, ranks={})])
                passages.append(EvidencePassage(n=int(c["n"]), chunk=chunk, items=items))
        return [self.verifier.check(GeneratedSentence(c["text"], tuple(c["cited"])), passages).ok for c in claims]

    # ------------------------------------------------------------------ citations

    def _citation(self, i: int, raw: dict) -> Citation | None:
        if not isinstance(raw, dict):
            return None
        n = int(raw.get("n") or i)
        quote = str(raw.get("quote") or "")
        chunk = self._match(raw, quote)
        source = self.assistant.sources.get(chunk.source_id) if chunk else None
        return Citation(
            n=n,
            source_id=chunk.source_id if chunk else str(raw.get("source_id") or ""),
            title=source.title if source else str(raw.get("title") or ""),
            publisher=source.publisher if source else "",
            url=source.url if source else "",
            page=chunk.page if chunk else str(raw.get("page") or ""),
            section=chunk.section if chunk else "",
            quote=quote,
            chunk_id=chunk.id if chunk else "",
            published=source.published if source else None,
        )

    def _match(self, raw: dict, quote: str) -> Chunk | None:
        chunk = self._chunks.get(str(raw.get("chunk_id") or ""))
        if chunk is not None:
            return chunk
        source_id, page = str(raw.get("source_id") or ""), str(raw.get("page") or "")
        pool = [
            c
            for c in self._chunks.values()
            if (not source_id or c.source_id == source_id) and (not page or str(c.page) == page)
        ]
        wanted = _squash(quote)
        if wanted:
            return next((c for c in pool if wanted in self._squashed[c.id]), None)
        return pool[0] if pool and (source_id and page) else None


__all__ = ["ExternalAnswers"]
