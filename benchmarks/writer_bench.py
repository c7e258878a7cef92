"""The one writer under a history download: how long a door's scan waits while the station
applies a 100,000-event history (services.sync_apply, DOWNLOAD mode: steps of APPLY_STEP
events at priority SYNC), and what the door costs the download. No hub: the history is
recorded at one station, encoded and prepared as the sync client's worker would, and applied
at two fresh stations, one quiet and one whose door scans every 50 ms.

    .venv/bin/python benchmarks/writer_bench.py [--events 100000] [--step 500 --step 1000]

Prints, per step size: the download's time alone and with the door (and their ratio), the door
job's wait in the writer's queue (submitted to started) and the whole scan as the guest waits
it (p50 / p95 / max). Goals (issue 12): scan p95 <= 50 ms, max <= 150 ms, download <= 1.3x.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from station.app import Core, build_core  # noqa: E402
from station.net.sync import prepare, wire  # noqa: E402
from station.services import sync_apply  # noqa: E402
from station.services.passes import PassService  # noqa: E402
from station.services.sync_apply import ApplyMode, RemoteBatch, RemoteEventService  # noqa: E402
from station.store.db import Priority  # noqa: E402
from station.store.rows import event_from_row  # noqa: E402

BATCH = 10_000  # events per apply_batch, as SyncSettings.catch_up_batch


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def history(root: Path, events: int) -> tuple[list[prepare.Prepared], list[str]]:
    source = build_core(root / "source")
    try:
        for start in range(0, events, BATCH):
            source.passes.create_many([PassService.validate(f"G{start + i}")
                                       for i in range(min(BATCH, events - start))])
        rows = source.store.iter_rows("SELECT * FROM events ORDER BY seq")
        stream = [wire.encode(event_from_row(dict(r))) for r in rows]
        keys = source.ctx.keys.public_keys_b64()
    finally:
        source.close()
    return [prepare.unpack(*prepare.prepare(stream[i:i + BATCH]))
            for i in range(0, len(stream), BATCH)], keys


def fresh(path: Path, keys: list[str]) -> Core:
    core = build_core(path)
    for key in keys:
        core.ctx.keys.trust(key)
    return core


def download(core: Core, batches: list[prepare.Prepared]) -> float:
    remote = RemoteEventService(core.ctx)
    t0 = time.perf_counter()
    try:
        for ready in batches:
            # The writer's cost only: signatures are the worker's (sync_bench measures them).
            remote.apply_batch(RemoteBatch(ready.events, ready.texts, ready.checked, ready.folded,
                                           signatures_checked=True),
                               None, ApplyMode.DOWNLOAD).result()
    finally:
        remote.close()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--step", type=int, action="append")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="writer-bench-"))
    t0 = time.perf_counter()
    batches, keys = history(root, args.events)
    total = sum(len(b.events) for b in batches)
    print(f"{total} events recorded and prepared in {time.perf_counter() - t0:.1f} s; "
          f"cores {os.cpu_count()}")
    for run, step in enumerate(args.step or [sync_apply.APPLY_STEP]):
        sync_apply.APPLY_STEP = step
        quiet = fresh(root / f"quiet-{run}", keys)
        try:
            alone_s = download(quiet, batches)
        finally:
            quiet.close()
        door = fresh(root / f"door-{run}", keys)
        guest = door.passes.create(PassService.validate("Door guest", "multi"))
        queued: list[float] = []
        scans: list[float] = []
        done = threading.Event()

        def scan_every_50_ms() -> None:
            while not done.is_set():
                submitted = time.perf_counter()
                started = door.store.submit(lambda tx: time.perf_counter(), Priority.DOOR).result()
                queued.append((started - submitted) * 1000)
                t = time.perf_counter()
                door.scans.submit(guest.public_url)
                scans.append((time.perf_counter() - t) * 1000)
                done.wait(0.05)

        scanner = threading.Thread(target=scan_every_50_ms, name="bench-door")
        try:
            scanner.start()
            with_door_s = download(door, batches)
            done.set()
            scanner.join()
        finally:
            done.set()
            door.close()
        print(f"step {step:>5}: download {alone_s:.2f} s alone, {with_door_s:.2f} s with the door "
              f"({with_door_s / alone_s:.2f}x, goal <= 1.3x); door job queued p50 "
              f"{statistics.median(queued):.1f} / p95 {pct(queued, 95):.1f} / max {max(queued):.1f} ms; "
              f"whole scan p50 {statistics.median(scans):.1f} / p95 {pct(scans, 95):.1f} / "
              f"max {max(scans):.1f} ms over {len(scans)} scans (goal p95 <= 50, max <= 150)")


if __name__ == "__main__":
    main()
