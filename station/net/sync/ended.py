"""How a hub session ends: one exception type per thing the sync client does next.

A `HubSession` never returns; it raises one of these, and `SyncClient` decides: reconnect at
once, ask again later, or stop for this run. Errors are classified by type where they happen
(`classify`), never by matching text later.
"""

from __future__ import annotations

import asyncio

from station.domain.errors import StationError
from station.net.sync import membership
from station.net.sync.auth import is_auth_refusal


class SessionEnded(Exception):
    """A session with the hub is over; the subclass says why."""


class AuthRefused(SessionEnded):
    """The hub refused this station's user or password (retrying will not help by itself)."""


class WrongOrganisation(SessionEnded):
    """The hub serves another organisation than this station's data belongs to: final."""


class HubUnsuitable(SessionEnded, StationError):
    """The hub answers but cannot serve stations as it is (too old, no JetStream): asked
    again after a while."""


class HubNotTrusted(SessionEnded):
    """The server at the hub's address showed another certificate than the join URL pins:
    nothing was sent to it. Asked again after a while (the right hub may come back)."""


class PlaintextRefused(SessionEnded):
    """The sync URL is plaintext (nats://, from before TLS): never connected to; a person has
    to paste the hub's current join URL."""


class SessionLost(SessionEnded):
    """Anything else: the connection or the hub failed in a way a new session may ride out."""


def classify(exc: BaseException) -> SessionEnded:
    """The SessionEnded an error that stopped a session stands for."""
    if isinstance(exc, SessionEnded):
        return exc
    if isinstance(exc, membership.OtherOrganisation):
        return WrongOrganisation(str(exc))
    if is_auth_refusal(exc):
        return AuthRefused(str(exc))
    return SessionLost(str(exc))


def first_cause(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The error that ended a task group: a SessionEnded if one task raised it, else the first
    other error (the cancellations of the tasks stopped after it do not count)."""
    leaves: list[BaseException] = []

    def walk(g: BaseExceptionGroup[BaseException]) -> None:
        for exc in g.exceptions:
            if isinstance(exc, BaseExceptionGroup):
                walk(exc)
            elif not isinstance(exc, asyncio.CancelledError):
                leaves.append(exc)

    walk(group)
    for exc in leaves:
        if isinstance(exc, SessionEnded):
            return exc
    return leaves[0] if leaves else group

