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
from station.domain.entry_rules import counts_entries
from station.domain.models import Direction, Pass
from station.domain.events import Event
from station.domain.occupancy import Movement, Presence, movement_from_event
from station.domain.times import to_iso
from station.services.context import Context
from station.services.scan_merge import JournalEntry, parse_all, unmerged_events
from station.store import door_reads
from station.store.door_journal import Appending
from station.store.door_reads import PassRows
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
    return _machine_zone(int(now.timestamp()) // 60)


@functools.lru_cache(maxsize=2)
def _machine_zone(minute: int) -> tzinfo:
    # This machine's offset in that minute (clocks change on a minute's edge): asking the C
    # library for it at every scan cost a door ~6 µs.
    zone = datetime.fromtimestamp(minute * 60).astimezone().tzinfo
    assert zone is not None
    return zone


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> CheckinList:
    # Parsed once per version of a list: a door scans many passes against one.
    return parse_list_text(text)


# The last door each list was decided at, the stored text it was decided by and the door with
# that version: a door scans all evening against one list, and comparing two parsed lists
# (their rules) cost more than comparing the texts.
_doors: dict[str, tuple[Door, str, Door]] = {}


def current(ctx: Context, door: Door) -> Door:
    """The door with its list as the store holds it: a door keeps the list it was given all
    evening, and an edit made since (here, or at another door and synced) must apply."""
    if door.list_ is None:
        return door
    return _with_stored(door, list_text(ctx.store, door.list_.id))


def _with_stored(door: Door, text: str | None) -> Door:
    if door.list_ is None or text is None:  # not held here (a deleted list is still held,
        return door                         # marked): the door's own copy decides
    seen = _doors.get(door.list_.id)
    if seen is not None and seen[0] is door and seen[1] == text:
        return seen[2]
    lst = _parsed(text)
    stored = door if lst == door.list_ else dataclasses.replace(door, list_=lst)
    _doors[door.list_.id] = (door, text, stored)
    return stored


# The rules' per-day counts reach back to the start of yesterday in the venue's zone, which is
# at most this long ago in any zone (two days, a DST hour and a margin): the probe reads from
# here before the zone is known (it comes in the same statement) and the rest is dropped after.
_RULES_REACH = timedelta(hours=50)


def read_pass(ctx: Context, door: Door, now: datetime, *, pass_id: str | None = None,
              code: str | None = None) -> tuple[Pass | None, PassRows | None]:
    """The pass (by id, else by code) as a door with a list or an exit reads it: with the
    probes its decision needs (door_reads.pass_at_door) in the same statement. At an entry
    door with no list, the pass alone (today's path)."""
    if door.list_ is None and door.direction is Direction.ENTRY:
        store = ctx.store
        return (store.pass_by_id(pass_id) if pass_id is not None
                else store.pass_by_code(code) if code is not None else None), None
    lst = _known(door)
    entry = door.direction is Direction.ENTRY and lst is not None
    found = door_reads.pass_at_door(
        ctx.store, pass_id=pass_id, code=code,
        presence=not entry or (lst is not None and lst.reentry),
        since_iso=to_iso(now - _RULES_REACH) if entry and lst is not None
        and counts_entries(lst.rules) else None,
        list_id=lst.id if entry and lst is not None else None)
    return found if found is not None else (None, None)


def _known(door: Door) -> CheckinList | None:
    """The door's list as last read from the store for this door (its own copy before)."""
    seen = _doors.get(door.list_.id) if door.list_ is not None else None
    return seen[2].list_ if seen is not None else door.list_


def decide_with_probes(ctx: Context, journal: Appending, p: Pass, now: datetime, door: Door,
                       *, override: bool, own: list[str] | None = None,
                       rows: PassRows | None = None,
                       present: set[str] | None = None) -> DoorDecision:
    """The verdict at a door with a list (or an exit), inside the journal's write transaction.
    The journal is the overlay (docs/door-journal.md): the pass's presence and entries and
    the list's count inside are the store's rows with the journal's unmerged admissions and
    exits applied after them, as their merge will apply them, so a second entry before the
    merge is already inside and a full list counts the entries it has not merged yet. The
    rows and which entries the log already holds (merged, not deleted from the journal yet)
    are read in one read transaction: a merge committed between two reads could count an
    entry twice or not at all; with nothing unmerged, the rows are one statement. `own`: the
    pass's journal entries, when the caller has read them under the same lock; `rows`: the
    probes read with the pass (read_pass), used when the list counts nobody (no capacity) and
    nothing of the pass is unmerged, or `present` says which of `own` the log held in the
    moment they were read: the usual scan then reads no statement here.

    Each statement gives up the GIL (which the merge thread or a download in the same process
    may then hold for a switch interval) and, at 1M passes, costs its cold pages: the list as
    stored, the venue's zone and what the list needs of the pass's rows are read in the
    statement that reads the pass, so a list adds no statement (an exit reads no list: nobody
    is kept in, its verdict needs the presence only) (tests/integration/
    test_door_list_statements.py)."""
    entry = door.direction is Direction.ENTRY and door.list_ is not None
    # Every unmerged admission or exit moves a list's count; only the pass's own move it. A
    # capacity is known from the list last read for this door (an edit that adds one: asked
    # again below, once).
    known = _known(door) if entry else None
    counted = entry and known is not None and known.capacity is not None
    decision = _decide(ctx, journal, p, now, door, counted, override, own, rows, present)
    if isinstance(decision, DoorDecision):
        return decision
    # The stored list asks for more than was read (an edit since: a capacity, re-entry, a
    # rule that counts entries): everything, once.
    again = _decide(ctx, journal, p, now, door, True, override, own, None, None)
    assert again is not None  # counted and probed in full: never asked again
    return again


def _decide(ctx: Context, journal: Appending, p: Pass, now: datetime, door: Door,
            counted: bool, override: bool, own: list[str] | None,
            prefetched: PassRows | None, present: set[str] | None) -> DoorDecision | None:
    """The decision, or None when the stored list has a capacity and `counted` was False."""
    given = door.list_
    entry = door.direction is Direction.ENTRY and given is not None
    if counted:
        texts = journal.moving_entries()
    else:
        texts = journal.entries_for(p.id) if own is None else own
    pending = parse_all(texts)
    moves: list[Movement] = []
    unmerged: list[Event] = []
    if not counted and prefetched is not None and (not pending or present is not None):
        rows = prefetched  # read with the pass (and `present`): one moment of the data
        if pending:
            unmerged = unmerged_events(pending, present or set())
            moves = [m for e in unmerged
                     if (m := movement_from_event(e)) is not None and m.pass_id is not None]
    else:
        rows, moves, unmerged = _probe(ctx, p, now, given, entry, counted, pending)
    door = _with_stored(door, rows.list_text)
    lst = door.list_
    if lst is not None and entry and ((lst.capacity is not None and not counted)
                                      or (lst.reentry and not rows.has_presence)
                                      or (counts_entries(lst.rules) and not rows.has_entries)):
        return None
    zone = zone_named(rows.zone, now)
    if moves:
        state = occupancy.overlaid({lst.id: rows.inside} if counted and lst else {}, rows.open,
                                   {p.id: rows.visited}, moves)
        presence, inside = state.presence(p.id), state.on(lst.id) if counted and lst else 0
    else:  # the rows as they are (the usual scan: nothing of it unmerged)
        presence = Presence(tuple(e.list_id for e in rows.open.get(p.id, ())), rows.visited)
        inside = rows.inside if counted else 0
    entries: list[datetime] = []
    if entry and lst is not None and lst.rules:
        entries = _since_yesterday(
            [*rows.entries, *admitted_entries(e for e in unmerged if e.pass_id == p.id)],
            now, zone)
    return decide_at_door(
        p, now, door, presence=presence, entries=entries, inside_on_list=inside,
        override=override, tz=zone)


def _probe(ctx: Context, p: Pass, now: datetime, given: CheckinList | None, entry: bool,
           counted: bool, pending: list[JournalEntry]
           ) -> tuple[PassRows, list[Movement], list[Event]]:
    """The probe statement, with the unmerged entries' movements: with none (the usual scan)
    one statement, itself one moment; else in one read transaction with which of them the
    log holds."""
    store = ctx.store
    with store.read_snapshot() if pending else contextlib.nullcontext():
        present = store.events_present([e.event.id for e in pending if e.event]) if pending else set()
        unmerged = unmerged_events(pending, present)
        moves = [m for e in unmerged
                 if (m := movement_from_event(e)) is not None and m.pass_id is not None]
        rows = door_reads.pass_probe(
            store, p.id, {m.pass_id for m in moves if m.pass_id},
            since_iso=to_iso(now - _RULES_REACH) if entry else None,
            count_on=(given.id,) if entry and given else (),
            list_id=given.id if entry and given else None)
    return rows, moves, unmerged


def _since_yesterday(entries: list[datetime], now: datetime, zone: tzinfo) -> list[datetime]:
    """The rules' input: the entries since the start of yesterday in the venue's zone (a
    window across midnight) and the latest before it (minutes between entries), oldest first."""
    if not entries:
        return entries  # a first entry: nothing to place
    since = datetime.combine(now.astimezone(zone).date() - timedelta(days=1), time(), zone)
    entries.sort()
    recent = [at for at in entries if at >= since]
    before = [at for at in entries if at < since]
    return before[-1:] + recent
