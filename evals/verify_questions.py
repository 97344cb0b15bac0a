#!/usr/bin/env python3
"""Validate question files in the project's question-set format.

Usage:
    python3 evals/verify_questions.py FILE [FILE ...]
        [--manifest corpus/manifest.toml] [--as-of YYYY-MM-DD]

The format is described in evals/QUESTION_FORMAT.md. For every question this
checks:

* required fields are present with the right JSON types, and no unknown fields;
* ``type`` is one of the allowed values;
* ids are unique (across all files given) and question texts are not repeated;
* ``answerable`` agrees with ``type`` (refusal types are not answerable, all
  other types are); refusals have an empty expected_answer, must_contain and
  evidence and a section starting with "n.v.t."; answerable questions have an
  expected_answer, at least one must_contain item and at least one evidence
  passage; ``multi`` questions have two or more evidence passages;
* every must_contain item occurs in the expected_answer and, for answerable
  questions, in at least one evidence passage;
* every evidence passage is at least 20 characters long and a verbatim
  substring of one approved source from the manifest.

Text comparison collapses every whitespace run to a single space on both
sides (after Unicode NFC normalisation). must_contain matching is otherwise
exact, except that letter case is ignored; no number reformatting is applied,
so figures must be written the way the source writes them ("12.500", "71,4%").

Approved sources are the manifest's [[source]] entries with approved = true
whose valid_until (if any) is not before --as-of (default: today). A .pdf
source is checked against the .txt extraction with the same stem beside it;
any other file (.csv, .txt, .md, ...) is checked against its raw text.

Prints one line per problem and a summary; exits 1 if any problem was found
(including an unreadable manifest, source or question file), else 0.
Standard library only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import tomllib
import unicodedata
from pathlib import Path

ALLOWED_TYPES = {
    "factual",
    "multi",
    "definition",
    "initiative",
    "stated_forecast",
    "prediction_refuse",
    "out_of_scope",
}
REFUSAL_TYPES = {"prediction_refuse", "out_of_scope"}
MIN_EVIDENCE_CHARS = 20  # shorter passages match almost anywhere and prove nothing

# field -> expected Python type (as produced by json.loads)
FIELDS: dict[str, type] = {
    "id": str,
    "question": str,
    "type": str,
    "answerable": bool,
    "expected_answer": str,
    "must_contain": list,
    "evidence": list,
    "section": str,
}

_WS = re.compile(r"\s+")

DEFAULT_MANIFEST = Path(__file__).resolve().parent.parent / "corpus" / "manifest.toml"


def norm(text: str) -> str:
    """NFC-normalise and collapse whitespace runs to one space."""
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


class Source:
    def __init__(self, sid: str, path: Path, text: str):
        self.id = sid
        self.path = path
        self.text = text  # normalised


def _as_date(value) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def load_sources(manifest: Path, as_of: dt.date, problems: list[str]) -> list[Source]:
    """Read the approved, still-valid sources listed in the manifest."""
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"{manifest}: cannot read manifest: {exc}")
        return []
    entries = data.get("source", [])
    if not isinstance(entries, list) or not entries:
        problems.append(f"{manifest}: no [[source]] entries")
        return []
    base = manifest.parent
    sources: list[Source] = []
    for n, entry in enumerate(entries, 1):
        sid = entry.get("id", f"#{n}")
        if entry.get("approved") is not True:
            continue
        try:
            valid_until = _as_date(entry.get("valid_until"))
        except ValueError:
            problems.append(f"{manifest}: source {sid}: bad valid_until {entry.get('valid_until')!r}")
            continue
        if valid_until is not None and valid_until < as_of:
            continue  # expired: not citable
        file = entry.get("file")
        if not file:
            problems.append(f"{manifest}: source {sid}: no file")
            continue
        path = base / file
        text_path = path.with_suffix(".txt") if path.suffix.lower() == ".pdf" else path
        try:
            raw = text_path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            problems.append(f"{manifest}: source {sid}: cannot read {text_path}: {exc}")
            continue
        sources.append(Source(sid, text_path, norm(raw)))
    if not sources:
        problems.append(f"{manifest}: no approved, valid source could be read")
    return sources


def contains(haystack: str, needle: str) -> bool:
    """Whitespace-collapsed, case-insensitive containment (for must_contain)."""
    h, n = norm(haystack), norm(needle)
    return n in h or n.casefold() in h.casefold()


def check_question(q, where: str, sources: list[Source]) -> list[str]:
    out: list[str] = []

    def bad(msg: str) -> None:
        out.append(f"{where}: {msg}")

    if not isinstance(q, dict):
        bad("line is not a JSON object")
        return out
    for field, ftype in FIELDS.items():
        if field not in q:
            bad(f"missing field '{field}'")
        elif not isinstance(q[field], ftype):
            bad(f"field '{field}' must be {ftype.__name__}, got {type(q[field]).__name__}")
    for field in q:
        if field not in FIELDS:
            bad(f"unknown field '{field}'")
    if out:  # structural problems make the checks below unreliable
        return out

    for field in ("id", "question", "section"):
        if not q[field].strip():
            bad(f"field '{field}' is empty")
    for field in ("must_contain", "evidence"):
        for i, item in enumerate(q[field]):
            if not isinstance(item, str):
                bad(f"{field}[{i}] must be a string, got {type(item).__name__}")
            elif not item.strip():
                bad(f"{field}[{i}] is empty")
    if out:
        return out

    qtype = q["type"]
    if qtype not in ALLOWED_TYPES:
        bad(f"type '{qtype}' not one of {sorted(ALLOWED_TYPES)}")
        return out

    if qtype in REFUSAL_TYPES:
        if q["answerable"] is not False:
            bad(f"type '{qtype}' requires answerable=false")
        if q["expected_answer"] != "":
            bad("refusal must have an empty expected_answer")
        if q["must_contain"]:
            bad("refusal must have an empty must_contain")
        if q["evidence"]:
            bad("refusal must have an empty evidence list")
        if not q["section"].startswith("n.v.t."):
            bad("refusal section should start with 'n.v.t.'")
        return out

    # answerable types
    if q["answerable"] is not True:
        bad(f"type '{qtype}' requires answerable=true")
    if not q["expected_answer"].strip():
        bad("answerable question has an empty expected_answer")
    if not q["must_contain"]:
        bad("answerable question has no must_contain items")
    if not q["evidence"]:
        bad("answerable question has no evidence")
    if qtype == "multi" and len(q["evidence"]) < 2:
        bad("type 'multi' needs two or more evidence passages")

    for item in q["must_contain"]:
        if not contains(q["expected_answer"], item):
            bad(f"must_contain {item!r} not in expected_answer")
        if q["evidence"] and not any(contains(ev, item) for ev in q["evidence"]):
            bad(f"must_contain {item!r} not in any evidence passage")

    for i, ev in enumerate(q["evidence"]):
        n = norm(ev)
        if len(n) < MIN_EVIDENCE_CHARS:
            bad(f"evidence[{i}] is shorter than {MIN_EVIDENCE_CHARS} characters: {n!r}")
        if not any(n in s.text for s in sources):
            bad(f"evidence[{i}] not found verbatim in any approved source: {_clip(n)!r}")
    return out


def _clip(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="+", type=Path, help="question files (JSONL)")
    ap.add_argument(
        "--manifest",
        type=Path,
        default=DEFAULT_MANIFEST,
        help="source manifest (default: corpus/manifest.toml of this repo)",
    )
    ap.add_argument(
        "--as-of",
        type=dt.date.fromisoformat,
        default=dt.date.today(),
        help="date for the valid_until check (default: today)",
    )
    args = ap.parse_args(argv)

    problems: list[str] = []
    sources = load_sources(args.manifest, args.as_of, problems)

    seen_ids: dict[str, str] = {}
    seen_questions: dict[str, str] = {}
    per_file: list[tuple[Path, int, int]] = []
    for path in args.files:
        before = len(problems)
        count = 0
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read: {exc}")
            per_file.append((path, 0, len(problems) - before))
            continue
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            count += 1
            where = f"{path}:{lineno}"
            try:
                q = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: invalid JSON: {exc}")
                continue
            if isinstance(q, dict) and isinstance(q.get("id"), str):
                where = f"{where} [{q['id']}]"
                if q["id"] in seen_ids:
                    problems.append(f"{where}: duplicate id (first at {seen_ids[q['id']]})")
                else:
                    seen_ids[q["id"]] = f"{path}:{lineno}"
            if isinstance(q, dict) and isinstance(q.get("question"), str):
                key = norm(q["question"]).casefold()
                if key in seen_questions:
                    problems.append(f"{where}: duplicate question text (first at {seen_questions[key]})")
                else:
                    seen_questions[key] = f"{path}:{lineno}"
            problems.extend(check_question(q, where, sources))
        if count == 0:
            problems.append(f"{path}: no questions")
        per_file.append((path, count, len(problems) - before))

    for p in problems:
        print(p)
    total_q = sum(c for _, c, _ in per_file)
    for path, count, nprob in per_file:
        print(f"{path}: {count} questions, {nprob} problems")
    status = "FAIL" if problems else "OK"
    print(
        f"{status}: {total_q} questions in {len(per_file)} file(s), "
        f"{len(sources)} approved source(s), {len(problems)} problem(s)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
