"""Errors a person can act on. Each message is one sentence that says what to do."""

from __future__ import annotations

from enum import StrEnum


class StationError(Exception):
    """An expected failure with a message fit to show a user."""


class InvalidInput(StationError):
    """The input can never be valid (empty, too large, binary, malformed)."""


class NotFound(StationError):
    pass


class Conflict(StationError):
    """The request is valid but the current state forbids it (e.g. activating an active pass)."""


class StorageCause(StrEnum):
    """Why the station's data could not be written; the value is the API's `error` code."""

    FULL = "storage_full"
    READ_ONLY = "storage_read_only"
    IO_ERROR = "storage_io_error"
    BUSY = "storage_busy"


# What happened, then what to do: the two halves of the one sentence a person reads.
_PROBLEM = {
    StorageCause.FULL: ("the disk is full", "free some space on it and try again"),
    StorageCause.READ_ONLY: ("the data folder cannot be written (read-only disk or permissions)",
                             "make it writable and try again"),
    StorageCause.IO_ERROR: ("the disk reported an input/output error",
                            "check the disk (or move the data folder) and try again"),
    StorageCause.BUSY: ("the database is locked by another program",
                        "close it or wait a moment and try again"),
}


class StorageError(StationError):
    """The disk refused a write (or the database could not be opened): an environment problem,
    not a bug. Nothing was written; the same action works again once the cause is gone."""

    def __init__(self, cause: StorageCause, doing: str = "save the change",
                 outcome: str = "nothing was changed") -> None:
        problem, remedy = _PROBLEM[cause]
        super().__init__(f"Could not {doing}: {problem} — {outcome}; {remedy}.")
        self.cause = cause

    def about(self, doing: str, outcome: str) -> StorageError:
        """The same failure told for a particular action, e.g. ("record the scan", "nothing
        was admitted")."""
        told = StorageError(self.cause, doing, outcome)
        told.__cause__ = self.__cause__
        return told
