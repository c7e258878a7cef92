"""A history download's worker yields the CPU to a station whose door scans (net/sync/prepare.py,
Preparer): the door's verdict gets the CPU first, as when the worker always ran at nice 10.
(A download nobody uses the station during runs at the station's priority: test_prepare.py.)"""

from __future__ import annotations

import multiprocessing
import os

import pytest

from station.net.sync.hub import HubServer
from station.services.passes import PassService
from tests.sync.conftest import StationFactory, in_sync, wait_for


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX process priorities")
def test_a_door_scanning_during_a_download_runs_the_worker_at_the_background_priority(
        hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, c = make_station("Door A", url), make_station("Door C", url)
    wait_for(in_sync(a, c), what="two stations in sync")
    c.stop()
    created = a.core.passes.create_many([PassService.validate(f"G{i}") for i in range(10_000)])
    wait_for(lambda: a.sync is not None and a.sync.pending() == 0, 120, "A to publish")

    before = {p.pid for p in multiprocessing.active_children()}
    again = make_station("Door C", url)
    seen: dict[int, int] = {}  # worker pid -> the lowest CPU priority seen (the highest nice)

    # The door scans until the station is in sync (every scan is recorded here: a local event).
    def scan_then_in_sync() -> bool:
        again.core.scans.submit(created[0].public_url)
        for child in multiprocessing.active_children():
            if child.pid is not None and child.pid not in before:
                try:
                    seen[child.pid] = max(seen.get(child.pid, 0),
                                          os.getpriority(os.PRIO_PROCESS, child.pid))
                except OSError:  # ended meanwhile
                    pass
        return again.sync is not None and again.sync.in_sync()
    wait_for(scan_then_in_sync, 120, "C to download the history while its door scans")
    assert again.sync is not None and again.sync.worker_batches >= 1  # prepared in the worker
    assert seen and max(seen.values()) == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
