"""Append hand labels to labels_model.jsonl from lines 'id | T or F | note [| ?]' on stdin
('?' at the end marks a label I am not sure of)."""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
with (HERE / "labels_model.jsonl").open("a", encoding="utf-8") as f:
    for line in sys.stdin:
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        rec = {"id": parts[0], "supported": parts[1] == "T", "note": parts[2] if len(parts) > 2 else ""}
        if len(parts) > 3 and parts[3] == "?":
            rec["doubtful"] = True
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
