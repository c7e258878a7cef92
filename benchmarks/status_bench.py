"""What the status bar's sync status costs on a big station: SyncClient.status() at N passes.

    .venv/bin/python benchmarks/status_bench.py [--passes 1000000] [--events] [--repeat 30]

Fills a fresh data directory with N passes through the store's bulk upsert (the path sync
uses; no signing, as `station bench --only search` does) and, with --events, one synced event
per pass from three stations (the status reads the log's heads and what is unsent), builds a sync client (not started: no
hub is needed to read the status) and prints the median and max of status() in µs, and of the
state digest beside it (which status() computed on every call before it became a separate
call). The GUI asks for the status every 2 s.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from station.app import build_core  # noqa: E402
from station.cli.bench_search import _fill  # noqa: E402
from station.domain.events import Event, new_event_id  # noqa: E402
from station.net.runtime import AsyncRuntime  # noqa: E402
from station.net.sync.client import SyncClient  # noqa: E402
from station.net.sync.url import SyncTarget  # noqa: E402
from station.services.sync_apply import RemoteEventService  # noqa: E402
from station.store.db import Store, Tx  # noqa: E402
from station.store.sync import Peer, SyncLedger, insert_new_events, log_head, upsert_peers  # noqa: E402

HUB = "127.0.0.1:4222#bench"


def _timings_us(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e6)
    return times


def _log(store: Store, n: int, own: str) -> None:
    """n events as a catch-up writes them (insert_new_events), a third of them this station's."""
    origins = (own, "st_peer_one", "st_peer_two")
    def insert(tx: Tx, batch: list[Event]) -> None:
        insert_new_events(tx, batch, log_head(tx))

    for start in range(0, n, 5000):
        batch = [Event(new_event_id(), "pass.created", "2026-01-01T00:00:00.000Z", {"i": i},
                       origins[i % 3], i // 3 + 1, f"{i:020d}") for i in range(start, min(start + 5000, n))]
        store.write(functools.partial(insert, batch=batch), fsync=False)

    def peers(tx: Tx) -> int:
        upsert_peers(tx, [Peer(o, f"Door {o}", n // 3, "2026-01-01T00:00:00Z") for o in origins[1:]])
        return log_head(tx)

    head = store.write(peers)
    # As a station connected to HUB whose log the hub has acknowledged (a session does this).
    SyncLedger(store).mark_published(HUB, head, "2026-01-01T00:00:00Z")
    store.checkpoint()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=1_000_000)
    parser.add_argument("--events", action="store_true", help="one logged event per pass too")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        core = build_core(Path(tmp) / "data")
        try:
            started = time.perf_counter()
            _fill(core.store, args.passes, seed=7)
            if args.events:
                _log(core.store, args.passes, core.ctx.station_id)
            print(f"status: {args.passes:,} passes{' and events' if args.events else ''} written in {time.perf_counter() - started:.1f} s "
                  f"(store upsert); {args.repeat} calls each")
            client = SyncClient(core.ctx, RemoteEventService(core.ctx), AsyncRuntime(),
                                SyncTarget.parse("tls://station:pw@127.0.0.1:4222"))
            if args.events:
                client._progress.hub_key = HUB  # noqa: SLF001 - what a session sets once connected
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
