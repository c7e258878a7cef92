"""Where a single-use scan with a hub claim spends its time (issue 15's last figure: sync_bench
section 3, "whole single-use scan with claim ... at the door").

    .venv/bin/python benchmarks/claim_scan_profile.py [--repo PATH] [--passes 200]
        [--mode alternate|door|api|claims] [--gap SECONDS] [--followers 2] [--no-peer]
        [--loop-profile]

A hub and stations on this machine, in one process as sync_bench sets them up: A creates N
single-use passes, B scans each once with its claim, and `--followers` more stations (2, as C
and D in sync_bench) follow the hub, so each of B's scans is applied by three others in this
process (`--no-peer`: A and the followers stop before B scans). `--mode alternate` (the
default) scans as sync_bench section 3 does: door scans (verdict once durable) and API scans
(once in the log) in turn; the door's figures are its scans'. `claims` times the claim alone.
`--gap` waits that long between scans (0: back to back, as sync_bench), to tell the scan's
own cost from what runs behind it (merges, publishing, the others applying).

Each phase is timed by wrapping the code's parts from this script (nothing in the product):
- `verify`: ScanService._verify (the token's signature),
- `claim`: ScanService._claim, of which `claim rtt` is the claimer (the hub's round trip,
  through the sync loop thread: `rtt: to loop` until its coroutine starts there, `rtt: in
  loop` the coroutine, `rtt: back` until the scanning thread has the answer) and `claim
  other` the rest (the pass read for the claim),
- `journal enter`: from asking for the door journal's write transaction to inside it (its lock,
  BEGIN IMMEDIATE), `decide` (ScanService._decide, the reads and the verdict), `journal commit`
  (the fsync'd COMMIT); absent before the journal (commit 0cce0dd),
- `write`: before the journal, the scan minus `verify` and `claim`: the main writer's job
  (queue, the scan's statements, fsync'd commit) and the payload's parsing,
- `merge_now` (API scans: the merge into the log under the journal's lock),
- `rest`: the whole scan minus the phases above (the payload's parsing, the entry's JSON and
  INSERT, telling the merge thread and the window).
It also prints the process's CPU a scan (every thread, the others' included), each thread's
(by name: the stations' threads share names), the door scans that overlapped a merge thread's
merge, and with `--loop-profile` what B's sync loop thread did during the scans (cProfile).
`--repo` runs another checkout's code (e.g. a worktree of the commit before issue 15): the same
script measures both.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

parser = argparse.ArgumentParser()
parser.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent))
parser.add_argument("--passes", type=int, default=200)
parser.add_argument("--mode", choices=["alternate", "door", "api", "claims"], default="alternate")
parser.add_argument("--gap", type=float, default=0.0)
parser.add_argument("--loop-profile", action="store_true",
                    help="cProfile B's sync loop thread during the scans (slower): what it does "
                         "besides the claims")
parser.add_argument("--followers", type=int, default=2,
                    help="stations besides A and B that follow the hub (sync_bench section 3 "
                         "runs with C and D as well: each applies every scan B publishes)")
parser.add_argument("--no-peer", action="store_true",
                    help="stop A before B scans (no follower applying B's scans in this process)")
args = parser.parse_args()
sys.path.insert(0, args.repo)

import keyring  # noqa: E402

from station.app import StationOptions, build_station  # noqa: E402
from station.net.sync.claims import HubClaims  # noqa: E402
from station.net.sync.hub import HubServer, new_password  # noqa: E402
from station.services.passes import PassService  # noqa: E402
from station.services.scans import ScanService  # noqa: E402

try:
    from station.services.scan_merge import ScanMerger
    from station.store.door_journal import DoorJournal
except ImportError:  # before the door journal (issue 12)
    ScanMerger = DoorJournal = None  # type: ignore[assignment,misc]

from bench_helpers import free_port, pct, wait  # noqa: E402
from memory_keyring import MemoryKeyring as _MemoryKeyring  # noqa: E402

# The phases of the scan being timed (one scan at a time, on the main thread).
scan_phases: dict[str, float] = {}
timing = threading.local()
merges: list[tuple[float, float]] = []  # the merge thread's merges (start, end)
in_loop: list[tuple[float, float]] = []  # the claim coroutines on the loop (start, end)


def add(name: str, seconds: float) -> None:
    if getattr(timing, "on", False):
        scan_phases[name] = scan_phases.get(name, 0.0) + seconds * 1000


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*a, **kw)
        finally:
            add(name, time.perf_counter() - t)
    return wrapper


def wrap_methods() -> None:
    ScanService._verify = timed("verify", ScanService._verify)  # type: ignore[method-assign]
    ScanService._claim = timed("claim", ScanService._claim)  # type: ignore[method-assign]
    hub_claim = HubClaims.claim

    async def claim_in_loop(self: Any, *a: Any, **kw: Any) -> Any:
        # On the sync loop thread: when the claimer's coroutine started, and how long it ran.
        started = time.perf_counter()
        try:
            return await hub_claim(self, *a, **kw)
        finally:
            in_loop.append((started, time.perf_counter()))
    HubClaims.claim = claim_in_loop  # type: ignore[method-assign]
    if DoorJournal is None:
        ScanService._submit_in = timed("decide", ScanService._submit_in)  # type: ignore[attr-defined]
        return
    ScanService._decide = timed("decide", ScanService._decide)  # type: ignore[method-assign]
    original = DoorJournal.appending

    @contextlib.contextmanager
    def appending(self: Any) -> Iterator[Any]:
        t = time.perf_counter()
        cm = original(self)
        journal = cm.__enter__()
        add("journal enter", time.perf_counter() - t)
        try:
            yield journal
        except BaseException:
            if not cm.__exit__(*sys.exc_info()):
                raise
        else:
            t = time.perf_counter()
            cm.__exit__(None, None, None)
            add("journal commit", time.perf_counter() - t)
    DoorJournal.appending = appending  # type: ignore[method-assign]
    ScanMerger.merge_now = timed("merge_now", ScanMerger.merge_now)  # type: ignore[method-assign]
    merge_pending = ScanMerger.merge_pending

    def logged_merge(self: Any, *a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return merge_pending(self, *a, **kw)
        finally:
            if threading.current_thread().name != "MainThread":
                merges.append((t, time.perf_counter()))
    ScanMerger.merge_pending = logged_merge  # type: ignore[method-assign]


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each of this process's threads so far, by name (/proc, Linux)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(task.name), "(not Python)")
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def main() -> None:
    keyring.set_keyring(_MemoryKeyring())
    wrap_methods()
    root = Path(tempfile.mkdtemp(prefix="claim-profile-"))
    hub = HubServer(root / "hub", new_password(), port=free_port())
    hub.start()
    url = hub.target.full_url()
    stations = []
    try:
        for name in ("A", "B", *(f"F{k}" for k in range(args.followers))):
            s = build_station(StationOptions(data_dir=root / name, sync_url=url,
                                             sweep_interval_s=3600, api_enabled=False,
                                             claim_timeout_s=0.15))
            s.core.store.set_setting("station_name", name)
            s.start()
            stations.append(s)
        a, b = stations[:2]
        wait(lambda: all(s.sync.in_sync() for s in stations), 60, "the stations in sync")
        singles = a.core.passes.create_many(
            [PassService.validate(f"S{i}", "single") for i in range(args.passes)])
        wait(lambda: b.core.store.pass_by_id(singles[-1].id) is not None, 120, "the passes at B")
        if args.no_peer:
            for s in stations[2:] + [a]:
                stations.remove(s)
                s.stop()
        wrapped_claimer = b.core.scans.claimer
        def claimer(pass_id: str) -> Any:
            in_loop.clear()
            t = time.perf_counter()
            try:
                return wrapped_claimer(pass_id)
            finally:
                end = time.perf_counter()
                add("claim rtt", end - t)
                if in_loop:  # the hand-off to the loop, the hub's answer, the hand-back
                    started, ended = in_loop[0]
                    add("rtt: to loop", started - t)
                    add("rtt: in loop", ended - started)
                    add("rtt: back", end - ended)
        b.core.scans.claimer = claimer
        door: list[dict[str, float]] = []
        api: list[dict[str, float]] = []
        overlapped = 0
        offline = 0
        kwargs_ok = DoorJournal is not None
        profile = cProfile.Profile() if args.loop_profile else None
        if profile is not None:  # enabled on the loop thread: profiles that thread only
            b.runtime.call_soon(profile.enable)
        cpu, wall = time.process_time(), time.perf_counter()
        threads_before = thread_cpu()
        for i, p in enumerate(singles):
            logged = args.mode == "api" or (args.mode == "alternate" and i % 2 == 1)
            scan_phases.clear()
            timing.on = True
            t = time.perf_counter()
            if args.mode == "claims":  # the claim alone, as sync_bench's "claim (KV create)"
                claimer(p.id)
                timing.on = False
                door.append({**scan_phases, "whole": (time.perf_counter() - t) * 1000})
                continue
            result = (b.core.scans.submit(p.public_url, wait_merged=logged) if kwargs_ok
                      else b.core.scans.submit(p.public_url))
            end = time.perf_counter()
            timing.on = False
            offline += result.verdict != "accepted"
            phases = dict(scan_phases)
            phases["whole"] = (end - t) * 1000
            if "claim" in phases:
                phases["claim other"] = phases["claim"] - phases.get("claim rtt", 0.0)
            if not kwargs_ok:  # the main writer's job: queue, statements, fsync'd commit
                phases["write"] = phases["whole"] - phases.get("verify", 0) - phases.get("claim", 0)
            parts = ("verify", "claim", "journal enter", "decide", "journal commit", "merge_now",
                     "write")
            counted = sum(v for k, v in phases.items() if k in parts and not
                          (k == "decide" and not kwargs_ok))
            phases["rest"] = phases["whole"] - counted
            if any(s < end and e > t for s, e in merges):
                overlapped += not logged
            (api if logged else door).append(phases)
            if args.gap:
                time.sleep(args.gap)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        threads = thread_cpu()
        by_thread = sorted(((v - threads_before.get(k, 0.0), k) for k, v in threads.items()),
                           reverse=True)
        if profile is not None:
            done = threading.Event()
            b.runtime.call_soon(lambda: (profile.disable(), done.set()))
            done.wait(60)
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
            print("B's loop thread during the scans, by own time:")
            print("\n".join(out.getvalue().splitlines()[:45]))
        label = "before the door journal" if not kwargs_ok else "with the door journal"
        print(f"{args.repo} ({label}), {args.passes} single-use passes, mode {args.mode}, "
              f"gap {args.gap:g} s, "
              f"{'no other station' if args.no_peer else f'{1 + args.followers} other stations'}"
              f"; {offline} not "
              f"admitted; process CPU {cpu * 1000 / len(singles):.2f} ms a scan")
        for title, rows in (("door scans", door), ("API scans", api)):
            if not rows:
                continue
            names = [n for n in ("verify", "claim", "claim rtt", "rtt: to loop", "rtt: in loop",
                                 "rtt: back", "claim other", "journal enter",
                                 "decide", "journal commit", "merge_now", "write", "rest")
                     if any(n in r for r in rows)]
            medians = "  ".join(f"{n} {statistics.median(r.get(n, 0.0) for r in rows):.2f}"
                                for n in names)
            whole = [r["whole"] for r in rows]
            print(f"{title} ({len(rows)}): whole p50 {statistics.median(whole):.2f} ms, "
                  f"p95 {pct(whole, 95):.2f} ms; phase medians (ms): {medians}")
        print("threads' CPU per scan (ms; station A's and B's threads share names): " + ", ".join(
            f"{name} {spent * 1000 / len(singles):.2f}" for spent, name in by_thread[:8] if spent))
        if kwargs_ok and door:
            print(f"door scans that overlapped a merge thread's merge: {overlapped}/{len(door)}")
    finally:
        for s in reversed(stations):
            s.stop()
        hub.stop()


if __name__ == "__main__":
    main()
