"""The hook through which a door claims a single-use pass at the hub before admitting it.

Services know nothing of the network: the composition root sets `ScanService.claimer` to a
callable provided by the sync part. The call is made before the scan's transaction and must
return within its own short timeout; when it cannot ask anybody it answers OFFLINE and the
door decides alone (the fold flags a double entry later).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass


class ClaimState(enum.StrEnum):
    CLAIMED = "claimed"  # this door holds the pass now: admit
    TAKEN = "taken"  # another door admitted it first: refuse
    OFFLINE = "offline"  # nobody answered in time: decide on local knowledge


@dataclass(frozen=True, slots=True)
class Claim:
    state: ClaimState
    holder: str | None = None  # station id of the door that holds the pass
    holder_name: str | None = None
    at: str | None = None  # ISO time of the holder's claim
    fresh: bool = False  # this very call made the claim (it was nobody's before)
    pass_id: str | None = None  # the pass claimed (set by ScanService)


# Called with the pass id; must return within its own timeout, never raise.
Claimer = Callable[[str], Claim]


# Called after an admission of a single-use pass was undone and its transaction recorded the
# release as pending (store/releases.py, with the pass id and the undone admission's time):
# gives the hub's claims back for every pending release (where this door still holds them for
# those admissions) so other doors may admit the guests again, now or at the next connection.
# Takes no arguments: the recorded rows are what is released. Must return at once, never raise.
Releaser = Callable[[], None]


# Called when a scan whose claim was fresh could not be recorded (a full disk): nothing was
# admitted, so the hub's claim is given back at once, best effort, with the pass id and the
# claim's time (nothing can be recorded to retry it later). Must return at once, never raise.
Unclaimer = Callable[[str, str], None]
