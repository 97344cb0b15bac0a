"""Channels: thin adapters (web, Slack, Teams) over the one `Assistant`.

Each adapter checks its request, calls `Services.answer()` and renders the `Answer`.
`web.create_app` builds the FastAPI app and mounts every other channel module found
here through its `mount(app, services)` function.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from typing import Callable

from ..admin import Admin
from ..audit import AuditLog
from ..core import Assistant
from ..errors import IndexNotBuiltError
from ..settings import Settings
from ..state import SharedState, get_state
from ..types import Answer

MOUNTED_CHANNELS = ("slack", "teams")


@dataclass
class Services:
    """What every channel shares: settings, the assistant (once the index is ready), the audit log, and the
    state every server process must agree on (replay protection, rate limits; `state.py`)."""

    settings: Settings
    audit: AuditLog
    _assistant: Assistant | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    state: SharedState | None = None
    _admin: Admin | None = None

    def __post_init__(self) -> None:
        if self.state is None:
            self.state = get_state(self.settings)

    @property
    def assistant(self) -> Assistant:
        """The assistant; raises IndexNotBuiltError while no index is available."""
        with self._lock:
            if self._assistant is None:
                self._assistant = Assistant.open(self.settings)
            return self._assistant

    def reload(self) -> None:
        with self._lock:
            self._assistant = None

    def current(self) -> Assistant | None:
        """The assistant advisors are answered by now, or None while there is no index."""
        try:
            return self.assistant
        except IndexNotBuiltError:
            return None

    def swap(self, assistant: Assistant | None) -> None:
        """Answer from now on with `assistant` (a re-index finished); None: there is no index any more.
        A question already being answered finishes on the assistant it started with."""
        with self._lock:
            self._assistant = assistant

    @property
    def admin(self) -> Admin:
        """The content team's side (admin.py), made once."""
        with self._lock:
            if self._admin is None:
                self._admin = Admin(self.settings, self.audit, self.current, self.swap)
            return self._admin

    def answer(
        self,
        question: str,
        channel: str,
        conversation_id: str | None = None,
        on_text: Callable[[str], None] | None = None,
    ) -> tuple[Answer, str]:
        """Ask with the conversation's earlier questions, record it; returns (answer, answer_id).
        `on_text` gets a writing generator's unverified text as it comes (the web chat's live view)."""
        history = self.audit.history(conversation_id) if conversation_id else []
        assistant = self.assistant
        answer = assistant.ask(question, history=history, on_text=on_text)
        versions = {
            sid: assistant.snapshot.meta_versions.get(sid, "") for sid in {c.source_id for c in answer.citations}
        }
        answer_id = self.audit.record(answer, channel, conversation_id, versions)
        return answer, answer_id


def channel_mounts() -> list[Callable]:
    """`mount(app, services)` of each channel module that exists (slack, teams)."""
    mounts = []
    for name in MOUNTED_CHANNELS:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                continue
            raise
        mounts.append(module.mount)
    return mounts
