"""Print the model sentences with the passages they cite, for labelling by hand."""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from build import model_sentences  # noqa: E402

done = (
    {json.loads(line)["id"] for line in (HERE / "labels_model.jsonl").open()}
    if (HERE / "labels_model.jsonl").exists()
    else set()
)
shown_q = set()
for m in model_sentences():
    if m["id"] in done:
        continue
    if m["qid"] not in shown_q:
        shown_q.add(m["qid"])
        print("=" * 20, m["qid"], m["question"])
        for p in m["all_passages"]:
            print(f"  P{p['n']}:", p["text"].replace("\n", " "))
    print(f"  >> {m['id']} {m['cited']} | {m['sentence']}")
