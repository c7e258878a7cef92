"""Value types of the domain, with the vendor's (camelCase) field names at the edges."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any


class PassType(enum.StrEnum):
    SINGLE = "single"
    MULTI = "multi"


class PassStatus(enum.StrEnum):
    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


class Verdict(enum.StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Reason(enum.StrEnum):
    """Why a scan was refused (or, for conflicts, why an admitted scan was flagged)."""

    USED = "used"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    UNKNOWN = "unknown"
    BAD_SIGNATURE = "bad_signature"
    MAX_USES_REACHED = "max_uses_reached"
    FOREIGN = "foreign"
    DUPLICATE_OFFLINE = "duplicate_offline"
    # Check-in lists (docs/checkin-lists.md); only a door working on a list gives these.
    WRONG_LIST = "wrong_list"
    ALREADY_INSIDE = "already_inside"
    CAPACITY_REACHED = "capacity_reached"
    ENTRY_RULE = "entry_rule"  # the explanation names the rule and what to do
    TURNED_AWAY = "turned_away"  # the door read the pass's attention note and refused


REASON_TEXT: dict[str, str] = {
    Reason.USED: "Already used",
    Reason.REVOKED: "Revoked",
    Reason.EXPIRED: "Expired",
    Reason.NOT_YET_VALID: "Not valid yet",
    Reason.UNKNOWN: "Unknown pass",
    Reason.BAD_SIGNATURE: "Forged or altered pass",
    Reason.MAX_USES_REACHED: "No uses left",
    Reason.FOREIGN: "Not a pass for this event",
    Reason.DUPLICATE_OFFLINE: "Admitted twice while doors were offline",
    Reason.WRONG_LIST: "Not for this entrance",
    Reason.ALREADY_INSIDE: "Already inside",
    Reason.CAPACITY_REACHED: "Full: capacity reached",
    Reason.ENTRY_RULE: "Not allowed in now",
    Reason.TURNED_AWAY: "Turned away at the door",
}


class Direction(enum.StrEnum):
    """Which way a door counts people: a scan's `data.scan.direction` (absent means entry)."""

    ENTRY = "entry"
    EXIT = "exit"


class Source(enum.StrEnum):
    CAMERA = "camera"
    HID = "hid"
    MANUAL = "manual"
    API = "api"
    PEER = "peer"


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    name: str
    email: str | None
    phone: str | None
    created_at: str

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "phone": self.phone,
            "createdAt": self.created_at,
        }


@dataclass(frozen=True, slots=True)
class Pass:
    id: str
    code: str
    name: str
    type: PassType
    status: PassStatus
    uses: int
    public_url: str
    created_at: str
    updated_at: str
    max_uses: int | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    client_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    # Known only from a signed token scanned here; the pass.created event has not arrived.
    provisional: bool = False
    conflicts: int = 0
    # A note for the door ("Check ID — under 18"); shown with an accepted scan.
    attention: str | None = None

    def uses_left(self) -> int | None:
        if self.type is PassType.SINGLE:
            return 0 if self.uses >= 1 else 1
        if self.max_uses is None:
            return None
        return max(self.max_uses - self.uses, 0)

    def with_(self, **changes: Any) -> Pass:
        return replace(self, **changes)

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "code": self.code,
            "name": self.name,
            "type": str(self.type),
            "status": str(self.status),
            "uses": self.uses,
            "maxUses": self.max_uses,
            "validFrom": self.valid_from,
            "validUntil": self.valid_until,
            "clientId": self.client_id,
            "fields": dict(self.fields),
            "publicUrl": self.public_url,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "provisional": self.provisional,
            "conflicts": self.conflicts,
            # Only when set, so the vendor's pass shape is unchanged for passes without one.
            **({"attention": self.attention} if self.attention is not None else {}),
        }


@dataclass(frozen=True, slots=True)
class Scan:
    id: str
    pass_id: str | None
    station_id: str
    scanned_at: str
    verdict: Verdict
    reason: str | None
    source: str
    operator: str | None
    payload: str = ""

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "passId": self.pass_id,
            "stationId": self.station_id,
            "scannedAt": self.scanned_at,
            "verdict": str(self.verdict),
            "reason": self.reason,
            "source": self.source,
            "operator": self.operator,
        }
