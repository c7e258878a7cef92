"""The probes the door's verdict with a list reads on the deciding thread's reader (inside
one read snapshot, with the door journal's lock held): a pass's presence, the count inside on
a list, the pass's admitted entries (the rules' input). Each is an index probe, whatever the
size of the log; and the venue's counts for readers."""

from __future__ import annotations

import json
from collections.abc import Collection
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
    "pass_id = ?1 AND verdict = 'accepted' AND direction = 'entry' AND id NOT IN "
    f"(SELECT json_extract(data, '$.scanId') FROM events WHERE type = '{EventType.SCAN_REVERTED}' "
    "AND pass_id = ?1)"
)


def admitted_entries(store: Store, pass_id: str, since_iso: str) -> list[datetime]:
    """The pass's admitted entries (re-entries too) since `since_iso`, and its latest entry
    before that (a `minutesBetween` rule may reach further back), oldest first: two probes of
    idx_scans_pass in one statement (each statement at the door gives up the GIL)."""
    found = [r[0] for r in store.iter_rows(
        f"SELECT scanned_at FROM scans WHERE {_ADMITTED_ENTRY} AND scanned_at >= ?2 UNION ALL "
        f"SELECT max(scanned_at) FROM scans WHERE {_ADMITTED_ENTRY} AND scanned_at < ?2",
        (pass_id, since_iso))]
    return sorted(parse_iso(at) for at in found if at is not None)


def pass_rows(store: Store, pass_id: str, others: Collection[str] = ()
              ) -> tuple[dict[str, list[OpenEntry]], frozenset[str | None]]:
    """`open_entries` of the pass and `others` (passes with unmerged scans), and the pass's
    `visited`, in one statement: the door's presence probe."""
    ids = sorted({pass_id, *others})
    if len(ids) >= CHUNK:  # a door journal holding scans of many passes (a capacity list)
        return open_entries(store, ids), visited(store, pass_id)
    found: dict[str, list[OpenEntry]] = {}
    seen: set[str | None] = set()
    for r in store.iter_rows(
            "SELECT 0, pass_id, list_id, entry_key, scan_id FROM occupancy_open WHERE pass_id IN "
            f"({marks(len(ids))}) UNION ALL SELECT 1, pass_id, list_id, NULL, NULL FROM "
            "occupancy_visited WHERE pass_id = ? ORDER BY 1, 2, 4", [*ids, pass_id]):
        if r[0]:
            seen.add(_list_of(r[2]))
        else:
            found.setdefault(r[1], []).append(OpenEntry(_list_of(r[2]), decode_key(str(r[3])), r[4]))
    return found, frozenset(seen)


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
