"""The occupancy rows (store/occupancy.py) against the pure fold: after any facts, in any order
of arrival, redelivered, undone or checked out, the rows equal `fold_occupancy` of the facts
the store holds. A real SQLite file; events enter through the store's append path, as sync and
the door write them."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from station.domain.events import Event, EventType
from station.domain.hlc import Stamp
from station.domain.occupancy import fold_events, fold_tally, movement_from_event
from station.store.db import Priority, Store
from station.store.door_reads import inside_counts, presence
from station.store.occupancy import encode_key
from station.store.tx import Tx

T0 = 1_780_000_000_000  # ms
LISTS = [None, "lst_vip", "lst_main"]


def _at(ms: int) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _scan(rng: random.Random, n: int, ms: int, origin: str, pass_id: str) -> Event:
    scan = {"id": f"scn_{n}", "passId": pass_id, "stationId": origin, "scannedAt": _at(ms),
            "verdict": "accepted" if rng.random() < 0.9 else "rejected", "reason": None,
            "source": "manual", "operator": None}
    if rng.random() < 0.4:
        scan["direction"] = "exit"
    list_id = rng.choice(LISTS)
    if list_id:
        scan["list"] = list_id
    return Event(f"evt_{n}", EventType.PASS_SCANNED, _at(ms), {"id": pass_id, "scan": scan},
                 origin, n, Stamp(ms, 0).encode(), pass_id)


def _facts(seed: int, count: int) -> list[Event]:
    """Entries, exits and refusals of a few passes at three doors, some undone, a check-out."""
    rng = random.Random(seed)
    events: list[Event] = []
    for n in range(count):
        ms = T0 + n * 1000 + rng.randrange(0, 900)
        origin = rng.choice(["st_a", "st_b", "st_c"])
        scans = [e for e in events if e.type == EventType.PASS_SCANNED]
        roll = rng.random()
        if roll < 0.03 and scans:
            undone = rng.choice(scans)
            events.append(Event(f"evt_{n}", EventType.SCAN_REVERTED, _at(ms),
                                {"scanId": undone.data["scan"]["id"], "passId": undone.pass_id},
                                origin, n, Stamp(ms, 0).encode(), undone.pass_id))
        elif roll < 0.05:
            events.append(Event(f"evt_{n}", EventType.OCCUPANCY_CHECKOUT, _at(ms),
                                # mostly now; sometimes a scheduled one from the past
                                {"at": _at(ms if rng.random() < 0.7 else ms - rng.randrange(5000)),
                                 "listId": rng.choice(LISTS), "by": "test"},
                                origin, n, Stamp(ms, 0).encode(), None))
        else:
            events.append(_scan(rng, n, ms, origin, f"pas_{rng.randrange(12)}"))
    return events


def _append(store: Store, batch: list[Event]) -> None:
    def write(tx: Tx) -> None:
        for event in batch:
            tx.append_event(event)
    store.write(write, Priority.SYNC)


@pytest.mark.parametrize("seed", range(8))
def test_rows_equal_the_fold_whatever_the_order_of_arrival(tmp_path: Path, seed: int) -> None:
    events = _facts(seed, 250)
    rng = random.Random(seed + 100)
    # In order (as a door writes), or with facts arriving late and redelivered (sync).
    arrival = list(events)
    for _ in range(40 if seed % 2 else 0):
        i, j = rng.randrange(len(arrival)), rng.randrange(len(arrival))
        arrival[i], arrival[j] = arrival[j], arrival[i]
    arrival += rng.sample(events, 20)
    store = Store(tmp_path, inline_writes=True)
    try:
        held: list[Event] = []
        while arrival:
            size = rng.randrange(1, 6)
            batch, arrival = arrival[:size], arrival[size:]
            _append(store, batch)
            held += batch
            _assert_rows_equal_fold(store, held)  # after every batch, not only at the end
    finally:
        store.close()


def _assert_rows_equal_fold(store: Store, held: list[Event]) -> None:
    expected = fold_events(held)
    # The open entries themselves (which entry each exit took), not only their lists.
    tally = fold_tally(m for e in held if (m := movement_from_event(e)) is not None)
    want_open = sorted((p, e.list_id or "", encode_key(e.key))
                       for p, entries in tally.open.items() for e in entries)
    got_open = sorted(tuple(r.values()) for r in store.db().query(
        "SELECT pass_id, list_id, entry_key FROM occupancy_open"))
    assert got_open == want_open
    assert inside_counts(store) == {k: v for k, v in expected.by_list.items() if v}
    pass_ids = {e.pass_id for e in held if e.pass_id}
    seen = {p: presence(store, p) for p in pass_ids}
    for pass_id in pass_ids:
        want = expected.presence(pass_id)
        got = seen[pass_id]
        assert got.open_lists == want.open_lists, pass_id
        assert got.visited == want.visited, pass_id
