"""One base exception for the whole package; subclasses say what to do next."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class: every error meant for a user. The message says what to do."""


class NoIndexError(AssistantError):
    """The store folder holds no index yet."""

    def __init__(self, store_dir: object) -> None:
        super().__init__(f"no index at {store_dir} — run: assistant index seeds/")


class StoreError(AssistantError):
    """The store is damaged or was written by an incompatible version."""


class StoreLockedError(AssistantError):
    """Another process is writing to the same store."""


class BadQuestionError(AssistantError):
    """The question cannot be answered as given (empty, too long, bad filter)."""


class ReadError(AssistantError):
    """One input file could not be read; the message names the file and the reason."""


class MissingExtraError(AssistantError):
    """An optional dependency is not installed; the message gives the install command."""


class LLMError(AssistantError):
    """The LLM could not be loaded or did not answer; the message says where and why."""


class DiskFullError(StoreError):
    """The disk ran full while the store was being written."""

    def __init__(self, where: object) -> None:
        super().__init__(
            f"the disk is full (writing {where}) — free some space and run the same command "
            "again: the store repairs what the interrupted run left half-written")


class CollectionGoneError(StoreError):
    """The Chroma collection a reader had open was replaced (a rebuild switched generations)."""
