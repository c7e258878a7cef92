"""VenueService: the venue's time zone (the lists' rules and daily check-outs are read in it)
and its daily check-out of everyone, two station settings (docs/checkin-lists.md, "The
venue"). A change is checked whole before anything is written: a bad value changes nothing."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import available_timezones

from station.domain.entry_rules import parse_clock
from station.domain.errors import InvalidInput
from station.services.checkout_schedule import VENUE_SETTING
from station.services.context import Context
from station.store.db import Priority, Tx
from station.store.door_reads import VENUE_TIMEZONE

KEYS = ("timezone", "checkoutAt")


@dataclass(frozen=True, slots=True)
class Venue:
    timezone: str | None  # an IANA name; None: this machine's zone
    checkout_at: str | None  # "HH:MM" in the venue's zone: everyone out every day; None: never

    def to_json(self) -> dict[str, Any]:
        return {"timezone": self.timezone, "checkoutAt": self.checkout_at}


@functools.cache
def zone_names() -> frozenset[str]:
    """The zones of this machine's time zone database (the API's document lists the same)."""
    return frozenset(available_timezones())


def check_timezone(value: Any, what: str = "timezone") -> str | None:
    """An IANA zone name this machine knows (None: the machine's own zone)."""
    if value is None:
        return None
    if isinstance(value, str) and 0 < len(value.strip()) <= 64:
        name = value.strip()
        if name in zone_names():
            return name
    shown = str(value)[:40] if isinstance(value, str) else type(value).__name__
    raise InvalidInput(f"{what} {shown!r} is not a time zone this station knows; use an "
                       "IANA name such as Europe/Berlin, or none for this machine's zone.")


def check_checkout_at(value: Any, what: str = "checkoutAt") -> str | None:
    """"HH:MM" (None: no daily check-out of the venue)."""
    return None if value is None else parse_clock(value, what).strftime("%H:%M")


class VenueService:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def get(self) -> Venue:
        found = self._ctx.store.settings([VENUE_TIMEZONE, VENUE_SETTING])
        zone, at = found.get(VENUE_TIMEZONE), found.get(VENUE_SETTING)
        return Venue(zone if isinstance(zone, str) and zone else None,
                     at if isinstance(at, str) and at else None)

    def change(self, changes: Any) -> Venue:
        """Only the keys given change (`timezone`, `checkoutAt`; null clears one); both are
        checked before either is written."""
        if not isinstance(changes, Mapping) or not changes:
            raise InvalidInput("Say what to change: timezone, checkoutAt or both.")
        unknown = [str(k)[:20] for k in changes if k not in KEYS]
        if unknown:
            raise InvalidInput(f"{unknown[0]!r} is not a venue setting; use timezone or "
                               "checkoutAt.")
        writes: dict[str, str | None] = {}
        if "timezone" in changes:
            writes[VENUE_TIMEZONE] = check_timezone(changes["timezone"])
        if "checkoutAt" in changes:
            writes[VENUE_SETTING] = check_checkout_at(changes["checkoutAt"])

        def write_in(tx: Tx) -> None:
            for key, value in writes.items():
                tx.set_setting(key, value)

        self._ctx.write(write_in, Priority.USER)
        return self.get()
