"""Errors the assistant raises on purpose.

    AssistantError
    ├── ConfigError          a setting or manifest entry is wrong; fix the configuration
    ├── CorpusError          a source file cannot be read or is unusable
    ├── IndexNotBuiltError   no index for the current settings; run `assistant ingest`
    ├── QuestionError        the question itself is unusable (empty, too long)
    ├── SourceEditError      the content team's change to the sources is refused (admin.py); nothing changed
    │   ├── SourceNotFound   no source with that id
    │   ├── SourceConflict   the id is taken, or a re-index is already running
    │   └── SourceTooLarge   the uploaded file is above the size limit
    └── BackendError         an embedder, vector store or generator failed
        ├── StoreUnavailable  a shared store (the audit database, Redis) cannot be reached
        └── IndexUnavailable  the Chroma server cannot be reached (the next request tries again)

Adapters wrap library errors (pypdf, chromadb, models) in one of these with
`raise ... from exc`; each channel catches `AssistantError` once. `message_nl` is
what an advisor reads; `str(exc)` is the English message for logs and the CLI.
"""

from __future__ import annotations


class AssistantError(Exception):
    message_nl = "Er ging iets mis in de assistent. Probeer het later opnieuw of neem contact op met de beheerder."

    def __init__(self, message: str, message_nl: str | None = None):
        super().__init__(message)
        if message_nl:
            self.message_nl = message_nl


class ConfigError(AssistantError):
    message_nl = "De assistent is niet goed ingesteld. Neem contact op met de beheerder."


class CorpusError(AssistantError):
    message_nl = "Een bron kon niet worden gelezen. De overige bronnen zijn nog beschikbaar."


class IndexNotBuiltError(AssistantError):
    message_nl = "De bronnen zijn nog niet geïndexeerd. Probeer het over een paar minuten opnieuw."


class QuestionError(AssistantError):
    message_nl = "Deze vraag kan ik niet verwerken."


class BackendError(AssistantError):
    message_nl = "Een onderdeel van de assistent reageert niet. Probeer het later opnieuw."


class StoreUnavailable(BackendError):
    message_nl = "De gedeelde opslag van de assistent is even niet bereikbaar. Probeer het over enkele minuten opnieuw."


class SourceEditError(AssistantError):
    message_nl = "Deze wijziging aan de bronnen is niet doorgevoerd. De bronnen en de index zijn ongewijzigd."


class SourceNotFound(SourceEditError):
    message_nl = "Deze bron bestaat niet (meer)."


class SourceConflict(SourceEditError):
    message_nl = "Deze wijziging botst met een bestaande bron of een lopende herindexering."


class SourceTooLarge(SourceEditError):
    message_nl = "Het bestand is te groot."


class IndexUnavailable(BackendError):
    message_nl = (
        "De zoekindex van de assistent is even niet bereikbaar, dus er kan nu geen antwoord uit de bronnen worden "
        "gegeven. Probeer het over een minuut opnieuw."
    )
