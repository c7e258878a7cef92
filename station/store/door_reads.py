"""The probes the door's verdict with a list reads on the deciding thread's reader (with the
door journal's lock held; in one statement, `pass_probe`): a pass's presence, the count inside
on a list, the pass's admitted entries (the rules' input). Each is an index probe, whatever
the size of the log; and the venue's counts for readers."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from station.domain.events import EventType
from station.domain.occupancy import OpenEntry, Presence
from station.domain.times import parse_iso
from station.store.occupancy import NO_LIST, decode_key, row_list
from station.store.tx import CHUNK, chunks, marks
from station.store.db import Store


VENUE_TIMEZONE = "venue_timezone"  # setting: the IANA zone the lists' rules are read in


def _list_of(row_value: str) -> str | None:
    return None if row_value == NO_LIST else row_value


def open_entries(store: Store, pass_ids: Collection[str]) -> dict[str, list[OpenEntry]]:
    """The open entries of these passes (a door's pass, and those with unmerged scans in the
    door journal: a handful), oldest first."""
    found: dict[str, list[OpenEntry]] = {}
    for chunk in chunks(sorted(pass_ids)):
        for r in store.iter_rows(
                f"SELECT pass_id, list_id, entry_key, scan_id FROM occupancy_open "
                f"WHERE pass_id IN ({marks(len(chunk))}) ORDER BY pass_id, entry_key", chunk):
            found.setdefault(r[0], []).append(
                OpenEntry(_list_of(r[1]), decode_key(str(r[2])), r[3]))
    return found


def presence(store: Store, pass_id: str) -> Presence:
    """The pass's presence as the rows hold it (the log's fold, nothing unmerged)."""
    return Presence(tuple(e.list_id for e in open_entries(store, [pass_id]).get(pass_id, ())),
                    visited(store, pass_id))


def visited(store: Store, pass_id: str) -> frozenset[str | None]:
    """The lists the pass entered since their last check-out (re-entry)."""
    return frozenset(_list_of(r[0]) for r in store.iter_rows(
        "SELECT list_id FROM occupancy_visited WHERE pass_id = ?", (pass_id,)))


def inside_on(store: Store, list_id: str | None) -> int:
    row = store.fetch_one("SELECT inside FROM occupancy_counts WHERE list_id = ?",
                          (row_list(list_id),))
    return int(row["inside"]) if row else 0


# An undone admission never happened (as store/stats.py counts); undos are rare and few.
_ADMITTED_ENTRY = (
    "pass_id = :pass AND verdict = 'accepted' AND direction = 'entry' AND id NOT IN "
    f"(SELECT json_extract(data, '$.scanId') FROM events WHERE type = '{EventType.SCAN_REVERTED}' "
    "AND pass_id = :pass)"
)
# The pass's admitted entries since :since, and its latest before: two probes of idx_scans_pass.
_ENTRIES = (
    f"SELECT 'e', NULL, scanned_at, NULL, NULL FROM scans WHERE {_ADMITTED_ENTRY} "
    "AND scanned_at >= :since UNION ALL "
    f"SELECT 'e', NULL, max(scanned_at), NULL, NULL FROM scans WHERE {_ADMITTED_ENTRY} "
    "AND scanned_at < :since"
)


def admitted_entries(store: Store, pass_id: str, since_iso: str) -> list[datetime]:
    """The pass's admitted entries (re-entries too) since `since_iso`, and its latest entry
    before that (a `minutesBetween` rule may reach further back), oldest first."""
    found = [r[2] for r in store.iter_rows(_ENTRIES, {"pass": pass_id, "since": since_iso})]
    return sorted(parse_iso(at) for at in found if at is not None)


@dataclass(frozen=True, slots=True)
class PassRows:
    """What the door's decision reads of the rows for one pass (docs/checkin-lists.md)."""

    open: dict[str, list[OpenEntry]]  # open entries of the pass and the others asked for
    visited: frozenset[str | None]  # the pass's lists entered since their check-out
    entries: list[datetime]  # admitted entries since `since_iso` and the latest before, oldest first
    inside: int  # the count inside on the list asked for (0 when not asked)
    list_text: str | None = None  # the list asked for, as stored (None: not asked, or not held)
    zone: object = None  # the `venue_timezone` setting, decoded (with the list)


def pass_probe(store: Store, pass_id: str, others: Collection[str] = (), *,
               since_iso: str | None = None, count_on: Sequence[str | None] = (),
               list_id: str | None = None) -> PassRows:
    """The door's probes in one statement (one moment of the data, and one GIL release where
    each statement at the door gives it up): the open entries of the pass and of `others`
    (passes with unmerged scans), the pass's visited lists, its admitted entries when
    `since_iso` is given (the list has rules), the count inside on `count_on[0]` when given
    (the list has a capacity), and the list `list_id` as stored with the venue's zone when
    given. Each part is an index probe, whatever the size of the log."""
    ids = sorted({pass_id, *others})
    if len(ids) >= CHUNK:  # a door journal holding scans of many passes (a capacity list)
        stored, setting = list_and_zone(store, list_id) if list_id is not None else (None, None)
        return PassRows(open_entries(store, ids), visited(store, pass_id),
                        admitted_entries(store, pass_id, since_iso) if since_iso else [],
                        inside_on(store, count_on[0]) if count_on else 0, stored, setting)
    params: dict[str, object] = {"pass": pass_id, **{f"o{k}": v for k, v in enumerate(ids)}}
    parts = [
        "SELECT 'o', pass_id, list_id, entry_key, scan_id FROM occupancy_open WHERE pass_id IN "
        f"({', '.join(f':o{k}' for k in range(len(ids)))})",
        "SELECT 'v', pass_id, list_id, NULL, NULL FROM occupancy_visited WHERE pass_id = :pass"]
    if since_iso is not None:
        params["since"] = since_iso
        parts.append(_ENTRIES)
    if count_on:
        params["list"] = row_list(count_on[0])
        parts.append("SELECT 'c', NULL, inside, NULL, NULL FROM occupancy_counts "
                     "WHERE list_id = :list")
    if list_id is not None:
        params["lst"], params["zone"] = list_id, VENUE_TIMEZONE
        parts.append("SELECT 'l', NULL, data, NULL, NULL FROM checkin_lists WHERE id = :lst "
                     "UNION ALL SELECT 'z', NULL, value, NULL, NULL FROM settings "
                     "WHERE key = :zone")
    found: dict[str, list[OpenEntry]] = {}
    seen: set[str | None] = set()
    entries: list[datetime] = []
    inside = 0
    text: str | None = None
    zone: object = None
    keyed: list[tuple[str, str, OpenEntry]] = []
    # Unordered (an ORDER BY sorted the union in a temporary b-tree: half the statement's
    # time); the open entries are sorted here, a handful at most.
    for tag, owner, value, key, scan_id in store.iter_rows(" UNION ALL ".join(parts), params):
        if tag == "o":
            keyed.append((owner, str(key), OpenEntry(_list_of(value), decode_key(str(key)),
                                                     scan_id)))
        elif tag == "v":
            seen.add(_list_of(value))
        elif tag == "e" and value is not None:
            entries.append(parse_iso(value))
        elif tag == "c":
            inside = int(value)
        elif tag == "l":
            text = str(value)
        elif tag == "z" and value is not None:
            zone = json.loads(value)
    for owner, _key, entry in sorted(keyed, key=lambda k: (k[0], k[1])):
        found.setdefault(owner, []).append(entry)
    return PassRows(found, frozenset(seen), sorted(entries), inside, text, zone)


def list_and_zone(store: Store, list_id: str | None) -> tuple[str | None, object]:
    """A list's stored JSON (None when not held) and the `venue_timezone` setting (decoded, None
    when not set), in one statement: what the door's decision reads before its probes."""
    row = store.fetch_one(
        "SELECT (SELECT data FROM checkin_lists WHERE id = ?) AS list, "
        "(SELECT value FROM settings WHERE key = ?) AS zone", (list_id, VENUE_TIMEZONE))
    if row is None:
        return None, None
    zone = json.loads(row["zone"]) if row["zone"] is not None else None
    return (None if row["list"] is None else str(row["list"])), zone


def inside_counts(store: Store) -> dict[str | None, int]:
    """People inside per list (None: doors with no list), lists with nobody inside left out."""
    return {_list_of(r["list_id"]): int(r["inside"]) for r in store.fetch_all(
        "SELECT list_id, inside FROM occupancy_counts WHERE inside > 0")}
