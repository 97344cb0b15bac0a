"""Reading JSONL files (question sets, hand-labelled pairs): one JSON object per line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from ..errors import ConfigError


def read_jsonl(path: Path, hint: str = "") -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-empty line; `ConfigError` naming the line
    (plus `hint`, e.g. where the format is described) for a line that is not a JSON object."""
    suffix = f"; {hint}" if hint else ""
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{lineno}: not valid JSON ({exc.msg}){suffix}.") from exc
        if not isinstance(row, dict):
            raise ConfigError(f"{path}:{lineno}: each line needs a JSON object{suffix}.")
        yield lineno, row
