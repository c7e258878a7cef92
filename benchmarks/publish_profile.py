"""Where publishing a recorded history spends its time (issue 15: signed events over TLS).

    .venv/bin/python benchmarks/publish_profile.py [--repo PATH] [--events 20000] [--cprofile]

Station A records N passes with sync off, then starts again with the hub's URL; the script
times from that start until the hub has acknowledged every event, and splits the time by
wrapping the publisher's parts (only here, in this script):
- `read`: SyncLedger.unsent (the store reading the next unpublished events, in a thread),
- `sign`: EventTrustService.sign (absent before issue 15),
- `encode`: wire.encode (on the loop thread),
- `publish`: Publisher._publish, the round's publishes and acknowledgements (encode included),
and reports the loop thread's CPU (where nats-py, asyncio and TLS run) against the process's.
`--cprofile` also profiles the loop thread (slower; shows TLS and nats-py by function).
`--repo` runs another checkout's code (e.g. a worktree of the commit before issue 15), so both
are measured by the same script.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

parser = argparse.ArgumentParser()
parser.add_argument("--repo", default=str(Path(__file__).resolve().parent.parent))
parser.add_argument("--events", type=int, default=20_000)
parser.add_argument("--cprofile", action="store_true")
args = parser.parse_args()
sys.path.insert(0, args.repo)

import keyring  # noqa: E402

from station.app import StationOptions, build_station  # noqa: E402
from station.net.sync import publisher as publisher_module  # noqa: E402
from station.net.sync import wire  # noqa: E402
from station.net.sync.hub import HubServer, new_password  # noqa: E402
from station.services.passes import PassService  # noqa: E402
from station.store.sync import SyncLedger  # noqa: E402

try:
    from station.services.event_trust import EventTrustService
except ImportError:  # before issue 15: events are not signed
    EventTrustService = None  # type: ignore[assignment,misc]


from memory_keyring import MemoryKeyring as _MemoryKeyring  # noqa: E402


spent: dict[str, float] = {}
cpu_spent: dict[str, float] = {}
calls: dict[str, int] = {}


def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wall time and the calling thread's CPU time (a thread's wall time includes waiting for
    the GIL while the loop thread holds it)."""
    def wrapper(*a: Any, **kw: Any) -> Any:
        t, c = time.perf_counter(), time.thread_time()
        try:
            return fn(*a, **kw)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
            cpu_spent[name] = cpu_spent.get(name, 0.0) + time.thread_time() - c
            calls[name] = calls.get(name, 0) + 1
    return wrapper


def timed_async(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    async def wrapper(*a: Any, **kw: Any) -> Any:
        t = time.perf_counter()
        try:
            return await fn(*a, **kw)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
            calls[name] = calls.get(name, 0) + 1
    return wrapper


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def thread_cpu(ident: int | None) -> float:
    return time.clock_gettime(time.pthread_getcpuclockid(ident)) if ident else 0.0


def main() -> None:
    keyring.set_keyring(_MemoryKeyring())
    root = Path(tempfile.mkdtemp(prefix="publish-profile-"))
    hub = HubServer(root / "hub", new_password(), port=free_port())
    hub.start()
    try:
        quiet = build_station(StationOptions(data_dir=root / "A", sweep_interval_s=3600,
                                             api_enabled=False))
        quiet.start()
        for start in range(0, args.events, 10_000):
            n = min(10_000, args.events - start)
            quiet.core.passes.create_many([PassService.validate(f"G{start + i}")
                                           for i in range(n)])
        quiet.stop()

        SyncLedger.unsent = timed("read", SyncLedger.unsent)  # type: ignore[method-assign]
        if hasattr(SyncLedger, "unsent_texts"):  # after issue 15's publish rounds
            SyncLedger.unsent_texts = timed("read", SyncLedger.unsent_texts)  # type: ignore
        if EventTrustService is not None:
            EventTrustService.sign = timed("sign", EventTrustService.sign)  # type: ignore
        wire.encode = timed("encode", wire.encode)  # type: ignore[assignment]
        publisher_module.Publisher._publish = timed_async(  # type: ignore[method-assign]
            "publish", publisher_module.Publisher._publish)

        a = build_station(StationOptions(data_dir=root / "A", sync_url=hub.target.full_url(),
                                         sweep_interval_s=3600, api_enabled=False))
        profile = cProfile.Profile() if args.cprofile else None
        cpu0, t0 = time.process_time(), time.perf_counter()
        a.start()
        loop_ident = a.runtime._thread.ident  # noqa: SLF001 (a benchmark's look inside)
        loop_cpu0 = thread_cpu(loop_ident)
        if profile is not None:
            a.runtime.call_soon(profile.enable)
        sync = a.sync
        assert sync is not None
        deadline = time.monotonic() + 900
        while sync.pending() > 0:
            if time.monotonic() > deadline:
                raise SystemExit("not published within 900 s")
            time.sleep(0.02)
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        loop_cpu = thread_cpu(loop_ident) - loop_cpu0
        if profile is not None:
            done = __import__("threading").Event()
            a.runtime.call_soon(lambda: (profile.disable(), done.set()))
            done.wait(10)
        a.stop()
    finally:
        hub.stop()
    print(f"published {args.events} events in {wall:.2f} s wall; process CPU {cpu:.2f} s, "
          f"loop thread CPU {loop_cpu:.2f} s ({args.repo})")
    for name in ("read", "sign", "encode", "publish"):
        if name in spent:
            cpu = f", CPU {cpu_spent[name]:.2f} s" if name in cpu_spent else ""
            print(f"  {name:8s} {spent[name]:6.2f} s wall{cpu} in {calls[name]} calls")
    if "publish" in spent:
        print(f"  publish without encode (send + acks) {spent['publish'] - spent['encode']:.2f} s")
    if profile is not None:
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out)
        ssl_s = sum(v[2] for k, v in stats.stats.items()  # type: ignore[attr-defined]
                    if "ssl" in k[0] or "ssl" in k[2].lower())
        print(f"  loop thread, cProfile: {ssl_s:.2f} s in ssl functions (own time)")
        stats.sort_stats("tottime").print_stats(25)
        print(out.getvalue())


if __name__ == "__main__":
    main()
