"""Occupancy: who is inside now, per list and for the venue, as a fold of entry/exit facts.

Facts (`Movement`) come from the log: an accepted `pass.scanned` is an entry, or an exit when
its `scan.direction` is "exit"; `scan.reverted` cancels one; `occupancy.checkout` takes everyone
inside (one list, or the venue) out. The fold de-duplicates by fact id and orders by the log's
total order key (HLC, station, id), so every door holding the same facts gets the same answer
whatever order they arrived in. A check-out is ordered by its `at` time, not by the clock stamp
of whichever station wrote it, so the copies scheduled stations mint (same id, same data) sort
alike.

Safety-minded counting: never negative, never lose a person.
- Every admitted entry is a person through the door, so it adds one inside, even when the pass
  is already inside (two doors that were offline both admitted it, or a group pass): such an
  entry is also reported as a DOUBLE_ENTRY anomaly.
- An exit takes one of the pass's open entries out: the latest on the exit's own list, else its
  latest on any list (lists are gates into one venue: people leave by any door). An exit of a
  pass with no open entry changes no count (never negative) and is reported as EXIT_NOT_INSIDE;
  if its entry arrives later and sorts before it, the refold matches them.
- A pass is inside while it has an open entry; it may re-enter on a re-entry list when it
  entered since the last check-out that covered that list and is not inside now.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from station.domain.events import Event, EventType
from station.domain.hlc import Stamp
from station.domain.models import Direction, Verdict
from station.domain.times import parse_iso

DOUBLE_ENTRY = "double_entry"
EXIT_NOT_INSIDE = "exit_not_inside"


class Kind(enum.StrEnum):
    ENTRY = "entry"
    EXIT = "exit"
    REVERT = "revert"
    CHECKOUT = "checkout"


@dataclass(frozen=True, slots=True)
class Movement:
    id: str  # the fact's id (its event's): a redelivered fact is the same fact
    key: tuple[str, str, str]  # the total order key
    kind: Kind
    pass_id: str | None = None
    list_id: str | None = None  # the door's list; None: a door with no list (or a venue check-out)
    scan_id: str | None = None  # ENTRY/EXIT: the scan; REVERT: the scan it cancels


@dataclass(frozen=True, slots=True)
class Anomaly:
    kind: str  # DOUBLE_ENTRY or EXIT_NOT_INSIDE
    pass_id: str
    scan_id: str | None


@dataclass(frozen=True, slots=True)
class Presence:
    open_lists: tuple[str | None, ...] = ()  # the list of each open entry, oldest first
    visited: frozenset[str | None] = frozenset()  # lists entered since their last check-out

    @property
    def inside(self) -> bool:
        return bool(self.open_lists)

    @property
    def may_reenter(self) -> bool:
        return bool(self.visited) and not self.open_lists


@dataclass(frozen=True, slots=True)
class Occupancy:
    by_list: Mapping[str | None, int] = field(default_factory=dict)  # only lists with people in
    passes: Mapping[str, Presence] = field(default_factory=dict)
    anomalies: tuple[Anomaly, ...] = ()

    @property
    def inside(self) -> int:
        """The venue: every open entry on every list (and at doors with no list)."""
        return sum(self.by_list.values())

    def on(self, list_id: str | None) -> int:
        return self.by_list.get(list_id, 0)

    def presence(self, pass_id: str) -> Presence:
        return self.passes.get(pass_id, Presence())


def movement_from_event(event: Event) -> Movement | None:
    """The occupancy fact an event is, or None (refusals, pass changes, list edits…)."""
    data = event.data
    if event.type == EventType.PASS_SCANNED:
        scan = data.get("scan")
        if not isinstance(scan, dict) or scan.get("verdict") != Verdict.ACCEPTED:
            return None
        kind = Kind.EXIT if scan.get("direction") == Direction.EXIT else Kind.ENTRY
        return Movement(event.id, event.order_key(), kind, event.pass_id or data.get("id"),
                        scan.get("list"), scan.get("id"))
    if event.type == EventType.SCAN_REVERTED:
        return Movement(event.id, event.order_key(), Kind.REVERT, scan_id=data.get("scanId"))
    if event.type == EventType.OCCUPANCY_CHECKOUT:
        return checkout(event.id, str(data.get("at") or event.timestamp), data.get("listId"))
    return None


def checkout(fact_id: str, at: str, list_id: str | None = None) -> Movement:
    """A check-out at `at` (ISO), ordered by that time: before any fact stamped later."""
    ms = int(parse_iso(at).timestamp() * 1000)
    return Movement(fact_id, (Stamp(ms, 0).encode(), "", fact_id), Kind.CHECKOUT, list_id=list_id)


@dataclass(frozen=True, slots=True)
class OpenEntry:
    """An entry not matched by an exit yet: its list and its fact's order key (the store keeps
    these as rows, and a later exit takes the latest by key)."""

    list_id: str | None
    key: tuple[str, str, str]
    scan_id: str | None = None


class Tally:
    """The fold's state, applied one fact at a time in order. The store keeps the same
    numbers as rows (docs/checkin-lists.md) and applies a fact that sorts after all others
    the same way; anything else (a revert, a fact from the past) refolds."""

    def __init__(self) -> None:
        self.by_list: dict[str | None, int] = {}
        self.open: dict[str, list[OpenEntry]] = {}
        self.visited: dict[str, set[str | None]] = {}
        self.anomalies: list[Anomaly] = []

    def apply(self, m: Movement) -> None:
        if m.kind is Kind.CHECKOUT:
            self._checkout(m.list_id)
        elif m.pass_id is None or m.kind is Kind.REVERT:
            return
        elif m.kind is Kind.ENTRY:
            entries = self.open.setdefault(m.pass_id, [])
            if entries:
                self.anomalies.append(Anomaly(DOUBLE_ENTRY, m.pass_id, m.scan_id))
            entries.append(OpenEntry(m.list_id, m.key, m.scan_id))
            self.visited.setdefault(m.pass_id, set()).add(m.list_id)
            self.by_list[m.list_id] = self.by_list.get(m.list_id, 0) + 1
        else:
            self._exit(m)

    def _exit(self, m: Movement) -> None:
        assert m.pass_id is not None
        entries = self.open.get(m.pass_id)
        if not entries:
            self.anomalies.append(Anomaly(EXIT_NOT_INSIDE, m.pass_id, m.scan_id))
            return
        own = [i for i, e in enumerate(entries) if e.list_id == m.list_id]
        taken = entries.pop(own[-1] if own else len(entries) - 1)
        self._count_out(taken.list_id, 1)
        if not entries:
            del self.open[m.pass_id]

    def _checkout(self, list_id: str | None) -> None:
        everyone = list_id is None
        for pass_id in list(self.open):
            kept = [e for e in self.open[pass_id] if not everyone and e.list_id != list_id]
            if kept:
                self.open[pass_id] = kept
            else:
                del self.open[pass_id]
        for lst in list(self.by_list):
            if everyone or lst == list_id:
                del self.by_list[lst]
        for pass_id in list(self.visited):
            left = set() if everyone else self.visited[pass_id] - {list_id}
            if left:
                self.visited[pass_id] = left
            else:
                del self.visited[pass_id]

    def _count_out(self, list_id: str | None, n: int) -> None:
        left = self.by_list.get(list_id, 0) - n
        if left > 0:
            self.by_list[list_id] = left
        else:
            self.by_list.pop(list_id, None)

    def snapshot(self) -> Occupancy:
        passes = {p: Presence(tuple(e.list_id for e in self.open.get(p, ())),
                              frozenset(self.visited.get(p, ())))
                  for p in set(self.open) | set(self.visited)}
        return Occupancy(dict(self.by_list), passes, tuple(self.anomalies))


def fold_occupancy(facts: Iterable[Movement]) -> Occupancy:
    return fold_tally(facts).snapshot()


def overlaid(inside: Mapping[str | None, int], open_entries: Mapping[str, Sequence[OpenEntry]],
             visited: Mapping[str, frozenset[str | None]], facts: Iterable[Movement]) -> Occupancy:
    """The store's rows (the fold of the log) with facts the log does not hold yet applied
    after them, in the order given: a door's decision counts the door journal's unmerged
    scans so, as their merge will. Only the lists given in `inside` and the passes given in
    `open_entries`/`visited` are whole in the result (the others start from nothing)."""
    tally = Tally()
    tally.by_list = {k: v for k, v in inside.items() if v > 0}
    tally.open = {p: list(entries) for p, entries in open_entries.items() if entries}
    tally.visited = {p: set(lists) for p, lists in visited.items() if lists}
    for m in facts:
        tally.apply(m)
    return tally.snapshot()


def fold_tally(facts: Iterable[Movement]) -> Tally:
    """The fold's state itself (the store writes its open entries as rows)."""
    unique = {m.id: m for m in facts}
    reverted = {m.scan_id for m in unique.values() if m.kind is Kind.REVERT}
    tally = Tally()
    for m in sorted(unique.values(), key=lambda m: m.key):
        if m.kind in (Kind.ENTRY, Kind.EXIT) and m.scan_id in reverted:
            continue  # an undone scan never happened, whenever its undo arrived
        tally.apply(m)
    return tally


def fold_events(events: Iterable[Event]) -> Occupancy:
    return fold_occupancy(m for e in events if (m := movement_from_event(e)) is not None)
