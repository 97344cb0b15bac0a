"""Metrics: each question's response is scored (`score_response`), then every metric is
pooled over the question set as a ratio of sums with a bootstrap interval (`summarise`).

The definitions, with their exact matching rules, are in evals/README.md; the code
follows them line by line. Nothing here imports the answer pipeline: the metrics see
only the question, the `Answer` JSON and the passage texts.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..text import years

if TYPE_CHECKING:
    from .judge import SupportJudge

REFUSAL_TYPES = ("prediction_refuse", "out_of_scope")
# Asks a figure for a period or place no source covers: the right answer says so (a refusal, or an
# answer with a `period_not_covered` / `place_not_covered` notice) and may give the nearest figure.
NOT_COVERED = "not_covered"
UNCOVERED_NOTICES = ("period_not_covered", "place_not_covered")
REASON_TYPE = {"prediction": "prediction_refuse", "out_of_scope": "out_of_scope", "no_evidence": "out_of_scope"}

# ------------------------------------------------------------------ text matching

_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"'})


def norm(text: str, fold: bool = True) -> str:
    """NFC, typographic quotes plain, whitespace collapsed, "Noord- Drenthe" -> "Noord-Drenthe", casefolded."""
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).translate(_QUOTES)).strip()
    text = re.sub(r"(\w)- (\w)", r"\1-\2", text)
    return text.casefold() if fold else text


_NUMBER_WORDS = dict(
    zip(
        "nul één twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien vijftien zestien zeventien "
        "achttien negentien twintig dertig veertig vijftig zestig zeventig tachtig negentig".split(),
        [*range(21), 30, 40, 50, 60, 70, 80, 90],
    )
)
_NUMBER_WORD = re.compile(r"\b(?:" + "|".join(_NUMBER_WORDS) + r")\b")
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?(?:\s*(%|procent\b)|\s+(miljoen|miljard)\b)?")
_SCALE = {"miljoen": 10**6, "miljard": 10**9}


def _canonical_number(m: re.Match) -> str:
    value = Decimal(m.group(1).replace(".", "") + (f".{m.group(2)}" if m.group(2) else ""))
    if m.group(4):
        value *= _SCALE[m.group(4)]
    text = format(value.normalize(), "f") if value != value.to_integral() else str(int(value))
    return text + ("%" if m.group(3) else "")


_RATIO = re.compile(r"\b(\d+|een|één) op (?:de )?(\d+)\b")


def _digits(text: str) -> str:
    """`norm`, number words as digits, and "7 op de 10" as "70%"."""
    text = _NUMBER_WORD.sub(lambda m: str(_NUMBER_WORDS[m.group(0)]), norm(text))

    def ratio(m: re.Match) -> str:
        a, b = Decimal(1 if m.group(1) in ("een", "één") else m.group(1)), Decimal(m.group(2))
        share = (a * 100 / b).quantize(Decimal("0.1")) if b else None
        return m.group(0) if share is None or share != a * 100 / b else f"{share.normalize():f}".replace(".", ",") + "%"

    return _RATIO.sub(ratio, text)


def canonical(text: str) -> str:
    """`norm` plus Dutch number normalisation: "12.500" -> "12500", "71,4%" / "71,4 procent" -> "71.4%",
    "3 miljoen" -> "3000000", "7 op de 10" -> "70%", number words up to twintig and the tens ("vijftien" -> "15")."""
    return _NUMBER.sub(_canonical_number, _digits(text))


def figures(text: str) -> set[str]:
    """The numbers of a text in canonical form (see `canonical`): what numeric agreement compares."""
    return {_canonical_number(m) for m in _NUMBER.finditer(_digits(text))}


def contains(haystack: str, needle: str) -> bool:
    """must_contain rule: substring after `canonical` on both sides; a number never matches inside another."""
    h, n = canonical(haystack), canonical(needle)
    if not n:
        return True
    left = r"(?<![\w.,])" if n[0].isdigit() else ""
    right = r"(?![\d%]|[.,]\d)" if n[-1].isdigit() else ""
    return re.search(left + re.escape(n) + right, h) is not None


def _csv_cells(evidence: str) -> list[str] | None:
    """Cells of an evidence line copied from a table: a CSV row (>= 3 cells, none starting with a
    space), a StatLine row (quoted, semicolon-separated) or a Markdown table row (| a | b |)."""
    line = evidence.strip()
    if "\n" in line:
        return None
    if line.startswith("|") and line.endswith("|") and line.count("|") >= 3:
        return [c.strip() for c in line.strip("|").split("|") if c.strip()]
    delimiter = ";" if line.startswith('"') and '";"' in line else ","
    if delimiter not in line:
        return None
    cells = next(csv.reader([line], delimiter=delimiter), [])
    if len(cells) < (2 if delimiter == ";" else 3) or any(c[:1].isspace() for c in cells):
        return None
    return [c for c in cells if c.strip()]


def is_table_line(evidence: str) -> bool:
    return _csv_cells(evidence) is not None


def evidence_matches(evidence: str, passage: str) -> bool:
    """A passage holds a gold evidence item when, after `norm`: the evidence is a substring of it;
    or their longest common substring is >= 25 characters and >= half the shorter text (tolerant
    to chunk boundaries: a passage holding most of the evidence, or lying inside it, counts);
    or, for an evidence line copied from a CSV table, the passage contains every non-empty cell."""
    e, p = norm(evidence), norm(passage)
    if not e or not p:
        return False
    if e in p:
        return True
    cells = _csv_cells(evidence)
    if cells is not None:
        return all(norm(c) in p for c in cells)
    size = SequenceMatcher(None, e, p, autojunk=False).find_longest_match(0, len(e), 0, len(p)).size
    return size >= 25 and size >= 0.5 * min(len(e), len(p))


# ------------------------------------------------------------------ per-question scores


def retrieval_scores(evidence: list[str], passages: list[str], k: int) -> dict | None:
    """hit, recall, reciprocal rank and nDCG of the top-k passages against the gold evidence."""
    if not evidence:
        return None
    matched = [{j for j, e in enumerate(evidence) if evidence_matches(e, p)} for p in passages[:k]]
    ranks = [i + 1 for i, m in enumerate(matched) if m]
    seen: set[int] = set()
    dcg = 0.0
    for i, m in enumerate(matched):
        dcg += len(m - seen) / math.log2(i + 2)  # gain: evidence items not covered higher up
        seen |= m
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(evidence))))
    return {
        "hit": float(bool(ranks)),
        "recall": len(seen) / len(evidence),
        "rr": 1.0 / ranks[0] if ranks else 0.0,
        "ndcg": min(1.0, dcg / ideal),
        "relevant_ranks": ranks,
    }


def correctness(answer: str, must_contain: list[str]) -> dict | None:
    if not must_contain:
        return None
    text = strip_markers(answer)
    found = [m for m in must_contain if contains(text, m)]
    return {"share": len(found) / len(must_contain), "missing": [m for m in must_contain if m not in found]}


_MARKERS = re.compile(r"(?:\s*\[\d+\])+")
_ABBREV = {
    "o.a",
    "bijv",
    "nr",
    "ca",
    "m.n",
    "incl",
    "excl",
    "o.b.v",
    "d.w.z",
    "i.v.m",
    "m.b.t",
    "t.o.v",
    "vs",
    "resp",
    "zgn",
    "etc",
    "p",
    "blz",
}
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'‘“◼•▪●])|\s+(?=[◼•▪●])|\s*\n\s*\n\s*")


def strip_markers(text: str) -> str:
    return _MARKERS.sub("", text)


def split_sentences(text: str) -> list[str]:
    """Sentences: split after . ! ? before a capital, digit, quote or bullet (not before "(": a parenthesis
    after a full stop annotates that sentence), before a bullet, and at blank lines."""
    out, start = [], 0
    for m in _SENT_END.finditer(text):
        piece = text[start : m.start()]
        last = re.search(r"(\S+)\.$", piece)
        if "\n" not in m.group(0) and last and last.group(1).lower() in _ABBREV:
            continue
        out.append(piece)
        start = m.end()
    out.append(text[start:])
    return [s.strip() for s in out if re.search(r"\w", s)]


def claims(answer: str) -> list[tuple[str, list[int]]]:
    """(sentence, cited numbers): a marker group "[1][2]" belongs to the sentence it ends."""
    out: list[tuple[str, list[int]]] = []
    start = 0
    for m in list(_MARKERS.finditer(answer)) + [None]:
        segment = answer[start : m.start() if m else len(answer)]
        sentences = split_sentences(segment)
        cited = [int(n) for n in re.findall(r"\d+", m.group(0))] if m else []
        out += [(s, []) for s in sentences[:-1]]
        if sentences:
            out.append((sentences[-1], cited))
        if m:
            start = m.end()
    return out


def without_notices(response: dict) -> str:
    """The answer text without its notices (`response["notices"]`: "this period is not covered",
    "the sources disagree"): they speak about the sources, like a refusal's message, and are not claims."""
    text = response.get("answer", "")
    for notice in response.get("notices") or []:
        text = text.replace(notice.get("text", "") or "\0", " ", 1)
    return text


def citation_scores(response: dict, chunk_texts: dict[str, str], judge: SupportJudge) -> list[dict]:
    """ALCE-style scoring of each claim; a refusal's fixed message is not a claim (only its cited sentences are),
    nor is a notice."""
    by_n = {c["n"]: c for c in response.get("citations", [])}

    def cited_text(n: int) -> str:  # the passage as the judge sees it: title, section, text (ALCE adds the title)
        c = by_n.get(n)
        body = chunk_texts.get(c["chunk_id"], "") if c else ""
        return f"{c['title']}\n{c['section']}\n{body}" if c and body else ""

    context = [cited_text(n) for n in by_n] + [f"{p['section']}\n{p['text']}" for p in response.get("passages", [])]
    out = []
    for sentence, cited in claims(without_notices(response)):
        if response.get("refused") and not cited:
            continue
        texts = [cited_text(n) for n in cited]
        supported = any(texts) and judge.judge(sentence, "\n".join(texts)) == "yes"
        precise = []
        for i, n in enumerate(cited):
            if not supported:
                precise.append(False)
            elif texts[i] and judge.judge(sentence, texts[i]) == "yes":
                precise.append(True)
            else:  # needed when the other citations alone do not support the sentence
                rest = "\n".join(t for j, t in enumerate(texts) if j != i)
                precise.append(not (rest and judge.judge(sentence, rest) == "yes"))
        found = figures(sentence)
        cited_numbers = set().union(*(figures(t) for t in texts)) if texts else set()
        out.append(
            {
                "text": sentence,
                "cited": cited,
                "supported": bool(supported),
                "precise": precise,
                "unsupported": all(judge.judge(sentence, t) == "no" for t in context if t),
                "numbers_ok": (found <= cited_numbers) if found else None,
            }
        )
    return out


def quote_exact(response: dict, chunk_texts: dict[str, str]) -> list[bool]:
    """Per citation: its quote is a verbatim substring of its chunk's text (whitespace collapsed only)."""
    return [
        bool(c["quote"].strip())
        and norm(c["quote"], fold=False) in norm(chunk_texts.get(c["chunk_id"], ""), fold=False)
        for c in response.get("citations", [])
    ]


_FORECAST_WORDING = re.compile(
    r"\bverwacht\w*|\bnaar verwachting\b|\bprognose\w*|\braming\w*|\bvoorspel\w*|\b(?:zal|zullen)\b", re.IGNORECASE
)


def forecast_leak(answer: str, reference_year: int) -> bool:
    """A sentence with a figure (a number that is not a year) and a year after `reference_year` or forecast wording."""
    for sentence in split_sentences(strip_markers(answer)):
        amounts = figures(sentence) - {str(y) for y in years(sentence)}
        if amounts and (any(y > reference_year for y in years(sentence)) or _FORECAST_WORDING.search(sentence)):
            return True
    return False


def score_response(
    question: dict,
    response: dict,
    ranked: list[str],
    chunk_texts: dict[str, str],
    judge: SupportJudge,
    k: int,
    reference_year: int,
) -> dict:
    """Every per-question score; `ranked` are the texts of the top-k retrieved passages."""
    texts = {**chunk_texts, **{p["chunk_id"]: p["text"] for p in response.get("passages", [])}}
    qtype = question.get("type", "")
    return {
        "retrieval": retrieval_scores(question.get("evidence", []), ranked, k),
        "correctness": correctness(response.get("answer", ""), question.get("must_contain", []))
        if question.get("answerable")
        else None,
        "claims": citation_scores(response, texts, judge),
        "quotes_exact": quote_exact(response, texts),
        "refused": bool(response.get("refused")),
        "refusal_reason": response.get("refusal_reason"),
        "forecast_leak": forecast_leak(response.get("answer", ""), reference_year)
        if qtype == "prediction_refuse"
        else None,
        "follow_up": bool(question.get("history")),
        "uncovered_said": uncovered_said(response) if qtype == NOT_COVERED else None,
        "nearest": correctness(response.get("answer", ""), question.get("nearest_must_contain") or [])
        if qtype == NOT_COVERED
        else None,
        "sources": sources_cited(response, question.get("expected_sources") or []),
    }


def uncovered_said(response: dict) -> bool:
    """A not_covered question: refused, or answered with a notice that the asked period or place is not covered."""
    kinds = {n.get("kind") for n in response.get("notices") or []}
    return bool(response.get("refused")) or bool(kinds & set(UNCOVERED_NOTICES))


def sources_cited(response: dict, expected: list[str]) -> bool | None:
    """Every expected source is cited (None when the question names none)."""
    if not expected:
        return None
    cited = {c.get("source_id") for c in response.get("citations", [])}
    return set(expected) <= cited


def fully_right(r: dict) -> bool:
    """Right in every respect a question states: the refusal decision, every key fact, the expected
    sources, and for a not_covered question that the gap is said (and the nearest figure, when given)."""
    s, qtype = r["scores"], r["type"]
    if qtype in REFUSAL_TYPES:
        return s["refused"] and REASON_TYPE.get(s["refusal_reason"]) == qtype
    if qtype == NOT_COVERED:
        return bool(s["uncovered_said"]) and (s["nearest"] is None or s["nearest"]["share"] == 1.0)
    if s["refused"]:
        return False
    return (s["correctness"] is None or s["correctness"]["share"] == 1.0) and s["sources"] is not False


# ------------------------------------------------------------------ pooled metrics

Part = tuple[float, float]  # (numerator, denominator) of one question


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    higher_is_better: bool | None  # None: informational, no better direction
    part: Callable[[dict], Part]


def _mean(key: str, field: str) -> Callable[[dict], Part]:
    return lambda r: (r["scores"][key][field], 1.0) if r["scores"][key] is not None else (0.0, 0.0)


def _claims(pred: Callable[[dict], bool | None]) -> Callable[[dict], Part]:
    def part(r: dict) -> Part:
        vals = [v for v in (pred(c) for c in r["scores"]["claims"]) if v is not None]
        return float(sum(vals)), float(len(vals))

    return part


def _refusal(num: Callable[[dict], bool], den: Callable[[dict], bool]) -> Callable[[dict], Part]:
    return lambda r: (float(num(r) and den(r)), float(den(r)))


def _should_refuse(r: dict) -> bool:
    return not r["answerable"] and r["type"] != NOT_COVERED


def _refused(r: dict) -> bool:
    return r["scores"]["refused"]


METRICS: list[Metric] = [
    Metric("hit_at_k", "hit@k", True, _mean("retrieval", "hit")),
    Metric("recall_at_k", "recall@k", True, _mean("retrieval", "recall")),
    Metric("mrr_at_k", "MRR@k", True, _mean("retrieval", "rr")),
    Metric("ndcg_at_k", "nDCG@k", True, _mean("retrieval", "ndcg")),
    Metric("answer_correctness", "answer correctness (must_contain share)", True, _mean("correctness", "share")),
    Metric(
        "follow_up_correctness",
        "answer correctness on follow-up turns",
        True,
        lambda r: _mean("correctness", "share")(r) if r["scores"].get("follow_up") else (0.0, 0.0),
    ),
    Metric(
        "answer_words",
        "answer length (words, answers given)",
        None,
        lambda r: (
            (0.0, 0.0)
            if r["scores"]["refused"]
            else (float(len(strip_markers(r["response"].get("answer", "")).split())), 1.0)
        ),
    ),
    Metric("citation_recall", "citation recall", True, _claims(lambda c: c["supported"])),
    Metric(
        "citation_precision",
        "citation precision",
        True,
        lambda r: (
            float(sum(sum(c["precise"]) for c in r["scores"]["claims"])),
            float(sum(len(c["precise"]) for c in r["scores"]["claims"])),
        ),
    ),
    Metric("unsupported_sentence_rate", "unsupported-sentence rate", False, _claims(lambda c: c["unsupported"])),
    Metric("numeric_fidelity", "numeric-fact fidelity", True, _claims(lambda c: c["numbers_ok"])),
    # external answers only (`eval --answers`): the share of cited sentences our LLM-mode verifier passes
    Metric("verified_sentence_rate", "sentences the verifier passes", True, _claims(lambda c: c.get("verified"))),
    Metric(
        "quote_exactness",
        "quote exactness",
        True,
        lambda r: (float(sum(r["scores"]["quotes_exact"])), float(len(r["scores"]["quotes_exact"]))),
    ),
    Metric("refusal_precision", "refusal precision", True, _refusal(_should_refuse, _refused)),
    Metric("refusal_recall", "refusal recall", True, _refusal(_refused, _should_refuse)),
    *[
        m
        for t in REFUSAL_TYPES
        for m in (
            Metric(
                f"refusal_precision_{t}",
                f"refusal precision ({t})",
                True,
                _refusal(
                    lambda r, t=t: r["type"] == t,
                    lambda r, t=t: _refused(r) and REASON_TYPE.get(r["scores"]["refusal_reason"]) == t,
                ),
            ),
            Metric(
                f"refusal_recall_{t}", f"refusal recall ({t})", True, _refusal(_refused, lambda r, t=t: r["type"] == t)
            ),
        )
    ],
    Metric(
        "over_refusal_rate",
        "over-refusal (answerable questions refused)",
        False,
        _refusal(_refused, lambda r: r["answerable"]),
    ),
    Metric(
        "uncovered_said_rate",
        "uncovered period/place said (not_covered)",
        True,
        lambda r: (
            float(bool(r["scores"].get("uncovered_said"))),
            float(r["scores"].get("uncovered_said") is not None),
        ),
    ),
    Metric(
        "source_correct_rate",
        "expected sources cited",
        True,
        lambda r: (float(bool(r["scores"].get("sources"))), float(r["scores"].get("sources") is not None)),
    ),
    Metric(
        "fully_right_rate",
        "fully right (decision, key facts, sources, gaps said)",
        True,
        lambda r: (float(fully_right(r)), 1.0),
    ),
    Metric(
        "forecast_leak_rate",
        "forecast leak (prediction_refuse)",
        False,
        lambda r: (float(bool(r["scores"]["forecast_leak"])), float(r["scores"]["forecast_leak"] is not None)),
    ),
]
PERCENTILES = (50, 95, 99)


def summarise(records: list[dict], resamples: int = 1000, seed: int = 0, confidence: float = 0.95) -> dict:
    """Every metric's pooled value with a percentile-bootstrap interval (questions resampled with replacement)."""
    n = len(records)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n)) if n else np.zeros((resamples, 0), dtype=int)
    tail = (1 - confidence) / 2 * 100
    out: dict[str, dict] = {}
    for m in METRICS:
        parts = np.array([m.part(r) for r in records], dtype=float).reshape(n, 2)
        num, den = parts[:, 0], parts[:, 1]
        value = num.sum() / den.sum() if den.sum() else None
        with np.errstate(invalid="ignore", divide="ignore"):
            boot = num[idx].sum(axis=1) / den[idx].sum(axis=1)
        ci = [float(x) for x in np.nanpercentile(boot, [tail, 100 - tail])] if value is not None else None
        out[m.name] = {
            "value": value,
            "ci": ci,
            "n": int(den.sum()),
            "label": m.label,
            "higher_is_better": m.higher_is_better,
        }
    lengths = np.array(
        [len(strip_markers(r["response"].get("answer", "")).split()) for r in records if not r["scores"]["refused"]]
    )
    if len(lengths):
        boot = np.median(lengths[rng.integers(0, len(lengths), size=(resamples, len(lengths)))], axis=1)
        out["answer_words_median"] = {
            "value": float(np.median(lengths)),
            "ci": [float(x) for x in np.percentile(boot, [tail, 100 - tail])],
            "n": len(lengths),
            "label": "median answer length (words, answers given)",
            "higher_is_better": None,
        }
    for stage in sorted({s for r in records for s in r["response"].get("timings_ms", {})}):
        values = np.array(
            [r["response"]["timings_ms"][stage] for r in records if stage in r["response"].get("timings_ms", {})]
        )
        boot_idx = rng.integers(0, len(values), size=(resamples, len(values)))
        for p in PERCENTILES:
            boot = np.percentile(values[boot_idx], p, axis=1)
            out[f"latency_{stage}_p{p}"] = {
                "value": float(np.percentile(values, p)),
                "ci": [float(x) for x in np.percentile(boot, [tail, 100 - tail])],
                "n": len(values),
                "label": f"latency {stage.removesuffix('_ms')} p{p} (ms)",
                "higher_is_better": False,
            }
    return out


def point_values(records: list[dict]) -> dict[str, float | None]:
    """Metric values without intervals (for per-type breakdowns)."""
    values = {}
    for m in METRICS:
        parts = [m.part(r) for r in records]
        den = sum(d for _, d in parts)
        values[m.name] = sum(x for x, _ in parts) / den if den else None
    return values


__all__ = [
    "METRICS",
    "NOT_COVERED",
    "fully_right",
    "uncovered_said",
    "Metric",
    "score_response",
    "summarise",
    "point_values",
    "contains",
    "canonical",
    "evidence_matches",
    "retrieval_scores",
    "claims",
    "forecast_leak",
    "norm",
]
