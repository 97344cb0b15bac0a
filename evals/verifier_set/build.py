"""Build the labelled sentence set for measuring the sentence verifier.

    .venv/bin/python evals/verifier_set/build.py generate   # ask the local model (cached)
    .venv/bin/python evals/verifier_set/build.py assemble   # write sentences.jsonl

`generate` runs every answerable, history-free question of evals/dev_questions.jsonl and
evals/questions/answer_dev.jsonl through Assistant.examine and the OpenAI generator's prompt,
and appends to raw_outputs.jsonl: the question, the numbered passages (chunk text and the quotable
`.clean` sentences the model was shown) and the model's raw output. A rerun skips questions
already in the cache, so the model is not called twice.

`assemble` reads the cache, the hand labels of the model sentences (labels_model.jsonl, written
by reading each sentence against its cited passages) and the hand-written supported / corrupted
variants (variants.jsonl), and writes sentences.jsonl. It does not use assistant/verifier.py.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RAW = HERE / "raw_outputs.jsonl"
LABELS = HERE / "labels_model.jsonl"
VARIANTS = HERE / "variants.jsonl"
OUT = HERE / "sentences.jsonl"
CANNOT = "de bronnen geven hierop geen antwoord"


def questions() -> list[dict]:
    out = []
    for rel in ("evals/dev_questions.jsonl", "evals/questions/answer_dev.jsonl"):
        for line in (ROOT / rel).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            q = json.loads(line)
            if q.get("answerable") and "history" not in q:
                out.append(q)
    return out


def read_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def generate() -> None:
    sys.path.insert(0, str(ROOT))
    from assistant.core import Assistant
    from assistant.llm import LLMUnavailable
    from assistant.settings import LLMSettings, Settings

    s = Settings(generator="openai", llm=LLMSettings(base_url="http://127.0.0.1:8099/v1", model="qwen", timeout_s=120))
    # the brief's 120 s timed out on this shared, busy 2-core machine; 300 s lets the answers finish
    s.llm.timeout_s = 300
    a = Assistant.open(s)
    gen = a.generator
    kept = [r for r in read_jsonl(RAW) if not r.get("error")]  # retry the timed-out ones
    RAW.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8")
    done = {r["qid"] for r in kept}
    with RAW.open("a", encoding="utf-8") as f:
        for q in questions():
            if q["id"] in done:
                continue
            signals, hits, evidence, verdict = a.examine(q["question"])
            passages = gen.passages(evidence)
            rec = {
                "qid": q["id"],
                "question": q["question"],
                "passages": [
                    {
                        "n": p.n,
                        "chunk_id": p.chunk.id,
                        "source_id": p.chunk.source_id,
                        "page": p.chunk.page,
                        "text": p.chunk.text,
                        "shown": [it.clean for it in p.items],
                    }
                    for p in passages
                ],
            }
            t = time.perf_counter()
            if not passages:
                rec.update(raw="", seconds=0.0, error="no passages")
            else:
                try:
                    rec["raw"] = gen.complete(gen.messages(signals, passages))
                except LLMUnavailable as e:
                    rec.update(raw="", error=str(e))
                rec["seconds"] = round(time.perf_counter() - t, 2)
                try:
                    rec["sentences"] = [{"text": g.text, "passages": list(g.passages)} for g in gen.parse(rec["raw"])]
                except LLMUnavailable as e:
                    rec["parse_error"] = str(e)
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            f.flush()
            print(q["id"], rec.get("seconds"), len(rec.get("sentences", [])), flush=True)


def is_cannot(text: str) -> bool:
    return text.strip().rstrip(".").lower() == CANNOT


def model_sentences() -> list[dict]:
    """Every real model sentence (cannot-answer sentences left out), with a stable id."""
    out = []
    for r in read_jsonl(RAW):
        for i, s in enumerate(r.get("sentences", [])):
            if is_cannot(s["text"]):
                continue
            out.append(
                {
                    "id": f"M-{r['qid']}-{i}",
                    "qid": r["qid"],
                    "question": r["question"],
                    "sentence": s["text"],
                    "cited": s["passages"],
                    "all_passages": r["passages"],
                }
            )
    return out


def cited_passages(all_passages: list[dict], cited: list[int]) -> list[dict]:
    keep = [p for p in all_passages if p["n"] in cited]
    return [{k: p[k] for k in ("n", "chunk_id", "source_id", "page", "text")} for p in keep]


def assemble() -> None:
    labels = {rec["id"]: rec for rec in read_jsonl(LABELS)}
    rows = []
    missing = []
    for m in model_sentences():
        lab = labels.get(m["id"])
        if lab is None:
            missing.append(m["id"])
            continue
        rows.append(
            {
                "id": m["id"],
                "question": m["question"],
                "sentence": m["sentence"],
                "cited": m["cited"],
                "passages": cited_passages(m["all_passages"], m["cited"]),
                "origin": "model",
                "supported": bool(lab["supported"]),
                "note": lab.get("note", ""),
                "doubtful": bool(lab.get("doubtful", False)),
            }
        )
    cache = {r["qid"]: r for r in read_jsonl(HERE / "passages_cache.jsonl")}
    for v in read_jsonl(VARIANTS):
        r = cache[v["qid"]]
        rows.append(
            {
                "id": v["id"],
                "question": r["question"],
                "sentence": v["sentence"],
                "cited": v["cited"],
                "passages": cited_passages(r["passages"], v["cited"]),
                "origin": v["origin"],
                "supported": bool(v["supported"]),
                "note": v.get("note", ""),
                "doubtful": bool(v.get("doubtful", False)),
            }
        )
    if missing:
        print(f"unlabelled model sentences left out: {len(missing)}: {missing[:10]}")
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate ids"
    with OUT.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts: dict = {}
    for r in rows:
        key = (r["origin"], r["supported"])
        counts[key] = counts.get(key, 0) + 1
    for k in sorted(counts):
        print(k, counts[k])
    print("total", len(rows))


PASSAGES = HERE / "passages_cache.jsonl"


def dump_passages() -> None:
    """The numbered passages of every question (no model call), for the hand-made variants."""
    sys.path.insert(0, str(ROOT))
    from assistant.core import Assistant
    from assistant.settings import LLMSettings, Settings

    s = Settings(generator="openai", llm=LLMSettings(base_url="http://127.0.0.1:8099/v1", model="qwen", timeout_s=120))
    a = Assistant.open(s)
    gen = a.generator
    with PASSAGES.open("w", encoding="utf-8") as f:
        for q in questions():
            signals, hits, evidence, verdict = a.examine(q["question"])
            rec = {
                "qid": q["id"],
                "question": q["question"],
                "passages": [
                    {
                        "n": p.n,
                        "chunk_id": p.chunk.id,
                        "source_id": p.chunk.source_id,
                        "page": p.chunk.page,
                        "text": p.chunk.text,
                        "shown": [it.clean for it in p.items],
                    }
                    for p in gen.passages(evidence)
                ],
            }
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__" and sys.argv[1] == "passages":
    dump_passages()


if __name__ == "__main__" and sys.argv[1] != "passages":
    {"generate": generate, "assemble": assemble}[sys.argv[1]]()
