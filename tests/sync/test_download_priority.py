"""A history download runs its worker at the station's CPU priority while nobody uses the
station, and yields the CPU as soon as its door scans (net/sync/prepare.py, Preparer)."""

from __future__ import annotations

import os

import pytest

from station.net.sync import prepare
from station.net.sync.hub import HubServer
from station.services.passes import PassService
from tests.sync.conftest import StationFactory, in_sync, wait_for


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="POSIX process priorities")
def test_a_door_scanning_during_a_download_lowers_the_worker_priority(
        hub: HubServer, make_station: StationFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    lowered: list[tuple[int, int]] = []  # (worker pid, its priority after)
    real = prepare.lower_priority

    def spy(pid: int) -> None:
        real(pid)
        lowered.append((pid, os.getpriority(os.PRIO_PROCESS, pid)))
    monkeypatch.setattr(prepare, "lower_priority", spy)
    url = hub.target.full_url()
    a, c = make_station("Door A", url), make_station("Door C", url)
    wait_for(in_sync(a, c), what="two stations in sync")
    c.stop()
    created = a.core.passes.create_many([PassService.validate(f"G{i}") for i in range(10_000)])
    wait_for(lambda: a.sync is not None and a.sync.pending() == 0, 120, "A to publish")

    again = make_station("Door C", url)
    assert again.sync is not None
    # The door scans until the station is in sync (every scan is recorded here: a local event).
    def scan_then_in_sync() -> bool:
        again.core.scans.submit(created[0].public_url)
        return again.sync is not None and again.sync.in_sync()
    wait_for(scan_then_in_sync, 120, "C to download the history while its door scans")
    assert again.sync.worker_batches >= 1  # the history was prepared in the worker
    assert lowered, "the door's scans did not lower the download worker's priority"
    pid, priority = lowered[0]
    assert priority == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
