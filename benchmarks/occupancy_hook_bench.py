"""What keeping the occupancy rows costs a sync download (docs/checkin-lists.md "The store").

    .venv/bin/python benchmarks/occupancy_hook_bench.py [--events 20000] [--rounds 3]

Appends N synced admissions of N/2 passes in batches of 500 (as a catch-up writes them, no
fsync) into a new store, with and without the store's append hooks (occupancy rows, lists),
once in the log's order and once shuffled (facts from the past: their passes are refolded).
Prints the best of the rounds for each, and the cost a fact.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from station.domain.events import Event, EventType  # noqa: E402
from station.domain.hlc import Stamp  # noqa: E402
from station.store.db import Priority, Store  # noqa: E402

T0 = 1_780_000_000_000
BATCH = 500


def admissions(n: int) -> list[Event]:
    at = "2026-06-01T18:00:00.000Z"
    events = []
    for i in range(n):
        pass_id = f"pas_{i % max(n // 2, 1)}"
        scan = {"id": f"scn_{i}", "passId": pass_id, "stationId": "st_peer", "scannedAt": at,
                "verdict": "accepted", "reason": None, "source": "peer", "operator": None}
        events.append(Event(f"evt_{i}", EventType.PASS_SCANNED, at, {"id": pass_id, "scan": scan},
                            "st_peer", i + 1, Stamp(T0 + i, 0).encode(), pass_id))
    return events


def append_all(events: list[Event], hooks: bool) -> float:
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder), inline_writes=True)
        try:
            if not hooks:
                store._append_hooks.clear()  # the bench's own comparison, nothing else does this
            start = time.perf_counter()
            for k in range(0, len(events), BATCH):
                batch = events[k:k + BATCH]
                store.write(lambda tx, b=batch: tx.append_new_events(b), Priority.SYNC, fsync=False)
            return time.perf_counter() - start
        finally:
            store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ordered = admissions(args.events)
    shuffled = list(ordered)
    random.Random(1).shuffle(shuffled)
    for label, events in (("in order", ordered), ("shuffled", shuffled)):
        without = min(append_all(events, False) for _ in range(args.rounds))
        with_rows = min(append_all(events, True) for _ in range(args.rounds))
        extra_us = (with_rows - without) / len(events) * 1e6
        print(f"{label}: {args.events} events without hooks {without:.2f} s, with "
              f"{with_rows:.2f} s ({extra_us:+.0f} us a fact)")


if __name__ == "__main__":
    main()
