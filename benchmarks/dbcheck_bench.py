"""What the database checks cost. Prints medians; asserts nothing.

    .venv/bin/python benchmarks/dbcheck_bench.py [--passes 100000] [--data-dir DIR]

Builds a station with N imported passes (or reuses --data-dir), then times the start-up probe
every command runs (station.store.health.probe), SQLite's `PRAGMA quick_check` and
`integrity_check`, and the whole `station check` and `station backup` commands. The figures
decided what runs at every start: the probe only (see station/store/health.py).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

from station.store import health  # noqa: E402


def median_s(run: Callable[[], object], times: int) -> float:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        spent.append(time.perf_counter() - start)
    return statistics.median(spent)


def station(data_dir: Path, *args: str) -> None:
    env = {**os.environ, "STATION_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "station", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pragma(db: Path, statement: str) -> None:
    conn = health.open_read_only(db)
    try:
        conn.execute(statement).fetchall()
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passes", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dbcheck-bench-"))
    data_dir = args.data_dir or work / "data"
    if args.data_dir is None:
        guests = work / "guests.csv"
        with guests.open("w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["name", "type", "max uses"])
            for i in range(args.passes):
                multi = i % 3 == 0
                out.writerow([f"Guest {i}", "multi" if multi else "single", 3 if multi else ""])
        station(data_dir, "passes", "import", str(guests))
    db = data_dir / "station.db"
    backup = work / "backup.db"

    def make_backup() -> None:
        backup.unlink(missing_ok=True)
        station(data_dir, "backup", str(backup))

    print(f"database: {db.stat().st_size / 1e6:.1f} MB")
    print(f"start-up probe:          {median_s(lambda: health.probe(db), 50) * 1000:.2f} ms")
    print(f"PRAGMA quick_check:      {median_s(lambda: pragma(db, 'PRAGMA quick_check'), 3):.2f} s")
    print(f"PRAGMA integrity_check:  {median_s(lambda: pragma(db, 'PRAGMA integrity_check'), 3):.2f} s")
    print(f"station check (process): {median_s(lambda: station(data_dir, 'check'), 3):.2f} s")
    print(f"station backup (process): {median_s(make_backup, 3):.2f} s")


if __name__ == "__main__":
    main()
