"""What the server processes must agree on: which signed requests were already seen (Slack and Teams replay
protection, Slack retries) and how many requests a client made (rate limits).

    state = get_state(settings)                       # RedisState when ASSISTANT_REDIS_URL is set, else MemoryState
    state.first_seen("slack-signature", key, 600)     # True once; False for a replay within 600 s
    state.hit("web", "key:abc", limit=60, window_s=60)  # 0.0 when allowed, else seconds to wait

`MemoryState` keeps both in this process, which is right for one process and wrong for two: a request
replayed to the other process would be answered, and each process would allow the full rate. `RedisState`
keeps them in Redis, with one atomic command each (SET NX PX; INCR and PEXPIRE in one Lua script), so any
number of processes on any number of machines count together. It raises `StoreUnavailable` when Redis cannot
be reached; each caller decides whether that fails closed (signed requests) or open (see channels/web.py).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

from .errors import ConfigError, StoreUnavailable

if TYPE_CHECKING:
    from .settings import Settings


@runtime_checkable
class SharedState(Protocol):
    def first_seen(self, kind: str, key: str, ttl_s: float) -> bool:
        """Remember `key` (of a `kind`: "slack-signature", "slack-event", ...) for `ttl_s` seconds. True the
        first time, False when it was already seen within its ttl. Raises StoreUnavailable when the store
        cannot be asked, so a caller never takes a replay for a first request."""

    def hit(self, kind: str, key: str, limit: int, window_s: float) -> float:
        """Count one request of `key` against at most `limit` per `window_s` seconds. Returns 0.0 when
        allowed, else the seconds until the next request is. Raises StoreUnavailable like `first_seen`."""


# ---------------------------------------------------------------------------
# In this process


class SeenCache:
    """A set whose entries expire after `ttl` seconds (replay protection, retry de-duplication)."""

    def __init__(self, ttl: float, max_entries: int = 50_000):
        self.ttl = ttl
        self.max_entries = max_entries
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, key: str) -> bool:
        """Remember `key`; returns False when it was already seen within the last `ttl` seconds."""
        now = time.monotonic()
        with self._lock:
            if len(self._seen) >= self.max_entries or len(self._seen) % 256 == 0:
                self._expire(now)
            seen_at = self._seen.get(key)
            if seen_at is not None and now - seen_at < self.ttl:
                return False
            self._seen[key] = now
            return True

    def _expire(self, now: float) -> None:
        for key in [k for k, t in self._seen.items() if now - t >= self.ttl]:
            del self._seen[key]
        while len(self._seen) >= self.max_entries:  # still full of fresh keys: drop the oldest
            del self._seen[next(iter(self._seen))]


class RateLimiter:
    """At most `per_minute` requests per client key in any sliding 60-second window."""

    def __init__(self, per_minute: int, window: float = 60.0):
        self.per_minute, self.window = per_minute, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> float:
        """Count a request; returns 0 when allowed, else the seconds until the next one is."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return self.window - (now - hits[0])
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients so the table stays small
                self._hits = {k: v for k, v in self._hits.items() if v and now - v[-1] < self.window}
            return 0.0


class MemoryState:
    """Replay memory and rate counts in this process (the default: one server process)."""

    def __init__(self):
        self._seen: dict[tuple[str, float], SeenCache] = {}
        self._limits: dict[tuple[str, int, float], RateLimiter] = {}
        self._lock = threading.Lock()

    def first_seen(self, kind: str, key: str, ttl_s: float) -> bool:
        with self._lock:
            cache = self._seen.setdefault((kind, ttl_s), SeenCache(ttl_s))
        return cache.add(key)

    def hit(self, kind: str, key: str, limit: int, window_s: float) -> float:
        with self._lock:
            limiter = self._limits.setdefault((kind, limit, window_s), RateLimiter(limit, window_s))
        return limiter.check(key)


# ---------------------------------------------------------------------------
# In Redis

# Fixed window: the first request of a window creates the counter with the window as its expiry, in the same
# atomic step as the increment, so a counter never lives on without one. Returns the count and the ms left.
_FIXED_WINDOW = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
"""


class RedisState:
    """Replay memory and rate counts in Redis, shared by every process that uses the same URL."""

    def __init__(self, url: str, prefix: str = "aimi:", timeout_s: float = 2.0):
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ModuleNotFoundError as exc:
            raise ConfigError("ASSISTANT_REDIS_URL is set but redis-py is missing; pip install redis.") from exc
        self._errors = (redis.RedisError, OSError)
        self.where = _without_password(url)
        self.prefix = prefix
        try:
            # One quick retry (a pooled connection that died with a Redis restart), then the error: a request
            # waits seconds at most, never the library's default backoff.
            self._redis = redis.Redis.from_url(
                url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 1)
            )
        except ValueError as exc:
            raise ConfigError(f"ASSISTANT_REDIS_URL is not a Redis URL: {exc}") from None
        self._window = self._redis.register_script(_FIXED_WINDOW)

    def _key(self, kind: str, key: str) -> str:
        # keys hold signatures and API keys: store a digest, never the secret itself
        return f"{self.prefix}{kind}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"

    def first_seen(self, kind: str, key: str, ttl_s: float) -> bool:
        try:
            return bool(self._redis.set(self._key(kind, key), b"1", nx=True, px=max(1, int(ttl_s * 1000))))
        except self._errors as exc:
            raise self._unavailable(exc) from exc

    def hit(self, kind: str, key: str, limit: int, window_s: float) -> float:
        window_ms = max(1, int(window_s * 1000))
        try:
            count, ttl_ms = self._window(keys=[self._key(f"rate:{kind}", key)], args=[window_ms])
        except self._errors as exc:
            raise self._unavailable(exc) from exc
        return 0.0 if int(count) <= limit else max(int(ttl_ms), 1) / 1000

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(f"Redis at {self.where} is unreachable ({type(exc).__name__}: {exc})")


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def get_state(settings: Settings) -> SharedState:
    """RedisState when `settings.redis_url` is set, else MemoryState."""
    return RedisState(settings.redis_url) if settings.redis_url else MemoryState()


__all__ = ["SharedState", "MemoryState", "RedisState", "SeenCache", "RateLimiter", "get_state"]
