"""What the door's decision with a list reads (docs/checkin-lists.md "The store"): the pass's
presence, its admitted entries and the list's count inside, each an index probe in the scan's
own transaction, and the venue's time zone the rules are evaluated in."""

from __future__ import annotations

import dataclasses
import functools
from datetime import datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from station.domain.checkin_list import CheckinList
from station.domain.door import Door, DoorDecision, decide_at_door
from station.domain.models import Pass
from station.domain.times import to_iso
from station.services.context import Context
from station.store import door_reads
from station.store.db import Tx
from station.store.lists import list_text_in, parse_list_text


def venue_zone(ctx: Context, now: datetime) -> tzinfo:
    """The `venue_timezone` setting (an IANA name), else this machine's zone: every door of a
    venue must agree on it, or a window's edge differs between them."""
    name = ctx.store.setting("venue_timezone")
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass  # a bad name was refused when it was set; the machine's zone stands in
    zone = now.astimezone().tzinfo
    assert zone is not None
    return zone


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> CheckinList:
    # Parsed once per version of a list: a door scans many passes against one.
    return parse_list_text(text)


def current(tx: Tx, door: Door) -> Door:
    """The door with its list as this transaction holds it: a door keeps the list it was given
    all evening, and an edit made since (here, or at another door and synced) must apply."""
    if door.list_ is None:
        return door
    text = list_text_in(tx, door.list_.id)
    if text is None:  # not held here (lists are never deleted): the door's own copy decides
        return door
    lst = _parsed(text)
    return door if lst == door.list_ else dataclasses.replace(door, list_=lst)


def decide_with_probes(tx: Tx, ctx: Context, p: Pass, now: datetime, door: Door, *,
                       override: bool) -> DoorDecision:
    zone = venue_zone(ctx, now)
    door = current(tx, door)
    lst = door.list_
    entries: list[datetime] = []
    if lst is not None and lst.rules:
        # Per-day counts reach back to the start of yesterday (a window across midnight);
        # admitted_entries adds the latest one before that (minutes between entries).
        start = datetime.combine(now.astimezone(zone).date() - timedelta(days=1), time(), zone)
        entries = door_reads.admitted_entries(tx, p.id, to_iso(start))
    return decide_at_door(
        p, now, door, presence=door_reads.presence(tx, p.id), entries=entries,
        inside_on_list=door_reads.inside_on(tx, lst.id) if lst and lst.capacity else 0,
        override=override, tz=zone)
