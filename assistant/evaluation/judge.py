"""Support judges: does a passage support an answer sentence? (yes / partial / no)

The citation metrics ask this question thousands of times, so the default judge is
offline and deterministic (`lexical`). Others are chosen by name through `get_judge`,
as backends are: `nli` wraps a sentence-transformers CrossEncoder NLI model given as a
local path. Register another with `register_judge("name", factory)`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Literal, Protocol, runtime_checkable

from ..errors import BackendError, ConfigError
from ..text import STOPWORDS_BASE, content_terms
from .metrics import figures

# The judge's own stopwords (the Snowball Dutch list and question words and fillers), frozen with the
# judge's calibration (evals/JUDGE_CALIBRATION.md): the pipeline's language file may change, the
# metric must not move with it.
JUDGE_STOPWORDS = STOPWORDS_BASE | frozenset(
    """
welk welke wanneer waar waarom hoeveel hoeveelheid waardoor waarmee wat hoe eigenlijk precies ongeveer volgens
rapport regio beeld bron bronnen graag kun kunt jij jou jouw jullie we wij onze zijn gaan gaat worden wordt zullen
zou zouden hebben heeft had waren was is er nou even mij ik daarvan hiervan daarbij dan dus nog al ook veel meer
minder groot grootte aantal aandeel procent percentage de het een zo bij sinds via per wel weer eens staan stonden
staat komen komt kom zit zitten vooral meestal inmiddels momenteel tegenwoordig huidige huidig nu zeer erg heel echt
vaak soms alleen daarna daarvoor vervolgens juist eerder later vlak weleens ooit tussen daarmee eind begin medio
halverwege waarbij scoort hierover daarover zoal zoals bijvoorbeeld mensen soort the what of in how many does do a
an and to for
""".split()
)

Label = Literal["yes", "partial", "no"]
LABELS: tuple[Label, ...] = ("yes", "partial", "no")


@runtime_checkable
class SupportJudge(Protocol):
    """Decides how far `passage` supports `sentence`.

    Returns "yes" when the passage states every claim of the sentence (paraphrase and
    equivalent number formats count), "partial" when it supports some claim and
    contradicts none, "no" when it contradicts a claim or supports none. `name`
    identifies the judge in reports. Must be deterministic for a given input.
    """

    name: str

    def judge(self, sentence: str, passage: str) -> Label: ...


@dataclass
class LexicalJudge:
    """Stemmed content-word overlap plus exact numeric agreement.

    coverage = share of the sentence's stemmed content words (Dutch stopwords out,
    numbers out) found in the passage. Numbers are compared in canonical form
    (`metrics.figures`: "12.500" = "12500", "71,4%" = "71,4 procent", "7 op de 10" = "70%",
    "vijftien" = "15"); a number of the
    sentence that the passage lacks is taken as a contradiction ("no"), because an
    unverifiable figure is the failure that matters most to an advisor.
    yes: all numbers present and coverage >= `yes_at`; partial: coverage >= `partial_at`.
    The two thresholds were chosen on the odd-numbered pairs of evals/judge_calibration.jsonl
    (grid search for Cohen's kappa); the even-numbered pairs measure them (see `calibrate`).
    Word overlap cannot see swapped roles (a figure moved from "landelijk" to Groningen, a
    reversed direction): use an NLI judge where that matters.
    """

    yes_at: float = 0.7
    partial_at: float = 0.3
    name: str = "lexical"

    def judge(self, sentence: str, passage: str) -> Label:
        (s_figures, terms), (p_figures, p_terms) = _profile(sentence), _profile(passage)
        if s_figures - p_figures:
            return "no"
        if not terms:
            return "yes"
        coverage = len(terms & p_terms) / len(terms)
        if coverage >= self.yes_at:
            return "yes"
        return "partial" if coverage >= self.partial_at else "no"


@lru_cache(maxsize=8192)
def _profile(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(canonical numbers, stemmed content words) of a text; passages are judged many times."""
    return frozenset(figures(text)), frozenset(content_terms(text, JUDGE_STOPWORDS))


class CrossEncoderNLIJudge:
    """An NLI cross-encoder (sentence-transformers) read as premise=passage, hypothesis=sentence.

    yes when P(entailment) >= `yes_at`; no when contradiction is the most likely label
    or P(entailment) < `partial_at`; partial otherwise. The model must be local
    (there is no network): ASSISTANT_EVAL_NLI_MODEL=/path/to/nli-model.
    """

    def __init__(self, model: str | None = None, yes_at: float = 0.5, partial_at: float = 0.2):
        model = model or os.environ.get("ASSISTANT_EVAL_NLI_MODEL", "")
        if not model:
            raise ConfigError(
                "The nli judge needs a local CrossEncoder NLI model: set ASSISTANT_EVAL_NLI_MODEL=/path/to/model."
            )
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:
            raise ConfigError(
                "The nli judge needs sentence-transformers; `pip install torch==2.13.0 -e .[st]`."
            ) from exc
        try:
            self._model = CrossEncoder(model, device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any loader failure becomes one clear error
            raise BackendError(f"Could not load NLI model {model!r} ({exc}); give a local model folder.") from exc
        id2label = {int(i): str(lab).lower() for i, lab in self._model.config.id2label.items()}
        try:
            self._entail = next(i for i, lab in id2label.items() if lab.startswith("entail"))
            self._contra = next(i for i, lab in id2label.items() if lab.startswith("contra"))
        except StopIteration:
            raise ConfigError(f"{model!r} is not an NLI model (labels {sorted(id2label.values())}).") from None
        self.yes_at, self.partial_at = yes_at, partial_at
        self.name = f"nli:{os.path.basename(model.rstrip('/'))}"

    def judge(self, sentence: str, passage: str) -> Label:
        probs = self._model.predict([(passage, sentence)], apply_softmax=True, show_progress_bar=False)[0]
        if probs[self._entail] >= self.yes_at:
            return "yes"
        if int(probs.argmax()) == self._contra or probs[self._entail] < self.partial_at:
            return "no"
        return "partial"


JUDGES: dict[str, Callable[..., SupportJudge]] = {"lexical": LexicalJudge, "nli": CrossEncoderNLIJudge}


def register_judge(name: str, factory: Callable[..., SupportJudge]) -> None:
    JUDGES[name] = factory


def get_judge(name: str | None = None, **options) -> SupportJudge:
    """Resolve a judge by name (default: ASSISTANT_EVAL_JUDGE, else `lexical`)."""
    name = name or os.environ.get("ASSISTANT_EVAL_JUDGE", "lexical")
    try:
        factory = JUDGES[name]
    except KeyError:
        raise ConfigError(
            f"Unknown support judge {name!r}; choose from {', '.join(JUDGES)} (ASSISTANT_EVAL_JUDGE)."
        ) from None
    return factory(**options)


__all__ = [
    "SupportJudge",
    "LexicalJudge",
    "CrossEncoderNLIJudge",
    "JUDGES",
    "LABELS",
    "Label",
    "get_judge",
    "register_judge",
]
