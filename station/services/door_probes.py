"""What the door's decision with a list reads (docs/checkin-lists.md "The store"): the pass's
presence, its admitted entries and the list's count inside, each an index probe on the
deciding thread's reader, with the door journal's unmerged scans applied on top (the overlay,
docs/door-journal.md), and the venue's time zone the rules are evaluated in."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from datetime import datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from station.domain import occupancy
from station.domain.checkin_list import CheckinList
from station.domain.door import Door, DoorDecision, admitted_entries, decide_at_door
from station.domain.models import Pass
from station.domain.occupancy import movement_from_event
from station.domain.times import to_iso
from station.services.context import Context
from station.services.scan_merge import parse_all, unmerged_events
from station.store import door_reads
from station.store.door_journal import Appending
from station.store.lists import list_text, parse_list_text


def venue_zone(ctx: Context, now: datetime) -> tzinfo:
    """The `venue_timezone` setting (an IANA name), else this machine's zone: every door of a
    venue must agree on it, or a window's edge differs between them."""
    return zone_named(ctx.store.setting(door_reads.VENUE_TIMEZONE), now)


def zone_named(name: object, now: datetime) -> tzinfo:
    """The zone the setting names; this machine's when it names none (or a bad one)."""
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


def current(ctx: Context, door: Door) -> Door:
    """The door with its list as the store holds it: a door keeps the list it was given all
    evening, and an edit made since (here, or at another door and synced) must apply."""
    if door.list_ is None:
        return door
    return _with_stored(door, list_text(ctx.store, door.list_.id))


def _with_stored(door: Door, text: str | None) -> Door:
    if door.list_ is None or text is None:  # not held here (lists are never deleted): the
        return door                         # door's own copy decides
    lst = _parsed(text)
    return door if lst == door.list_ else dataclasses.replace(door, list_=lst)


def decide_with_probes(ctx: Context, journal: Appending, p: Pass, now: datetime, door: Door,
                       *, override: bool, own: list[str] | None = None) -> DoorDecision:
    """The verdict at a door with a list (or an exit), inside the journal's write transaction.
    The journal is the overlay (docs/door-journal.md): the pass's presence and entries and
    the list's count inside are the store's rows with the journal's unmerged admissions and
    exits applied after them, as their merge will apply them, so a second entry before the
    merge is already inside and a full list counts the entries it has not merged yet. The
    rows and which entries the log already holds (merged, not deleted from the journal yet)
    are read in one read transaction: a merge committed between two reads could count an
    entry twice or not at all; with nothing unmerged, the rows are one statement. `own`: the
    pass's journal entries, when the caller has read them under the same lock.

    Each statement here gives up the GIL (which the merge thread or a download in the same
    process may then hold for a switch interval): the probes are read in as few as they can
    be (tests/integration/test_door_list_statements.py)."""
    store = ctx.store
    # The list's version and the venue's zone need not be of the rows' moment.
    text, zone_name = door_reads.list_and_zone(store, door.list_.id if door.list_ else None)
    zone = zone_named(zone_name, now)
    door = _with_stored(door, text)
    lst = door.list_
    counted = lst is not None and lst.capacity is not None
    # Every unmerged admission or exit moves a list's count; only the pass's own move it.
    if counted:
        texts = journal.moving_entries()
    else:
        texts = journal.entries_for(p.id) if own is None else own
    pending = parse_all(texts)
    since: str | None = None
    if lst is not None and lst.rules:
        # Per-day counts reach back to the start of yesterday (a window across midnight); the
        # probe adds the latest entry before that (minutes between entries).
        since = to_iso(datetime.combine(now.astimezone(zone).date() - timedelta(days=1),
                                        time(), zone))
    # No unmerged entry (the usual scan): the probe is one statement, itself one moment.
    with store.read_snapshot() if pending else contextlib.nullcontext():
        present = store.events_present([e.event.id for e in pending if e.event]) if pending else set()
        unmerged = unmerged_events(pending, present)
        moves = [m for e in unmerged
                 if (m := movement_from_event(e)) is not None and m.pass_id is not None]
        rows = door_reads.pass_probe(store, p.id, {m.pass_id for m in moves if m.pass_id},
                                     since_iso=since, count_on=(lst.id,) if counted and lst else ())
    state = occupancy.overlaid({lst.id: rows.inside} if counted and lst else {}, rows.open,
                               {p.id: rows.visited}, moves)
    entries = rows.entries
    if since is not None:
        entries = sorted([*entries, *admitted_entries(e for e in unmerged if e.pass_id == p.id)])
    return decide_at_door(
        p, now, door, presence=state.presence(p.id), entries=entries,
        inside_on_list=state.on(lst.id) if counted and lst else 0, override=override, tz=zone)
