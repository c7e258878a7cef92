"""Errors a person can act on. Each message is one sentence that says what to do."""


class StationError(Exception):
    """An expected failure with a message fit to show a user."""


class InvalidInput(StationError):
    """The input can never be valid (empty, too large, binary, malformed)."""


class NotFound(StationError):
    pass


class Conflict(StationError):
    """The request is valid but the current state forbids it (e.g. activating an active pass)."""
