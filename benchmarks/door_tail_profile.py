"""Where a door's slow scans wait while its station downloads a history (issue 12's tail).

    .venv/bin/python benchmarks/door_tail_profile.py [--events 30000] [--own-process]

A hub, station A with N passes published, station D downloading them while its door scans a
multi-use pass every 50 ms (as sync_bench's 1b/1c, the window's path: wait_merged=False).
The door's scans are timed phase by phase (exclusive wall and CPU time of this thread):
token verify, the journal's lock, BEGIN, the journal read, the reader's queries, the rest of
the decision, the INSERT, the COMMIT (its fsync), the merge thread's wake-up. Meanwhile every
COMMIT and checkpoint of D's connections, the writer's transactions, the merges and the
journal's deletes are recorded, and with each scan the size of both WALs and the kernel's
dirty pages. Printed: the phases of all scans and of the slowest 5 %, which phase dominated
each slow scan, and what else ran while it did. `--own-process`: D in a process of its own
(as sync_bench's 1c), else in this one with A. Instrumentation costs a little: compare runs of
this script with each other, not with sync_bench.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import keyring  # noqa: E402

from memory_keyring import MemoryKeyring  # noqa: E402
from sync_bench import free_port, pct, station, wait  # noqa: E402

_now = time.perf_counter
_local = threading.local()
_intervals: list[tuple[str, str, float, float]] = []  # (kind, thread, start, end)
_interval_lock = threading.Lock()


def _record(kind: str, start: float, end: float) -> None:
    with _interval_lock:
        _intervals.append((kind, threading.current_thread().name, start, end))


class _Scan:
    """One scan's phases: exclusive wall and CPU seconds, by a stack of open phases."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.stack: list[list[Any]] = []  # [name, wall0, cpu0, child wall, child cpu]

    def enter(self, name: str) -> None:
        self.stack.append([name, _now(), time.thread_time(), 0.0, 0.0])

    def leave(self) -> None:
        name, w0, c0, cw, cc = self.stack.pop()
        w, c = _now() - w0, time.thread_time() - c0
        self.wall[name] += w - cw
        self.cpu[name] += c - cc
        if self.stack:
            self.stack[-1][3] += w
            self.stack[-1][4] += c


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    scan: _Scan | None = getattr(_local, "scan", None)
    if scan is None:
        yield
        return
    scan.enter(name)
    try:
        yield
    finally:
        scan.leave()


def _timed(owner: Any, attr: str, name: str) -> None:
    fn = getattr(owner, attr)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with phase(name):
            return fn(*args, **kwargs)
    setattr(owner, attr, wrapper)


def _interval(owner: Any, attr: str, kind: str) -> None:
    fn = getattr(owner, attr)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = _now()
        try:
            return fn(*args, **kwargs)
        finally:
            _record(kind, t, _now())
    setattr(owner, attr, wrapper)


class _TimedConnection(sqlite3.Connection):
    """Records each COMMIT and checkpoint of D's connections as an interval."""

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        kind = ("commit" if sql == "COMMIT" else "checkpoint" if "wal_checkpoint" in sql
                else None)
        if kind is None:
            return super().execute(sql, *args)
        t = _now()
        try:
            return super().execute(sql, *args)
        finally:
            _record(kind, t, _now())


def instrument() -> None:
    """Timers around the door's path and D's background work (this process only)."""
    from station.services import scan_merge, scans
    from station.store import db, door_journal, writer
    from station.store.failures import storage_errors

    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", _TimedConnection)
        return real_connect(*args, **kwargs)
    sqlite3.connect = connect  # type: ignore[assignment]

    submit = scans.ScanService.submit

    def timed_submit(self: Any, *args: Any, **kwargs: Any) -> Any:
        _local.scan = scan = _Scan()
        scan.enter("other")
        try:
            return submit(self, *args, **kwargs)
        finally:
            scan.leave()
            _local.scan = None
            _local.last = scan
    scans.ScanService.submit = timed_submit  # type: ignore[method-assign]
    _timed(scans.ScanService, "_verify", "verify")
    _timed(scans.ScanService, "_claim", "claim")
    _timed(scans.ScanService, "_decide", "decide")
    _timed(door_journal.Appending, "entries_for", "journal read")
    _timed(door_journal.Appending, "add", "insert")
    for attr in ("pass_by_id", "pass_by_code", "events_present", "events_for_pass"):
        _timed(db.Store, attr, "reader")
    _timed(scan_merge.ScanMerger, "appended", "wake merge")

    @contextlib.contextmanager
    def appending(self: Any) -> Iterator[Any]:  # DoorJournal.appending with its phases
        with phase("lock"):
            self._lock.acquire()
        try:
            with self._failures("record the scan", "nothing was admitted"):
                with phase("connect"):
                    conn = self._connection()
                with phase("begin"):
                    conn.execute("BEGIN IMMEDIATE")
                try:
                    yield door_journal.Appending(conn)
                    with phase("commit"):
                        conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        finally:
            self._lock.release()
    door_journal.DoorJournal.appending = appending  # type: ignore[method-assign]
    del storage_errors

    transaction = writer.Writer._transaction

    def timed_transaction(self: Any, fn: Callable[[Any], Any], fsync: bool) -> Any:
        t = _now()
        try:
            return transaction(self, fn, fsync)
        finally:
            _record("writer tx (download)" if not fsync else "writer tx (fsync)", t, _now())
    writer.Writer._transaction = timed_transaction  # type: ignore[method-assign]
    _interval(scan_merge.ScanMerger, "merge_pending", "merge")
    _interval(door_journal.DoorJournal, "delete", "journal delete")


def _dirty_kb() -> int:
    """Dirty + Writeback pages of the whole machine (kB): what a jbd2 commit may flush."""
    total = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(("Dirty:", "Writeback:")):
                total += int(line.split()[1])
    return total


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def run_door(url: str, data_dir: Path, pass_url: str, total: int, door: bool = True
             ) -> dict[str, Any]:
    """Build D, scan every 50 ms (unless not `door`) until it holds `total` events; the
    records as JSON-able."""
    instrument()
    if os.environ.get("DOOR_TAIL_SWITCH_INTERVAL"):  # to try the GIL's hand-over period
        sys.setswitchinterval(float(os.environ["DOOR_TAIL_SWITCH_INTERVAL"]))
    t0 = _now()
    d = station(data_dir.parent, data_dir.name, url)
    journal_wal = data_dir / "door-journal.db-wal"
    main_wal = data_dir / "station.db-wal"
    scans: list[dict[str, Any]] = []
    try:
        def caught_up() -> bool:
            return d.sync.in_sync() and d.core.store.count_events() >= total  # type: ignore[union-attr]

        done = False
        while not done:
            t = _now()
            cpu = time.thread_time()
            if not door:
                while not (done := caught_up()):
                    time.sleep(0.005)
                break
            d.core.scans.submit(pass_url, "camera", wait_merged=False)
            end = _now()
            scan: _Scan = _local.last
            scans.append({"start": t, "end": end, "wall": dict(scan.wall), "cpu": dict(scan.cpu),
                          "total_cpu": time.thread_time() - cpu,
                          "journal_wal": _size(journal_wal), "main_wal": _size(main_wal),
                          "dirty_kb": _dirty_kb()})
            while not (done := caught_up()) and _now() < t + 0.05:
                time.sleep(0.005)
        seconds = _now() - t0
        wait(lambda: d.core.scans.merger.pending_count() == 0, 120, "the door's merges")
    finally:
        d.stop()
    with _interval_lock:
        intervals = list(_intervals)
    usage = resource.getrusage(resource.RUSAGE_SELF)  # less at the mercy of other work than wall
    return {"seconds": seconds, "scans": scans, "intervals": intervals,
            "cpu_s": usage.ru_utime + usage.ru_stime}


def writer_line(result: dict[str, Any]) -> str:
    """What the writer did: the download's transactions, the fsync'd ones (merges) and how
    long they held it, and the process's CPU."""
    spans: dict[str, list[float]] = defaultdict(list)
    for kind, _thread, start, end in result["intervals"]:
        spans[kind].append(end - start)
    down, synced = spans["writer tx (download)"], spans["writer tx (fsync)"]
    return (f"writer: {len(down)} download transactions ({sum(down):.2f} s), {len(synced)} "
            f"fsync'd ({sum(synced):.2f} s); {len(spans['merge'])} merges; process CPU "
            f"{result['cpu_s']:.1f} s")


def report(result: dict[str, Any]) -> None:
    scans = result["scans"]
    totals = [(s["end"] - s["start"]) * 1000 for s in scans]
    print(f"{len(scans)} scans during a download of {result['seconds']:.1f} s: p50 "
          f"{statistics.median(totals):.1f} ms, p95 {pct(totals, 95):.1f} ms, max "
          f"{max(totals):.1f} ms")
    cut = pct(totals, 95)
    slow = [s for s, t in zip(scans, totals) if t >= cut]
    names = sorted({n for s in scans for n in s["wall"]},
                   key=lambda n: -sum(s["wall"].get(n, 0) for s in slow))

    def mean(group: list[dict[str, Any]], key: str, name: str) -> float:
        return sum(s[key].get(name, 0.0) for s in group) / max(1, len(group)) * 1000
    print(f"\nphase (exclusive ms)   all: mean wall / cpu     slowest 5 % ({len(slow)}, "
          f">= {cut:.1f} ms): mean wall / cpu")
    for n in names:
        print(f"  {n:<20} {mean(scans, 'wall', n):8.2f} / {mean(scans, 'cpu', n):6.2f}"
              f"          {mean(slow, 'wall', n):8.2f} / {mean(slow, 'cpu', n):6.2f}")
    dominant = Counter(max(s["wall"], key=lambda n: s["wall"][n]) for s in slow)
    print("dominant phase of each slow scan: " +
          ", ".join(f"{n} {c}" for n, c in dominant.most_common()))
    print("slowest 10 (ms: total; top phases; journal WAL KiB; main WAL MiB; dirty MiB):")
    for s in sorted(scans, key=lambda s: s["start"] - s["end"])[:10]:
        top = sorted(s["wall"].items(), key=lambda kv: -kv[1])[:3]
        print(f"  {(s['end'] - s['start']) * 1000:6.1f}; "
              + ", ".join(f"{n} {v * 1000:.1f}" for n, v in top)
              + f"; {s['journal_wal'] / 1024:.0f}; {s['main_wal'] / 2**20:.1f}; "
                f"{s['dirty_kb'] / 1024:.0f}")

    # What ran meanwhile: of the commits of all scans / of the slow ones, how many overlapped...
    door = [(s["start"], s["end"]) for s in scans]
    by_kind: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for kind, thread, start, end in result["intervals"]:
        if kind == "commit" and thread == "MainThread":
            continue  # the door's own commits
        by_kind[f"{kind} [{thread}]" if kind in ("commit", "checkpoint") else kind].append(
            (start, end))

    def overlaps(span: tuple[float, float], items: list[tuple[float, float]]) -> bool:
        return any(a < span[1] and b > span[0] for a, b in items)
    slow_spans = [(s["start"], s["end"]) for s in slow]
    print("\nbackground work overlapping a scan: all scans / slowest 5 % (count, mean ms of "
          "that work)")
    for kind, items in sorted(by_kind.items()):
        items.sort()
        share_all = sum(overlaps(sp, items) for sp in door) / len(door) * 100
        share_slow = sum(overlaps(sp, items) for sp in slow_spans) / max(1, len(slow)) * 100
        durations = [(b - a) * 1000 for a, b in items]
        print(f"  {kind:<44} {share_all:5.1f} % / {share_slow:5.1f} %   ({len(items)}, "
              f"{statistics.mean(durations):.1f} ms, max {max(durations):.1f})")
    commits = [s["wall"].get("commit", 0) * 1000 for s in scans]
    print(f"\ndoor COMMIT (fsync) p50 {statistics.median(commits):.2f} ms, p95 "
          f"{pct(commits, 95):.2f} ms, max {max(commits):.2f} ms; journal WAL "
          f"{scans[0]['journal_wal'] // 1024} -> {max(s['journal_wal'] for s in scans) // 1024} KiB")
    grew = [c for c, a, b in zip(commits[1:], scans, scans[1:]) if b["journal_wal"] > a["journal_wal"]]
    same = [c for c, a, b in zip(commits[1:], scans, scans[1:]) if b["journal_wal"] <= a["journal_wal"]]
    if grew and same:
        print(f"  commits that grew the journal's WAL: {len(grew)}, p50 {statistics.median(grew):.2f}"
              f" ms, p95 {pct(grew, 95):.2f} ms; that did not: {len(same)}, p50 "
              f"{statistics.median(same):.2f} ms, p95 {pct(same, 95):.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--own-process", action="store_true")
    parser.add_argument("--ratio", action="store_true", help="first the same download "
                        "without a door (own process): print the download's slowdown")
    parser.add_argument("--child", choices=["door", "quiet"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--pass-url", help=argparse.SUPPRESS)
    parser.add_argument("--total", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    keyring.set_keyring(MemoryKeyring())
    if args.child:
        print(json.dumps(run_door(args.url, Path(args.dir), args.pass_url, args.total,
                                  door=args.child == "door")))
        return
    from station.net.sync.hub import HubServer, new_password
    from station.services.passes import PassService

    root = Path(tempfile.mkdtemp(prefix="door-tail-"))
    hub = HubServer(root / "hub", new_password(), port=free_port())
    hub.start()
    url = hub.target.full_url()
    try:
        a = station(root, "A", url)
        try:
            wait(lambda: a.sync.in_sync(), 30, "A in sync")  # type: ignore[union-attr]
            for start in range(0, args.events, 10_000):
                a.core.passes.create_many([PassService.validate(f"G{start + i}")
                                           for i in range(min(10_000, args.events - start))])
            door_pass = a.core.passes.create(PassService.validate("Door guest", "multi"))
            wait(lambda: a.sync.pending() == 0, 600, "A to publish")  # type: ignore[union-attr]
            total = a.core.store.count_events()
            print(f"{total} events published; D {'in its own process' if args.own_process else 'in this process'}"
                  f", {os.cpu_count()} cores, {time.strftime('%H:%M:%S')} UTC")
            def own(mode: str, name: str) -> dict[str, Any]:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", mode, "--url", url, "--dir",
                     str(root / name), "--pass-url", door_pass.public_url, "--total",
                     str(total)], capture_output=True, text=True, timeout=1200,
                    check=True).stdout
                return dict(json.loads(out.strip().splitlines()[-1]))
            quiet = own("quiet", "C") if args.ratio else None
            if args.own_process or args.ratio:
                result = own("door", "D")
            else:
                result = run_door(url, root / "D", door_pass.public_url, total)
        finally:
            a.stop()
        report(result)
        print(writer_line(result))
        if quiet is not None:
            print(f"without a door: {quiet['seconds']:.2f} s, {writer_line(quiet)}")
            print(f"download without a door {quiet['seconds']:.2f} s, with "
                  f"{result['seconds']:.2f} s: {result['seconds'] / quiet['seconds']:.2f}x; "
                  f"process CPU {result['cpu_s'] / quiet['cpu_s']:.2f}x")
    finally:
        hub.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
