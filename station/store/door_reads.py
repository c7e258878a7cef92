"""The probes the door's verdict with a list reads on the deciding thread's reader (with the
door journal's lock held; in one statement, `pass_probe`): a pass's presence, the count inside
on a list, the pass's admitted entries (the rules' input). Each is an index probe, whatever
the size of the log; and the venue's counts for readers."""

from __future__ import annotations

import functools
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from station.domain.events import EventType
from station.domain.models import Pass
from station.domain.occupancy import OpenEntry, Presence
from station.domain.times import parse_iso
from station.store.occupancy import NO_LIST, decode_key, row_list
from station.store.rows import pass_from_row
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


# An undone admission never happened (as store/stats.py counts); undos are rare and few. `{p}`:
# the pass's id (a parameter, or the outer row's column when read with the pass).
_ADMITTED_ENTRY = (
    "pass_id = {p} AND verdict = 'accepted' AND direction = 'entry' AND id NOT IN "
    # `+type`: through idx_events_pass (the pass's few events), not every undo at the venue.
    "(SELECT json_extract(data, '$.scanId') FROM events WHERE pass_id = {p} "
    f"AND +type = '{EventType.SCAN_REVERTED}')"
)
# The pass's admitted entries since :since, and its latest before: two probes of idx_scans_pass.
_SINCE_ARRAY = (f"SELECT json_group_array(scanned_at) FROM scans WHERE {_ADMITTED_ENTRY} "
                "AND scanned_at >= :since HAVING count(*)")
_BEFORE = f"SELECT max(scanned_at) FROM scans WHERE {_ADMITTED_ENTRY} AND scanned_at < :since"


def admitted_entries(store: Store, pass_id: str, since_iso: str) -> list[datetime]:
    """The pass's admitted entries (re-entries too) since `since_iso`, and its latest entry
    before that (a `minutesBetween` rule may reach further back), oldest first."""
    row = store.fetch_row(f"SELECT ({_SINCE_ARRAY}), ({_BEFORE})".format(p=":pass"),
                          {"pass": pass_id, "since": since_iso})
    assert row is not None  # scalar subqueries: always one row
    return _entries(row[0], row[1])


def _entries(since_json: str | None, before: str | None) -> list[datetime]:
    at = [*(json.loads(since_json) if since_json else ()), *((before,) if before else ())]
    return sorted(parse_iso(a) for a in at)


@dataclass(frozen=True, slots=True)
class PassRows:
    """What the door's decision reads of the rows for one pass (docs/checkin-lists.md)."""

    open: dict[str, list[OpenEntry]]  # open entries of the pass and the others asked for
    visited: frozenset[str | None]  # the pass's lists entered since their check-out
    entries: list[datetime]  # admitted entries since `since_iso` and the latest before, oldest first
    inside: int  # the count inside on the list asked for (0 when not asked)
    list_text: str | None = None  # the list asked for, as stored (None: not asked, or not held)
    zone: object = None  # the `venue_timezone` setting, decoded (with the list)
    # Read with the pass (pass_at_door) for what the door's list needed then: not its presence
    # (open, visited) at an entry door whose list has no re-entry, not its entries when no rule
    # counts them. A list edited since to need them is asked again (door_probes).
    has_presence: bool = True
    has_entries: bool = True


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
    _probe_params(params, since_iso, count_on, list_id)
    row = store.fetch_row(_probe_sql(len(ids), since_iso is not None, bool(count_on),
                                     list_id is not None), params)
    assert row is not None  # an aggregate of scalar subqueries: always one row
    return _rows(tuple(row))


def pass_at_door(store: Store, *, pass_id: str | None = None, code: str | None = None,
                 presence: bool = True, since_iso: str | None = None,
                 list_id: str | None = None) -> tuple[Pass, PassRows] | None:
    """The pass (by id, else by code) and the door's probes of it, in the statement that reads
    the pass: its open entries and visited lists when `presence`, its admitted entries when
    `since_iso` is given, the list `list_id` as stored with the venue's zone when given. At
    1M passes each index a door's scan descends into costs a cold page or two, and each
    statement more than its SQL (hand-overs, cold caches): a probe the list does not need is
    not read (docs/checkin-lists.md). None: no such pass."""
    key, value = ("id", pass_id) if pass_id is not None else ("code", code)
    params: dict[str, object] = {"key": value}
    _probe_params(params, since_iso, (), list_id)
    row = store.fetch_row(_at_door_sql(key, presence, since_iso is not None,
                                       list_id is not None), params)
    if row is None:
        return None
    values = tuple(row)
    return pass_from_row(dict(zip(row.keys()[:-len(_PROBED)], values))), _rows(
        values[-len(_PROBED):], has_presence=presence, has_entries=since_iso is not None)


_PROBED = ("probe_open", "probe_visited", "probe_since", "probe_before", "probe_inside",
           "probe_list", "probe_zone")


def _probe_params(params: dict[str, object], since_iso: str | None,
                  count_on: Sequence[str | None], list_id: str | None) -> None:
    if since_iso is not None:
        params["since"] = since_iso
    if count_on:
        params["list"] = row_list(count_on[0])
    if list_id is not None:
        params["lst"], params["zone"] = list_id, VENUE_TIMEZONE


@functools.lru_cache(maxsize=16)
def _at_door_sql(key: str, presence: bool, entries: bool, lst: bool) -> str:
    columns = _columns("p.id", "= p.id" if presence else "", entries, False, lst)
    return f"SELECT p.*, {columns} FROM passes p WHERE p.{key} = :key"


@functools.lru_cache(maxsize=64)
def _probe_sql(ids: int, entries: bool, count: bool, lst: bool) -> str:
    opened = f"IN ({', '.join(f':o{k}' for k in range(ids))})"
    return f"SELECT {_columns(':pass', opened, entries, count, lst)}"


def _columns(pass_ref: str, open_match: str, entries: bool, count: bool, lst: bool) -> str:
    """The probes as the columns of one row (_PROBED); `open_match` empty: no presence.
    One row: each row a statement returns is a step of its own, which gives up the GIL as the
    statement does (a union of the parts returned four rows for a fresh pass). Each part is
    NULL when it found nothing (the usual first entry): nothing to decode."""
    cols = [
        "SELECT json_group_array(json_array(pass_id, list_id, entry_key, scan_id)) "
        f"FROM occupancy_open WHERE pass_id {open_match} HAVING count(*)",
        "SELECT json_group_array(list_id) FROM occupancy_visited "
        f"WHERE pass_id = {pass_ref} HAVING count(*)"] if open_match else ["", ""]
    cols += ([_SINCE_ARRAY.format(p=pass_ref), _BEFORE.format(p=pass_ref)] if entries
             else ["", ""])
    cols.append("SELECT inside FROM occupancy_counts WHERE list_id = :list" if count else "")
    cols += (["SELECT data FROM checkin_lists WHERE id = :lst",
              "SELECT value FROM settings WHERE key = :zone"] if lst else ["", ""])
    return ", ".join(f"({c}) AS {name}" if c else f"NULL AS {name}"
                     for c, name in zip(cols, _PROBED, strict=True))


def _rows(values: tuple[Any, ...], *, has_presence: bool = True,
          has_entries: bool = True) -> PassRows:
    opened, visited_json, since_json, before, inside, text, setting = values
    found: dict[str, list[OpenEntry]] = {}
    if opened is not None:
        # Sorted here (the pass's and a handful of others' open entries, oldest first).
        for owner, lst, key, scan_id in sorted(json.loads(opened), key=lambda r: (r[0], r[2])):
            found.setdefault(owner, []).append(OpenEntry(_list_of(lst), decode_key(str(key)),
                                                         scan_id))
    seen = frozenset(_list_of(v) for v in json.loads(visited_json)) if visited_json else frozenset()
    return PassRows(found, seen, _entries(since_json, before), int(inside or 0), None if text is None else str(text),
                    json.loads(setting) if setting is not None else None,
                    has_presence, has_entries)


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
