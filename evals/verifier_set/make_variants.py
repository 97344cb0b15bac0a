"""Candidate copied / paraphrased / corrupted sentences from the quotable sentences (`.clean`) of the
numbered passages in passages_cache.jsonl; written to variants_draft.jsonl with the label the
construction intends. Every candidate was then read against its cited passage by hand
(review_variants.py prints them) and the final labels and notes are in variants.jsonl.

Deterministic (seeded), so a rerun gives the same candidates.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
rng = random.Random(20261202)

NUM = re.compile(r"(?<![\w.,])(\d{1,3}(?:\.\d{3})+|\d+(?:,\d+)?)(\s?%)?(?![\w])")
FORECAST = re.compile(r"verwacht|prognose|\bzal\b|\bzullen\b|voorspel|raming|ramen|toekomst|komende", re.I)


def is_year(s: str) -> bool:
    return re.fullmatch(r"(19|20)\d\d", s) is not None


REF = re.compile(r"(afbeelding|paragraaf|hoofdstuk|box|tabel|eu-|p\.)\s?$", re.I)


def figures(sent: str) -> list[re.Match]:
    """Figures of a sentence: not years, not references (afbeelding 4.2, paragraaf 3.3, EU-27)."""
    return [
        m
        for m in NUM.finditer(sent)
        if not is_year(m.group(1))
        and not REF.search(sent[max(0, m.start() - 12) : m.start()])
        and not re.match(r"\.\d", sent[m.end() : m.end() + 2])
    ]


def value(s: str) -> float:
    return float(s.replace(".", "").replace(",", "."))


def fmt_like(v: float, like: str) -> str:
    if "," in like:
        dec = len(like.split(",")[1])
        return f"{v:.{dec}f}".replace(".", ",")
    n = int(round(v))
    if "." in like:
        return f"{n:,}".replace(",", ".")
    return str(n)


def swapped(s: str, pct: bool = False) -> str:
    if pct and value(s) * 1.3 + 2 > 100:
        v = value(s)
        return fmt_like(v * 0.7, s)
    v = value(s)
    if "." in s:  # 12.500 -> 16.000: two significant digits
        step = 10 ** (len(s.replace(".", "")) - 2)
        new = round(v * 1.3 / step) * step
    elif "," in s:
        new = v * 1.3 + 0.4
    else:
        new = round(v * 1.3) + 2
    out = fmt_like(new, s)
    return out if out != s else fmt_like(v + 3, s)


def words(s: str) -> set[str]:
    return {w for w in re.findall(r"[a-zà-ÿ]{4,}", s.lower())}


def strip_end(s: str) -> str:
    return s.rstrip().rstrip(".:;")


ADDED = [
    (", vooral door de sterke groei van de toeristische sector", "toeris"),
    (", waarbij de gemeente Assen de grootste stijging liet zien", "assen"),
    (", met name onder vrouwen ouder dan 55 jaar", "vrouwen"),
    (", vooral als gevolg van de sluiting van de suikerfabriek in Hoogkerk", "suiker"),
    (", terwijl het aantal zzp'ers in dezelfde periode verdubbelde", "zzp"),
    (", en dat is twee keer zoveel als in Friesland", "friesland"),
    (", vooral in de logistiek rond Eemshaven", "eemshaven"),
    (", wat volgens de bron vooral komt door de nieuwe datacenters", "datacenter"),
]
FORECASTS = [
    " en dit zal naar verwachting verder stijgen.",
    ", en naar verwachting zet deze ontwikkeling zich de komende jaren voort.",
    "; in 2026 zal dit naar verwachting nog verder toenemen.",
    " en de verwachting is dat dit de komende jaren zo blijft.",
]
OPINIONS = [
    lambda s: f"{strip_end(s)}; dit is een zorgwekkende ontwikkeling.",
    lambda s: f"Het is verstandig om hier als adviseur op in te spelen: {s}",
    lambda s: f"{strip_end(s)}, wat een positieve ontwikkeling is.",
    lambda s: f"{strip_end(s)}, dus werkgevers doen er goed aan hierop nu al te anticiperen.",
    lambda s: (
        f"Het is verstandig om werkzoekenden hierop te wijzen, want {s[0].lower() + s[1:] if s.split()[0].lower() in STOPFIRST else s}"
    ),
    lambda s: (
        f"Dit is een zorgwekkende ontwikkeling: {s[0].lower() + s[1:] if s.split()[0].lower() in STOPFIRST else s}"
    ),
]
STOPFIRST = {
    "het",
    "de",
    "een",
    "in",
    "dat",
    "dit",
    "er",
    "van",
    "bijna",
    "ook",
    "daarvan",
    "al",
    "eind",
    "aan",
    "volgens",
    "zo",
    "deze",
    "sommige",
    "vooral",
    "daarnaast",
    "tussen",
    "onder",
    "naast",
    "gemiddeld",
    "meer",
    "ruim",
    "tegelijkertijd",
    "als",
    "door",
    "op",
    "ten",
    "uit",
    "met",
    "bij",
    "vanaf",
    "zij",
    "ze",
    "hierdoor",
    "daarom",
    "toch",
    "wel",
}


def paraphrase_format(s: str) -> str | None:
    """The same sentence with one figure written in another valid Dutch format."""
    for m in figures(s):
        num, pct = m.group(1), m.group(2)
        if pct:
            return s[: m.start()] + f"{num} procent" + s[m.end() :]
        if "." in num and num.endswith(".000"):
            return s[: m.start()] + f"{num[:-4]} duizend" + s[m.end() :]
        if "." in num and num.endswith("00") and len(num) <= 7:
            thousands = value(num) / 1000
            return s[: m.start()] + fmt_like(thousands, "0,0") + " duizend" + s[m.end() :]
        if "." in num:
            return s[: m.start()] + num.replace(".", "") + s[m.end() :]
    return None


def main() -> None:
    rows = [json.loads(line) for line in (HERE / "passages_cache.jsonl").read_text(encoding="utf-8").splitlines()]
    out: list[dict] = []
    seen: set[str] = set()
    counts: dict[str, int] = {}
    cap = 40

    def add(qid: str, kind: str, sentence: str, cited: list[int], supported: bool, note: str, source: str) -> None:
        key = sentence + str(cited)
        if key in seen or counts.get(kind, 0) >= cap:
            return
        seen.add(key)
        counts[kind] = counts.get(kind, 0) + 1
        out.append(
            {
                "id": f"V-{kind.replace(':', '-')}-{counts[kind]:02d}",
                "qid": qid,
                "origin": kind,
                "sentence": sentence,
                "cited": cited,
                "supported": supported,
                "note": note,
                "from": source,
            }
        )

    used_sent: set[str] = set()
    order = rows[:]
    rng.shuffle(order)
    for r in order:
        ps = r["passages"]
        for p in ps:
            text = p["text"]
            cands = [s for s in p["shown"] if len(s.split()) >= 6 and s not in used_sent]
            rng.shuffle(cands)
            for s in cands[:3]:
                used_sent.add(s)
                figs = figures(s)
                kinds = ["copied", "paraphrase", "corrupt:added_claim", "corrupt:opinion"]
                if figs:
                    kinds += ["corrupt:swapped_figure", "corrupt:wrong_passage", "corrupt:wrong_measure"]
                if not FORECAST.search(text):
                    kinds.append("corrupt:invented_forecast")
                rng.shuffle(kinds)
                for kind in kinds[:3]:
                    n = p["n"]
                    if kind == "copied":
                        add(r["qid"], kind, s, [n], True, "", s)
                    elif kind == "paraphrase":
                        para = paraphrase_format(s)
                        if para:
                            add(r["qid"], kind, para, [n], True, "", s)
                    elif kind == "corrupt:swapped_figure":
                        m = rng.choice(figs)
                        new = swapped(m.group(1), bool(m.group(2)))
                        if new in text:
                            continue
                        sent = s[: m.start(1)] + new + s[m.end(1) :]
                        add(
                            r["qid"],
                            kind,
                            sent,
                            [n],
                            False,
                            f"{m.group(1)} changed to {new}; the passage says {m.group(1)}",
                            s,
                        )
                    elif kind == "corrupt:wrong_passage":
                        others = [
                            o
                            for o in ps
                            if o["n"] != n
                            and not any(f.group(1) in o["text"] for f in figs)
                            and len(words(s) & words(o["text"])) < 0.5 * max(1, len(words(s)))
                        ]
                        if others:
                            o = rng.choice(others)
                            add(
                                r["qid"],
                                kind,
                                s,
                                [o["n"]],
                                False,
                                f"the sentence is from passage {n}, but only passage {o['n']} is cited, which does not state it",
                                s,
                            )
                    elif kind == "corrupt:wrong_measure":
                        distinct = []
                        for f in figs:
                            if f.group(1) not in [d.group(1) for d in distinct]:
                                distinct.append(f)
                        pair = None
                        for i in range(len(distinct)):
                            for j in range(i + 1, len(distinct)):
                                a, b = distinct[i], distinct[j]
                                between = s[a.end(1) : b.start(1)]
                                if (
                                    bool(a.group(2)) == bool(b.group(2))
                                    and ("." in a.group(1)) == ("." in b.group(1))
                                    and (
                                        between.strip(" %-") not in {"en", "of", "tot", "op de", "tot en met"}
                                        or "respectievelijk" in s
                                    )
                                ):
                                    pair = pair or (a, b)
                        if pair:
                            a, b = pair
                            sent = s[: a.start(1)] + b.group(1) + s[a.end(1) : b.start(1)] + a.group(1) + s[b.end(1) :]
                            add(
                                r["qid"],
                                kind,
                                sent,
                                [n],
                                False,
                                f"{a.group(1)} and {b.group(1)} swapped between their measures",
                                s,
                            )
                        else:
                            # a figure of another sentence of the same passage put on this sentence's measure
                            pool = [
                                f
                                for o in p["shown"]
                                if o != s
                                for f in figures(o)
                                if bool(f.group(2)) == bool(figs[0].group(2))
                                and f.group(1) != figs[0].group(1)
                                and ("." in f.group(1)) == ("." in figs[0].group(1))
                                and ("," in f.group(1)) == ("," in figs[0].group(1))
                            ]
                            if pool:
                                f = rng.choice(pool)
                                sent = s[: figs[0].start(1)] + f.group(1) + s[figs[0].end(1) :]
                                add(
                                    r["qid"],
                                    kind,
                                    sent,
                                    [n],
                                    False,
                                    f"{f.group(1)} belongs to another measure in the passage; here it replaces {figs[0].group(1)}",
                                    s,
                                )
                    elif kind == "corrupt:added_claim":
                        opts = [a for a in ADDED if a[1] not in text.lower()]
                        clause, _ = rng.choice(opts)
                        add(
                            r["qid"],
                            kind,
                            strip_end(s) + clause + ".",
                            [n],
                            False,
                            f"invented clause '{clause.strip(', ')}' is not in the passage",
                            s,
                        )
                    elif kind == "corrupt:invented_forecast":
                        add(
                            r["qid"],
                            kind,
                            strip_end(s) + rng.choice(FORECASTS),
                            [n],
                            False,
                            "invented expectation; the passage states no forecast",
                            s,
                        )
                    elif kind == "corrupt:opinion":
                        add(r["qid"], kind, rng.choice(OPINIONS)(s), [n], False, "adds an opinion/advice of its own", s)
    with (HERE / "variants_draft.jsonl").open("w", encoding="utf-8") as f:
        for v in out:
            f.write(json.dumps(v, ensure_ascii=False) + "\n")
    print(counts, len(out))


if __name__ == "__main__":
    main()
