"""Check-in lists as rows: the fold of every `list.changed` event (domain/list_log.py),
written again in the transaction that inserts one, so the rows always match the log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from station.domain.checkin_list import CheckinList, parse_checkin_list
from station.domain.events import Event, EventType
from station.domain.list_log import ListsState, fold_lists
from station.store.rows import event_from_row
from station.store.tx import Tx

if TYPE_CHECKING:
    from station.store.db import Store


def keep_lists(tx: Tx, events: Sequence[Event]) -> None:
    """Append hook: refold the lists when a list.changed event was inserted (a handful of
    events; the fold, not the last change, decides: edits arrive in any order)."""
    if any(e.type == EventType.LIST_CHANGED for e in events):
        materialise(tx)


def materialise(tx: Tx) -> ListsState:
    state = fold_lists(event_from_row(dict(r)) for r in tx.execute(
        "SELECT * FROM events WHERE type = ?", (EventType.LIST_CHANGED,)))
    tx.execute("DELETE FROM checkin_lists")
    tx.executemany("INSERT INTO checkin_lists (id, name, data) VALUES (?, ?, ?)",
                   [(x.id, x.name, json.dumps(x.to_json(), sort_keys=True))
                    for x in state.lists.values()])
    return state


def lists_in(tx: Tx) -> dict[str, CheckinList]:
    """The lists as this transaction sees them."""
    return {r[0]: parse_checkin_list(json.loads(r[1]))
            for r in tx.execute("SELECT id, data FROM checkin_lists ORDER BY name, id")}


def list_text(store: Store, list_id: str) -> str | None:
    """One list's stored JSON (a primary-key probe), on the caller's reader connection."""
    row = store.fetch_one("SELECT data FROM checkin_lists WHERE id = ?", (list_id,))
    return None if row is None else str(row["data"])


def parse_list_text(text: str) -> CheckinList:
    return parse_checkin_list(json.loads(text))


def read_lists(store: Store) -> dict[str, CheckinList]:
    """The lists, on the caller's reader connection."""
    return {r["id"]: parse_checkin_list(json.loads(r["data"]))
            for r in store.fetch_all("SELECT id, data FROM checkin_lists ORDER BY name, id")}
