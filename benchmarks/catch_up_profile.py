"""Where a station's catch-up of a history spends its time beyond the floor (issue 12).

    .venv/bin/python benchmarks/catch_up_profile.py [--events 30000] [--rounds 2] [--profile]
    .venv/bin/python benchmarks/catch_up_profile.py --repo /tmp/c-base   # another checkout too

A hub on 127.0.0.1 and station A with N passes published (as sync_bench's section 1); A stops.
Then, each round: the bare ordered push consumer (sync_bench's transport floor) and a fresh
station in a process of its own downloading the whole history (until in sync). With `--repo`,
each round also downloads with that checkout's code (alternating, same hub; copy this script
into its benchmarks/ first): before/after on one machine in one run. Printed per download: its seconds, the ratio to the push floor, the
CPU of each of its threads (from /proc: the asyncio loop receiving, the decoding thread, the
sync-apply thread, the writer) and of its worker process. `--profile` adds cProfile on the
writer and sync-apply threads (slower: compare profiled runs with each other only).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import multiprocessing
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import keyring  # noqa: E402

from memory_keyring import MemoryKeyring  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu() -> dict[str, float]:
    """CPU seconds of each live thread of this process, summed by name (numbers dropped)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    cpu: dict[str, float] = defaultdict(float)
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), "other")
        kind = name.rstrip("0123456789_-") or name
        cpu[kind] += (int(fields[11]) + int(fields[12])) / TICK
    return dict(cpu)


def timed_spans(spans: list[tuple[str, float, float]], t0: float) -> None:
    """Record when the stages of the catch-up pipeline ran (seconds from t0)."""
    import functools
    import inspect

    from station.net.sync import prepare
    from station.net.sync.follower import Follower
    from station.net.sync.inbox import Inbox
    from station.services.sync_apply import RemoteEventService
    from station.store.writer import Writer

    def span(owner: Any, attr: str, name: str) -> None:
        original = getattr(owner, attr)
        if inspect.iscoroutinefunction(original):
            @functools.wraps(original)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter() - t0
                try:
                    return await original(*args, **kwargs)
                finally:
                    spans.append((name, start, time.perf_counter() - t0))
            setattr(owner, attr, awrapper)
            return

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter() - t0
            try:
                return original(*args, **kwargs)
            finally:
                spans.append((name, start, time.perf_counter() - t0))
        setattr(owner, attr, wrapper)

    original_on_msg = Inbox.on_msg
    first: list[float] = []

    async def on_msg(self: Any, msg: Any) -> None:
        if not first:
            first.append(time.perf_counter() - t0)
            spans.append(("first message", first[0], first[0]))
        await original_on_msg(self, msg)
    Inbox.on_msg = on_msg  # type: ignore[method-assign]
    span(Follower, "follow", "follow")
    span(Follower, "_prepare", "prepare (loop)")
    span(prepare, "unpack", "unpack")
    span(RemoteEventService, "_apply_now", "apply")
    span(Writer, "_transaction", "tx")


SQL_TIMES: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])  # statement -> [calls, s]


def time_writer_sql() -> None:
    """Sum the wall time of each statement the writer thread runs (by its first words)."""
    import sqlite3

    class Timed(sqlite3.Connection):
        def _timed(self, method: Any, sql: str, *args: Any) -> Any:
            if threading.current_thread().name != "station-writer":
                return method(sql, *args)
            start = time.perf_counter()
            try:
                return method(sql, *args)
            finally:
                entry = SQL_TIMES[" ".join(sql.split())[:60]]
                entry[0] += 1
                entry[1] += time.perf_counter() - start

        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            return self._timed(super().execute, sql, *args)  # type: ignore[no-any-return]

        def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            return self._timed(super().executemany, sql, *args)  # type: ignore[no-any-return]

    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", Timed)
        return real_connect(*args, **kwargs)
    sqlite3.connect = connect  # type: ignore[assignment]


def child(url: str, data_dir: Path, total: int, profile: bool, timeline: bool) -> None:
    """Download the history into a fresh station; print one JSON line of figures."""
    from sync_bench import station, wait  # noqa: PLC0415 (the checkout's own code)

    keyring.set_keyring(MemoryKeyring())
    profiles: dict[str, cProfile.Profile] = {}
    captured: list[tuple[Any, Any]] = []  # the first batch sent to the worker
    if profile:
        from station.services.sync_apply import RemoteEventService
        from station.store.writer import Writer

        def profiled(owner: Any, attr: str, key: str) -> None:
            original = getattr(owner, attr)
            prof = profiles.setdefault(key, cProfile.Profile())

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                prof.enable()
                try:
                    return original(*args, **kwargs)
                finally:
                    prof.disable()
            setattr(owner, attr, wrapper)
        profiled(Writer, "_transaction", "writer")
        from station.net.sync import prepare

        original_submit = prepare.Preparer.submit

        def submit(self: Any, *args: Any, **kwargs: Any) -> Any:
            if not captured:
                captured.append((args, kwargs))
            return original_submit(self, *args, **kwargs)
        prepare.Preparer.submit = submit  # type: ignore[method-assign]
        profiled(RemoteEventService, "_apply_now", "sync-apply")
    spans: list[tuple[str, float, float]] = []
    lowered: list[float] = []  # when the download's worker was given the background priority
    t0 = time.perf_counter()
    try:
        from station.net.sync import prepare as prepare_module

        real_lower = prepare_module.lower_priority

        def lower(pid: int) -> None:
            lowered.append(time.perf_counter() - t0)
            real_lower(pid)
        prepare_module.lower_priority = lower  # type: ignore[assignment]
    except AttributeError:  # a checkout from before the worker's priority was lowered late
        pass
    if timeline:
        timed_spans(spans, t0)
        time_writer_sql()
    s = station(data_dir.parent, data_dir.name, url)
    try:
        nice: dict[int, int] = {}  # the worker's nice values seen while it ran, by pid

        def in_sync() -> bool:
            for process in multiprocessing.active_children():
                with contextlib.suppress(OSError, TypeError):
                    nice[process.pid] = max(nice.get(process.pid, -20),  # type: ignore[index]
                                            os.getpriority(os.PRIO_PROCESS, process.pid or -1))
            return s.sync.in_sync() and s.core.store.count_events() >= total  # type: ignore[union-attr]
        wait(in_sync, 900, "the download")
        seconds = time.perf_counter() - t0
        threads = thread_cpu()
    finally:
        s.stop()
    worker = resource.getrusage(resource.RUSAGE_CHILDREN)
    out: dict[str, Any] = {"seconds": seconds, "threads": threads,
                           "worker_cpu": worker.ru_utime + worker.ru_stime}
    out["spans"] = spans
    out["worker_nice"] = sorted(set(nice.values()))
    out["lowered"] = lowered
    out["sql"] = sorted(([k, *v] for k, v in SQL_TIMES.items()), key=lambda x: -x[2])
    if captured:  # the worker's part, profiled here on the first batch it prepared
        from station.net.sync import prepare

        args, kwargs = captured[0]
        if os.environ.get("CATCH_UP_CAPTURE"):  # the batch, to time the worker's part alone
            import pickle

            Path(os.environ["CATCH_UP_CAPTURE"]).write_bytes(pickle.dumps(captured[0]))
        prof = profiles.setdefault("worker (first batch, in this process)", cProfile.Profile())
        prof.enable()
        prepare.prepare(*args, **kwargs)
        prof.disable()
    for key, prof in profiles.items():
        text = io.StringIO()
        pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(25)
        out[f"profile_{key}"] = text.getvalue()
    print(json.dumps(out))


def download(repo: Path, url: str, data_dir: Path, total: int, profile: bool,
             timeline: bool) -> dict[str, Any]:
    command = [sys.executable, str(repo / "benchmarks" / "catch_up_profile.py"), "--child",
               "--url", url, "--dir", str(data_dir), "--total", str(total)]
    if profile:
        command.append("--profile")
    if timeline:
        command.append("--timeline")
    env = {**os.environ, "PYTHONPATH": str(repo)}
    out = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=True,
                         env=env, cwd=repo).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def report(tag: str, result: dict[str, Any], push: float) -> None:
    threads = ", ".join(f"{k} {v:.2f}" for k, v in sorted(result["threads"].items(),
                                                           key=lambda kv: -kv[1]) if v >= 0.05)
    print(f"  {tag}: {result['seconds']:.2f} s = {result['seconds'] / push:.2f}x push; "
          f"CPU s by thread: {threads}; worker process {result['worker_cpu']:.2f}"
          + f"; worker nice {result.get('worker_nice')}"
          + (f" (lowered at {result['lowered'][0]:.2f} s)" if result.get("lowered") else ""))
    for name, start, end in result.get("spans", []):
        if name != "tx":
            print(f"    {start:7.3f} - {end:7.3f}  {name}")
    spans = result.get("spans", [])
    for name in ("tx", "apply", "prepare (loop)", "unpack") if spans else ():
        print(f"  {name}: {sum(e - s for n, s, e in spans if n == name):.2f} s")
    for sql, calls, seconds in result.get("sql", [])[:14]:
        print(f"    writer SQL {seconds:6.3f} s {calls:5d}x  {sql}")
    for key in sorted(k for k in result if k.startswith("profile_")):
        print(f"--- {tag} cProfile, {key[8:]} thread ---")
        print("\n".join(result[key].splitlines()[:40]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--timeline", action="store_true", help="when each stage ran")
    parser.add_argument("--repo", type=Path, help="another checkout, downloading alternately")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    parser.add_argument("--total", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url, Path(args.dir), args.total, args.profile, args.timeline)
        return
    here = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(here))
    keyring.set_keyring(MemoryKeyring())
    from station.net.sync.hub import HubServer, new_password
    from station.services.passes import PassService
    from sync_bench import bare_push, free_port, station, wait

    root = Path(tempfile.mkdtemp(prefix="catch-up-"))
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
            wait(lambda: a.sync.pending() == 0, 600, "A to publish")  # type: ignore[union-attr]
            total = a.core.store.count_events()
            org = a.sync.status().organisation  # type: ignore[union-attr]
        finally:
            a.stop()
        print(f"{total} events on the hub; {os.cpu_count()} cores, load "
              f"{os.getloadavg()[0]:.1f}, {time.strftime('%H:%M:%S')} UTC")
        repos = [("this", here)] + ([("other", args.repo.resolve())] if args.repo else [])
        for r in range(args.rounds):
            push = asyncio.run(bare_push(hub, org, total))
            print(f"round {r + 1}: bare ordered push {push:.2f} s")
            for tag, repo in (repos if r % 2 == 0 else repos[::-1]):
                result = download(repo, url, root / f"{tag}{r}", total, args.profile,
                                  args.timeline)
                report(f"{tag} ({repo})", result, push)
    finally:
        hub.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
