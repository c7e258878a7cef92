"""Check-in lists (gates): which passes a door admits, when, re-entry, capacity and rules.

The API's shape (`POST/PATCH /api/v1/lists`), every key but `name` optional:

    {"id": "lst_vip", "name": "VIP", "types": ["single", "multi"], "fields": {"tier": "vip"},
     "clientId": "cli_…", "validFrom": "…Z", "validUntil": "…Z", "reentry": true,
     "capacity": 300, "rules": [see entry_rules.py], "confirmAttention": false,
     "checkoutAt": "04:00"}

Criteria combine with AND: a pass is on the list when its type is one of `types` (none: any),
every `fields` entry matches its custom field (values compared ignoring case and surrounding
spaces) and its client is `clientId` (if set). `confirmAttention` makes the door confirm a
pass's attention note before the entry counts. `checkoutAt` checks everyone on the list out
every day at that time of day in the venue's zone (domain/checkout_schedule.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from station.domain import json_checks as check
from station.domain.entry_rules import Rule, parse_clock, parse_rules, rules_to_json
from station.domain.errors import InvalidInput
from station.domain.models import Pass, PassType, Reason
from station.domain.refusal import Refusal
from station.domain.times import parse_iso

MAX_LIST_FIELDS = 20
MAX_CAPACITY = 1_000_000
KEYS = ("id", "name", "types", "fields", "clientId", "validFrom", "validUntil", "reentry",
        "capacity", "rules", "confirmAttention", "checkoutAt", "deleted")
_TYPE_WORDS = {PassType.SINGLE: "single-entry passes", PassType.MULTI: "multi-use passes"}


@dataclass(frozen=True, slots=True)
class CheckinList:
    id: str
    name: str
    types: tuple[PassType, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    client_id: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None
    reentry: bool = False
    capacity: int | None = None
    rules: tuple[Rule, ...] = ()
    confirm_attention: bool = False
    checkout_at: str | None = None  # "HH:MM" in the venue's zone: everyone out every day
    # Deleted by a manager (a `list.changed` setting `deleted`, so it reaches every door): it
    # admits nobody, is no longer listed or found by name, and its name is free again.
    deleted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {**({"deleted": True} if self.deleted else {}),
            "id": self.id,
            "name": self.name,
            "types": [str(t) for t in self.types],
            "fields": dict(self.fields),
            "clientId": self.client_id,
            "validFrom": self.valid_from,
            "validUntil": self.valid_until,
            "reentry": self.reentry,
            "capacity": self.capacity,
            "rules": rules_to_json(self.rules),
            "confirmAttention": self.confirm_attention,
            "checkoutAt": self.checkout_at,
        }  # `deleted` only when set: every list's document is as before


def parse_checkin_list(data: Any, *, default_id: str | None = None) -> CheckinList:
    """A list from the API's JSON; raises InvalidInput naming the first bad field. `default_id`
    is used when the JSON has no `id` (a new list: the service mints `lst_…`)."""
    body = check.obj(data, "The list", KEYS)
    if "name" not in body:
        raise InvalidInput("name is required: say what the list is for, e.g. \"VIP\".")
    raw_id = body.get("id", default_id)
    if raw_id is None:
        raise InvalidInput("id is required for a list.")
    valid_from = check.instant(body.get("validFrom"), "validFrom")
    valid_until = check.instant(body.get("validUntil"), "validUntil")
    if valid_from and valid_until and parse_iso(valid_from) >= parse_iso(valid_until):
        raise InvalidInput("validFrom is not before validUntil; swap them or fix one.")
    capacity = body.get("capacity")
    return CheckinList(
        id=check.text(raw_id, "id", max_len=64),
        name=check.text(body["name"], "name"),
        types=_types(body.get("types")),
        fields=_fields(body.get("fields")),
        client_id=check.optional_text(body.get("clientId"), "clientId", max_len=64),
        valid_from=valid_from,
        valid_until=valid_until,
        reentry=check.flag(body.get("reentry", False), "reentry"),
        capacity=None if capacity is None else check.whole(capacity, "capacity", low=1,
                                                           high=MAX_CAPACITY),
        rules=parse_rules(body.get("rules") or [], "rules"),
        confirm_attention=check.flag(body.get("confirmAttention", False), "confirmAttention"),
        checkout_at=_checkout_at(body.get("checkoutAt")),
        deleted=check.flag(body.get("deleted", False), "deleted"),
    )


def _checkout_at(value: Any) -> str | None:
    return None if value is None else parse_clock(value, "checkoutAt").strftime("%H:%M")


def with_changes(current: CheckinList, changes: Any) -> CheckinList:
    """PATCH: the keys given replace the list's (null clears an optional one); the result is
    validated whole, so a change that leaves the list invalid changes nothing."""
    body = check.obj(changes, "The change", KEYS)
    if "id" in body and body["id"] != current.id:
        raise InvalidInput("id cannot be changed; create a new list instead.")
    return parse_checkin_list({**current.to_json(), **body})


def _types(value: Any) -> tuple[PassType, ...]:
    if value is None:
        return ()
    items = check.array(value, "types", max_items=len(PassType))
    names = [str(t) for t in PassType]
    if not all(isinstance(t, str) and t in names for t in items):
        raise InvalidInput(f"types must list pass types: {', '.join(names)}.")
    return tuple(PassType(t) for t in names if t in items)


def _fields(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput("fields must be a JSON object like {\"tier\": \"vip\"}.")
    if len(value) > MAX_LIST_FIELDS:
        raise InvalidInput(f"fields has {len(value)} entries; at most {MAX_LIST_FIELDS} are allowed.")
    return {check.text(k, "A fields key", max_len=64): check.text(v, f"fields.{str(k)[:64]}")
            for k, v in value.items()}


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def admits(lst: CheckinList) -> str:
    """What the list admits, in words: "tier vip, multi-use passes"."""
    parts = [f"{k} {v}" for k, v in lst.fields.items()]
    if lst.types and len(lst.types) < len(PassType):
        parts.append(" and ".join(_TYPE_WORDS[t] for t in lst.types))
    if lst.client_id:
        parts.append("one client's passes")
    return ", ".join(parts)


def on_list(lst: CheckinList, pass_: Pass) -> Refusal | None:
    """None when the pass is on the list; else `wrong_list` with the door's sentence."""
    type_ok = not lst.types or pass_.type in lst.types
    needs_data = bool(lst.fields) or lst.client_id is not None
    if pass_.provisional and needs_data and type_ok:
        # Admitted on its signature: its fields and client have not synced here, so nothing
        # proves it belongs; refusing is the safe side at a restricted door.
        return Refusal(Reason.WRONG_LIST, f"{lst.name} admits {admits(lst)} only and this pass "
                       "has not synced here yet — use another entrance or call a manager")
    fields_ok = all(_same(pass_.fields.get(k, ""), v) for k, v in lst.fields.items())
    client_ok = lst.client_id is None or pass_.client_id == lst.client_id
    if type_ok and fields_ok and client_ok:
        return None
    return Refusal(Reason.WRONG_LIST, f"{lst.name} admits {admits(lst)} only — use another entrance")


def is_open(lst: CheckinList, now: datetime, tz: tzinfo) -> Refusal | None:
    """The list's own validity window (validFrom inclusive, validUntil exclusive)."""
    if lst.valid_from and now < parse_iso(lst.valid_from):
        opens = parse_iso(lst.valid_from).astimezone(tz).strftime("%d %b %H:%M")
        return Refusal(Reason.ENTRY_RULE, f"{lst.name} opens {opens}", parse_iso(lst.valid_from))
    if lst.valid_until and now >= parse_iso(lst.valid_until):
        closed = parse_iso(lst.valid_until).astimezone(tz).strftime("%d %b %H:%M")
        return Refusal(Reason.ENTRY_RULE, f"{lst.name} closed {closed} — use another entrance")
    return None
