"""Random ids against ids that start with the time they were made (domain/codes.py).

Inserts the same events into two fresh station databases (the station's own schema, WAL,
transactions of 250 events as a history download's steps, no fsync), one with random 32-hex
ids, one with new_event_id(), alternating rounds, and prints the WAL pages each commit wrote and
the CPU seconds. Usage: python benchmarks/id_order_bench.py [--events N] [--rounds R]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from station.domain.events import new_event_id  # noqa: E402
from station.store.migrations import migrate  # noqa: E402

STEP = 250


def run(folder: Path, kind: str, n: int) -> tuple[float, float]:
    path = folder / f"{kind}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    migrate(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # every page written stays in the WAL: counted
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    make = (lambda: f"evt_{secrets.token_hex(16)}") if kind == "random" else new_event_id
    cpu = time.process_time()
    for start in range(0, n, STEP):
        rows = [(make(), "pass.created", "sta_bench", i, f"{i:020d}", f"pas_{secrets.token_hex(10)}",
                 f"2026-12-03T{i:010d}", '{"name":"G%d","note":"%s"}' % (i, "x" * 300))
                for i in range(start, min(start + STEP, n))]
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO events (id, type, origin, origin_seq, hlc, pass_id, timestamp,"
                         " data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    cpu = time.process_time() - cpu
    pages = os.path.getsize(f"{path}-wal") / 4096 / -(-n // STEP)
    conn.close()
    return pages, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"random": [], "time-ordered": []}
    with tempfile.TemporaryDirectory(prefix="id-order-") as tmp:
        for _ in range(args.rounds):
            for kind in results:
                results[kind].append(run(Path(tmp), kind, args.events))
    for kind, runs in results.items():
        print(f"{kind:13s} ids: {statistics.median(p for p, _ in runs):5.0f} WAL pages per commit, "
              f"CPU {statistics.median(c for _, c in runs):.2f} s for {args.events:,} events")
    ratio = statistics.median(p for p, _ in results["time-ordered"]) / statistics.median(
        p for p, _ in results["random"])
    print(f"time-ordered / random pages per commit: {ratio:.2f}")


if __name__ == "__main__":
    main()
