"""Fast fillers for `station bench`: passes written through the store's upsert (the path sync
uses: no signing, so a million rows take seconds, not minutes), and door facts (entries and
exits of another door) appended to the log in large transactions with their scan rows, as a
sync download inserts them, so the store's own append hooks keep the occupancy rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from station.domain.codes import new_id
from station.domain.events import Event, EventType, new_event_id
from station.domain.hlc import Stamp
from station.domain.models import Direction, Pass, Scan, Source, Verdict
from station.domain.times import to_iso
from station.store.db import Priority, Store, Tx
from station.store.rows import pass_values

BATCH = 5000  # rows a transaction: large enough that a commit costs nothing per row
PEER = "sta_benchpeer"  # the other door the facts come from


def fill_passes(store: Store, n: int, make: Callable[[int], Pass],
                email: Callable[[int], str | None] = lambda i: None) -> None:
    """n passes `make(0)` … `make(n - 1)` in transactions of BATCH rows, no fsync (a benchmark's
    throwaway directory), then a checkpoint so the first timed read does not pay for the WAL."""
    for start in range(0, n, BATCH):
        rows = [pass_values(make(i), email(i)) for i in range(start, min(start + BATCH, n))]
        store.write(partial(Tx.upsert_pass_values, rows=rows), Priority.USER, fsync=False)
    store.checkpoint()


@dataclass(frozen=True, slots=True)
class Fact:
    """An admitted entry or exit at another door: `list_id` None is a door with no list."""

    pass_: Pass
    at: datetime
    direction: Direction = Direction.ENTRY
    list_id: str | None = None


def fact_event(fact: Fact, seq: int) -> tuple[Scan, Event]:
    """The scan row and the `pass.scanned` event another door records for `fact`, stamped at
    its time (facts written in time order apply on the occupancy hook's fast path)."""
    at = to_iso(fact.at)
    scan = Scan(id=new_id("scn"), pass_id=fact.pass_.id, station_id=PEER, scanned_at=at,
                verdict=Verdict.ACCEPTED, reason=None, source=Source.HID, operator=None,
                payload=fact.pass_.code)
    extras: dict[str, Any] = {}
    if fact.list_id is not None:
        extras["list"] = fact.list_id
    if fact.direction is Direction.EXIT:
        extras["direction"] = str(Direction.EXIT)
    data = {**fact.pass_.to_api(), "scan": {**scan.to_api(), **extras}}
    stamp = Stamp(int(fact.at.timestamp() * 1000), 0).encode()
    return scan, Event(new_event_id(), EventType.PASS_SCANNED, at, data, PEER, seq, stamp,
                       fact.pass_.id)


def record_facts(store: Store, facts: Iterable[Fact], first_seq: int = 1) -> int:
    """Append the facts (in time order) with their scan rows, BATCH a transaction: the store's
    append hooks keep the occupancy rows as for any synced event. The passes' own rows are
    not refolded (their uses stay as they were): the occupancy and the door's rule probes
    read the log and the scans, not the pass row. Returns the next origin sequence."""
    seq = first_seq

    def write(tx: Tx, batch: list[tuple[Scan, Event]]) -> None:
        tx.append_new_events([e for _, e in batch])
        for scan, event in batch:
            tx.insert_scan(scan, event.id, event.data["scan"])

    for batch in _batches(facts):
        made = [fact_event(f, seq + k) for k, f in enumerate(batch)]
        seq += len(made)
        store.write(partial(write, batch=made), Priority.SYNC, fsync=False)
    store.checkpoint()
    return seq


def _batches(facts: Iterable[Fact]) -> Iterator[list[Fact]]:
    batch: list[Fact] = []
    for fact in facts:
        batch.append(fact)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch
