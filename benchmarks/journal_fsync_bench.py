"""A door journal's append (one fsync'd COMMIT) while another database of the same disk takes a
download's writes: a WAL that grows with each append against one that is overwritten
(docs/door-journal.md, "Why a scan's fsync stays short").

    .venv/bin/python benchmarks/journal_fsync_bench.py [--seconds 30]

Two real DoorJournals in one temporary folder on the disk of the data directory, appended to in
turn every 25 ms (so each sees the same moments of the machine's load): one as the station
has it (its WAL grown when opened, copied back before each delete), one as before (neither:
its WAL lengthens until SQLite's own copy at 1,000 pages). Each journal's entries are deleted
every 4 appends, as a merge would. Meanwhile a thread writes rows into a third database as a
catch-up does (WAL, synchronous=NORMAL, 10,000 rows a transaction) and another copies that
WAL into its file every 0.25 s (PASSIVE, as the station's copier). Prints each journal's
append time p50/p95/max in ms. Timing only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from station.store.door_journal import DoorJournal  # noqa: E402


def download(path: Path, stop: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # copied by the copier, as during a download
    conn.execute("CREATE TABLE IF NOT EXISTS events (id TEXT PRIMARY KEY, data TEXT)")
    row = 0
    while not stop.is_set():
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO events VALUES (?, ?)",
                         ((f"ev{row + i:012d}", os.urandom(300).hex()) for i in range(10_000)))
        conn.execute("COMMIT")
        row += 10_000
    conn.close()


def copier(path: Path, stop: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    while not stop.wait(0.25):
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    conn.close()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--dir", default=None, help="a folder on the disk to test (default: "
                        "a temporary folder)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="journal-fsync-", dir=args.dir))
    overwritten = DoorJournal(root / "overwritten")
    growing = DoorJournal(root / "growing")
    growing._preallocate_wal = lambda conn: None  # type: ignore[method-assign]  # as before
    growing._copy_wal = lambda: None  # type: ignore[method-assign]
    for journal in (overwritten, growing):
        journal.path.parent.mkdir()
    stop = threading.Event()
    threads = [threading.Thread(target=download, args=(root / "main.db", stop)),
               threading.Thread(target=copier, args=(root / "main.db", stop))]
    for t in threads:
        t.start()
    times: dict[str, list[float]] = {"overwritten": [], "growing": []}
    ids: dict[str, list[int]] = {"overwritten": [], "growing": []}
    entry = '{"scan": {}, "event": null, "counts": true, "expire": false, "pad": "' + "x" * 1500 + '"}'
    end = time.monotonic() + args.seconds
    n = 0
    try:
        while time.monotonic() < end:
            for name, journal in (("overwritten", overwritten), ("growing", growing)):
                t = time.perf_counter()
                ids[name].append(journal.append("2026-06-01T18:00:00.000Z", f"pas_{n % 50}",
                                                f"scn_{n}", entry))
                times[name].append((time.perf_counter() - t) * 1000)
                if len(ids[name]) >= 4:  # a merge
                    journal.delete(ids[name])
                    ids[name] = []
                time.sleep(0.025)
            n += 1
    finally:
        stop.set()
        for t in threads:
            t.join()
        overwritten.close()
        growing.close()
    print(f"{n} appends each over {args.seconds:.0f} s in {root}, {time.strftime('%H:%M:%S')} UTC")
    for name, values in times.items():
        first = values[1:]  # the first append opens the journal
        print(f"  {name:<12} append p50 {statistics.median(first):.2f} ms, p95 "
              f"{pct(first, 95):.2f} ms, p99 {pct(first, 99):.2f} ms, max {max(first):.2f} ms")
    for path in sorted(root.rglob("*")):
        if path.is_file():
            path.unlink()


if __name__ == "__main__":
    main()
