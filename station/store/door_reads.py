"""The probes the door's verdict with a list reads inside the scan's transaction: a pass's
presence, the count inside on a list, the pass's admitted entries (the rules' input). Each is
an index probe, whatever the size of the log; and the venue's counts for readers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from station.domain.events import EventType
from station.domain.occupancy import Presence
from station.domain.times import parse_iso
from station.store.occupancy import NO_LIST, row_list
from station.store.tx import Tx

if TYPE_CHECKING:
    from station.store.db import Store


def _list_of(row_value: str) -> str | None:
    return None if row_value == NO_LIST else row_value


def presence(tx: Tx, pass_id: str) -> Presence:
    open_lists = tuple(_list_of(r[0]) for r in tx.execute(
        "SELECT list_id FROM occupancy_open WHERE pass_id = ? ORDER BY entry_key", (pass_id,)))
    visited = frozenset(_list_of(r[0]) for r in tx.execute(
        "SELECT list_id FROM occupancy_visited WHERE pass_id = ?", (pass_id,)))
    return Presence(open_lists, visited)


def inside_on(tx: Tx, list_id: str | None) -> int:
    row = tx.fetch_one("SELECT inside FROM occupancy_counts WHERE list_id = ?", (row_list(list_id),))
    return int(row[0]) if row else 0


# An undone admission never happened (as store/stats.py counts); undos are rare and few.
_ADMITTED_ENTRY = (
    "pass_id = ?1 AND verdict = 'accepted' AND direction = 'entry' AND id NOT IN "
    f"(SELECT json_extract(data, '$.scanId') FROM events WHERE type = '{EventType.SCAN_REVERTED}' "
    "AND pass_id = ?1)"
)


def admitted_entries(tx: Tx, pass_id: str, since_iso: str) -> list[datetime]:
    """The pass's admitted entries (re-entries too) since `since_iso`, and its latest entry
    before that (a `minutesBetween` rule may reach further back): two probes of
    idx_scans_pass."""
    recent = [r[0] for r in tx.execute(
        f"SELECT scanned_at FROM scans WHERE {_ADMITTED_ENTRY} AND scanned_at >= ?2 "
        "ORDER BY scanned_at", (pass_id, since_iso))]
    before = tx.fetch_one(
        f"SELECT max(scanned_at) FROM scans WHERE {_ADMITTED_ENTRY} AND scanned_at < ?2",
        (pass_id, since_iso))
    earlier = [before[0]] if before is not None and before[0] is not None else []
    return [parse_iso(at) for at in [*earlier, *recent]]


def inside_counts(store: Store) -> dict[str | None, int]:
    """People inside per list (None: doors with no list), lists with nobody inside left out."""
    return {_list_of(r["list_id"]): int(r["inside"]) for r in store.fetch_all(
        "SELECT list_id, inside FROM occupancy_counts WHERE inside > 0")}
