"""Print draft variants of the given origins with their cited passage text, for reading by hand."""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
kinds = set(sys.argv[1].split(","))
full = len(sys.argv) > 2
pas = {r["qid"]: r["passages"] for r in map(json.loads, (HERE / "passages_cache.jsonl").open())}
for v in map(json.loads, (HERE / "variants_draft.jsonl").open()):
    if v["origin"] not in kinds:
        continue
    print(v["id"], v["cited"], "|", v["sentence"])
    if v["sentence"] != v["from"]:
        print("    FROM:", v["from"])
    if full:
        for p in pas[v["qid"]]:
            if p["n"] in v["cited"]:
                print("    CITED P%d:" % p["n"], p["text"].replace("\n", " ")[:1200])
