"""What the status bar's sync status costs on a big station: SyncClient.status() at N passes.

    /work/main/.venv/bin/python benchmarks/status_bench.py [--passes 1000000] [--repeat 30]

Fills a fresh data directory with N passes through the store's bulk upsert (the path sync
uses; no signing, as `station bench --only search` does), builds a sync client (not started: no
hub is needed to read the status) and prints the median and max of status() in µs, and of the
state digest beside it (which status() computed on every call before it became a separate
call). The GUI asks for the status every 2 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from station.app import build_core  # noqa: E402
from station.cli.bench_search import _fill  # noqa: E402
from station.net.runtime import AsyncRuntime  # noqa: E402
from station.net.sync.client import SyncClient  # noqa: E402
from station.net.sync.url import SyncTarget  # noqa: E402
from station.services.sync_apply import RemoteEventService  # noqa: E402


def _timings_us(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e6)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        core = build_core(Path(tmp) / "data")
        try:
            started = time.perf_counter()
            _fill(core.store, args.passes, seed=7)
            print(f"status: {args.passes:,} passes written in {time.perf_counter() - started:.1f} s "
                  f"(store upsert); {args.repeat} calls each")
            client = SyncClient(core.ctx, RemoteEventService(core.ctx), AsyncRuntime(),
                                SyncTarget.parse("nats://station:pw@127.0.0.1:4222"))
            client.status()  # warm the reader connection and the page cache
            measured: list[tuple[str, Callable[[], object]]] = [("status()", client.status)]
            if hasattr(client, "state_digest"):  # absent before the digest left status()
                measured.append(("state digest", client.state_digest))
            for name, fn in measured:
                times = _timings_us(fn, args.repeat if name == "status()" else max(3, args.repeat // 10))
                print(f"{name:>14}: median {statistics.median(times):>12,.0f} µs   "
                      f"max {max(times):>12,.0f} µs")
        finally:
            core.close()


if __name__ == "__main__":
    main()
