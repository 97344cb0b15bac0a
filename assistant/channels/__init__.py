"""Channels: thin adapters (web, Slack, Teams) over the one `Assistant`.

Each adapter checks its request, calls `Services.answer()` and renders the `Answer`.
`web.create_app` builds the FastAPI app and mounts every other channel the settings configure
through its module's `mount(app, services)`; the Slack and Teams SDKs are the optional extras
`[slack]` and `[teams]`.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field
from typing import Callable

from ..admin import Admin
from ..audit import AuditLog
from ..core import Assistant
from ..errors import ConfigError, IndexNotBuiltError
from ..settings import Settings
from ..state import SharedState, get_state
from ..types import Answer


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


def channel_mounts(settings: Settings) -> list[Callable]:
    """`mount(app, services)` of each channel the settings configure (slack, teams). Their SDKs are optional
    extras: a configured channel whose extra is not installed is a ConfigError that says what to install,
    an unconfigured one is not imported at all."""
    mounts = []
    for name, (configured, extra, setting) in _channel_needs(settings).items():
        if not configured:
            continue
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] == __name__.split(".")[0]:
                raise  # our own module is missing: a broken install, not an extra
            raise ConfigError(
                f"{setting} is set, but the {name} face needs the '{extra}' extra ({exc.name} is not installed): "
                f"pip install -e '.[{extra}]'"
            ) from exc
        mounts.append(module.mount)
    return mounts


def _channel_needs(settings: Settings) -> dict[str, tuple[bool, str, str]]:
    """channel -> (configured, the pyproject extra with its SDK, the setting that configures it)."""
    slack, teams = settings.slack, settings.teams
    return {
        "slack": (
            bool(slack.signing_secret or slack.app_token),
            "slack",
            "ASSISTANT_SLACK__SIGNING_SECRET" if slack.signing_secret else "ASSISTANT_SLACK__APP_TOKEN",
        ),
        "teams": (
            bool(teams.outgoing_webhook_secret or teams.bot_enabled),
            "teams",
            "ASSISTANT_TEAMS__OUTGOING_WEBHOOK_SECRET"
            if teams.outgoing_webhook_secret
            else "ASSISTANT_TEAMS__BOT_ENABLED",
        ),
    }
