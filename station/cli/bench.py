"""`station bench`: scan latency and import rate on a throwaway data directory."""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import tempfile
import time
from pathlib import Path

from station.app import build_core
from station.cli.bench_import import bench_import
from station.cli.bench_lists import bench_lists
from station.cli.bench_search import bench_search
from station.services.imports import import_passes


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bench = subparsers.add_parser("bench", help="measure scan latency and import rate")
    bench.add_argument("--sizes", default=None,
                       help="pass counts to measure at, comma-separated (default 10000,100000,"
                            "1000000; with --only lists 1000000)")
    bench.add_argument("--scans", type=int, default=3000, help="scans to time at each size")
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument("--import-rows", type=int, default=100_000, metavar="N",
                       help="rows of the CSV-with-e-mails import figure (0: skip it)")
    bench.add_argument("--search-passes", type=int, default=100_000, metavar="N",
                       help="passes of the search figure (0: skip it)")
    bench.add_argument("--facts", type=int, default=None, metavar="N",
                       help="with --only lists: door facts (entries, exits) in the log first "
                            "(default: as many as passes)")
    bench.add_argument("--only", choices=["import", "scans", "search", "lists"],
                       help="measure only the import figure, the scan table, the search figure "
                            "or the check-in list figures (a list with three rules, occupancy)")
    bench.set_defaults(func=_bench)


def _pct(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[min(int(q * len(sorted_ms)), len(sorted_ms) - 1)]


def _write_csv(path: Path, start: int, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "email", "type", "max uses", "valid until"])
        for i in range(start, start + count):
            multi = i % 5 == 0
            writer.writerow([f"Guest {i}", "", "multi" if multi else "single", 3 if multi else "",
                             "2099-01-01T00:00:00Z"])


def _bench(args: argparse.Namespace) -> int:
    if args.only == "search":
        if args.search_passes > 0:
            with tempfile.TemporaryDirectory(prefix="station-bench-") as tmp:
                bench_search(Path(tmp), args.search_passes, args.seed)
        return 0
    if args.only == "lists":
        # A missed goal is a figure to read, not a failure of the command (a noisy machine).
        for size in sorted(int(s) for s in (args.sizes or "1000000").split(",")):
            with tempfile.TemporaryDirectory(prefix="station-bench-") as tmp:
                bench_lists(Path(tmp), size, args.scans, args.seed, args.facts)
        return 0
    if args.only != "scans" and args.import_rows > 0:
        with tempfile.TemporaryDirectory(prefix="station-bench-") as tmp:
            bench_import(Path(tmp), args.import_rows, args.seed)
    if args.only == "import":
        return 0
    sizes = sorted(int(s) for s in (args.sizes or "10000,100000,1000000").split(","))
    rng = random.Random(args.seed)
    print("durability: SQLite WAL, synchronous=FULL (a shown verdict survives a power cut)")
    print(f"{'passes':>9} {'import rows/s':>14} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'scans/s':>9}")
    with tempfile.TemporaryDirectory(prefix="station-bench-") as tmp:
        core = build_core(Path(tmp) / "data")
        have = 0
        try:
            for size in sizes:
                csv_path = Path(tmp) / f"passes-{size}.csv"
                _write_csv(csv_path, have, size - have)
                started = time.perf_counter()
                report = import_passes(csv_path, core.passes, core.clients)
                rate = report.imported / (time.perf_counter() - started)
                have = size
                codes = [r[0] for r in core.store.db().execute(
                    "SELECT code FROM passes WHERE status = 'active' ORDER BY random() LIMIT ?",
                    [args.scans]).fetchall()]
                # One in five scans repeats an earlier code: a refusal path at the door.
                payloads = [c if rng.random() > 0.2 or i == 0 else rng.choice(codes[:i])
                            for i, c in enumerate(codes)]
                latencies: list[float] = []
                wall = time.perf_counter()
                for payload in payloads:
                    t0 = time.perf_counter()
                    core.scans.submit(payload, "hid")
                    latencies.append((time.perf_counter() - t0) * 1000)
                total = time.perf_counter() - wall
                latencies.sort()
                print(f"{size:>9} {rate:>14,.0f} {statistics.median(latencies):>8.3f} "
                      f"{_pct(latencies, 0.95):>8.3f} {_pct(latencies, 0.99):>8.3f} "
                      f"{len(latencies) / total:>9,.0f}", flush=True)
        finally:
            core.close()
    return 0
