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


# Called after an admission of a single-use pass was undone, with the pass id and the time the
# undone scan was admitted: gives the hub's claim back (if this door still holds it for that
# admission) so other doors may admit the guest again. The undo's transaction has already
# recorded the release as pending (store/releases.py), so the callee only has to get round to
# it, now or at its next connection. Must return at once, never raise.
Releaser = Callable[[str, str], None]


# Called when a scan whose claim was fresh could not be recorded (a full disk): nothing was
# admitted, so the hub's claim is given back at once, best effort, with the pass id and the
# claim's time (nothing can be recorded to retry it later). Must return at once, never raise.
Unclaimer = Callable[[str, str], None]
