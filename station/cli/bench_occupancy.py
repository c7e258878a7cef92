"""The occupancy half of `station bench --only lists`: a crowd's entries and exits over several
lists put into the log in bulk (bench_data.record_facts: the store's hook keeps the rows, as
for any synced event), the rows checked against the fold of the log on a sample of passes,
and the read that GET /api/v1/occupancy and the Scan view's "inside now" make, timed."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from station.cli.bench_data import Fact
from station.domain.models import Direction, Pass
from station.domain.occupancy import fold_occupancy, movement_from_event
from station.services.lists import ListService
from station.store.db import Store
from station.store.door_reads import inside_counts, presence

GOAL_MS = 1.0


class Crowd:
    """Entries and exits of the passes `ids` (indexes into `make`), `n` facts between `start`
    and `end` in time order: a pass outside enters by a door of its kind's lists, a pass
    inside leaves by a door of the list it entered. Counts what it made (the expected rows)."""

    def __init__(self, make: Callable[[int], Pass], ids: Sequence[int],
                 doors_of: Callable[[Pass], Sequence[str | None]], seed: int) -> None:
        self._make = make
        self._ids = ids
        self._doors_of = doors_of
        self._rng = random.Random(seed)
        self.inside: dict[int, str | None] = {}  # pass index: the list it entered by
        self.touched: set[int] = set()
        self.entries = 0
        self.exits = 0

    def facts(self, n: int, start: datetime, end: datetime) -> Iterator[Fact]:
        # Whole milliseconds apart: each fact's clock stamp sorts it where it was made.
        step_ms = max(1, int((end - start).total_seconds() * 1000) // max(n, 1))
        for k in range(n):
            i = self._rng.choice(self._ids)
            p = self._make(i)
            at = start + timedelta(milliseconds=k * step_ms)
            self.touched.add(i)
            if i in self.inside:
                self.exits += 1
                yield Fact(p, at, Direction.EXIT, self.inside.pop(i))
            else:
                self.entries += 1
                self.inside[i] = self._rng.choice(self._doors_of(p))
                yield Fact(p, at, Direction.ENTRY, self.inside[i])

    def counts(self) -> dict[str | None, int]:
        return dict(Counter(self.inside.values()))


def check_rows(store: Store, crowd: Crowd, make: Callable[[int], Pass], sample: int,
               seed: int) -> str | None:
    """That the rows the hook kept are the fold: the counts are the crowd's, and each sampled
    pass's presence in the rows is `fold_occupancy` of its facts read back from the log. The
    first difference, or None (a figure of wrong rows would mean nothing)."""
    got = inside_counts(store)
    want = {k: v for k, v in crowd.counts().items() if v}
    if got != want:
        return f"the occupancy rows count {got}, the facts {want}"
    ids = sorted(crowd.touched)
    chosen = random.Random(seed).sample(ids, min(sample, len(ids)))
    for i in chosen:
        pass_id = make(i).id
        facts = [m for e in store.events_for_pass(pass_id)
                 if (m := movement_from_event(e)) is not None]
        folded = fold_occupancy(facts).presence(pass_id)
        rows = presence(store, pass_id)
        want_open = (crowd.inside[i],) if i in crowd.inside else ()
        if rows != folded or rows.open_lists != want_open:
            return f"{pass_id}: the rows hold {rows}, the fold of its log {folded}"
    return None


def time_reads(lists: ListService, calls: int) -> list[float]:
    """Milliseconds of each `ListService.occupancy()` (what the API's GET /api/v1/occupancy and
    the Scan view's inside now call), sorted."""
    lists.occupancy()  # the reader's first statement opens its connection: not a door's read
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        lists.occupancy()
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)
