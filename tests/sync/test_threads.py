"""docs/threads.md stays true: every thread a running station starts is listed there."""

from __future__ import annotations

import fnmatch
import re
import threading
from pathlib import Path

from station.app import StationOptions, build_station
from station.net.sync.hub import HubServer
from tests.sync.conftest import StationFactory, free_port, in_sync, wait_for
from tests.sync.test_enrolment import enrolled
from tests.sync.test_sync_status_api import status_of

DOC = Path(__file__).resolve().parents[2] / "docs" / "threads.md"
# Libraries' unnamed threads ("Thread-N"), told apart by class; the doc names each class.
UNNAMED_CLASSES = ("_ExecutorManagerThread", "ServiceBrowser")


def documented_names() -> list[str]:
    """fnmatch patterns from the Name column of the in-process table (`N` is a number)."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## In the station's process", 1)[1].split("## Child processes", 1)[0]
    names: list[str] = []
    for line in table.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names += re.findall(r"`([^`]+)`", first_cell)
    return [name.replace("N", "*") for name in names if name != "Thread-N"]


def undocumented(threads: list[threading.Thread]) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    patterns = documented_names()
    missing = []
    for thread in threads:
        cls = type(thread).__name__
        if cls in UNNAMED_CLASSES and cls in text:
            continue
        if not any(fnmatch.fnmatchcase(thread.name, p) for p in patterns):
            missing.append(f"{thread.name} ({cls})")
    return missing


def test_the_doc_lists_the_station_threads_by_their_names() -> None:
    patterns = documented_names()
    for name in ("MainThread", "station-net", "asyncio_0", "api-worker_0", "webhook-io_0",
                 "expiry-sweeper", "capture-grab", "station-scans_0", "child-forker"):
        assert any(fnmatch.fnmatchcase(name, p) for p in patterns), name
    # A thread nobody named is not waved through by the doc's library rows.
    [stranger] = undocumented([threading.Thread(target=print)])
    assert stranger.endswith("(print) (Thread)")


def test_every_thread_of_a_running_station_is_documented(
        hub: HubServer, make_station: StationFactory) -> None:
    before = set(threading.enumerate())
    door = make_station("Door A", hub.target.full_url(), api=True)
    other = make_station("Door B", hub.target.full_url())
    p = door.core.passes.create(door.core.passes.validate("Guest", "single"))
    door.core.scans.submit(p.code)  # a claim at the hub, an event to publish
    assert status_of(door)["enabled"] is True  # the API's workers run a request
    wait_for(in_sync(door, other), what="both doors in sync")
    new = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert {"station-net", "expiry-sweeper"} <= {t.name for t in new}
    assert undocumented(new) == []


def test_every_thread_of_a_station_hosting_the_hub_is_documented(tmp_path: Path) -> None:
    """The hosting station adds the hub's own parts (its child process, the enrolment desk)."""
    before = set(threading.enumerate())
    host = build_station(StationOptions(data_dir=tmp_path / "host", host_hub=True,
                                        hub_port=free_port(), api_enabled=False,
                                        sweep_interval_s=3600))
    host.core.store.set_setting("station_name", "Door A")
    host.start()
    try:
        assert host.sync is not None
        wait_for(lambda: enrolled(host), what="the hosting door certified by its own desk")
        new = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        assert {"hub-enrolment", "child-forker"} <= {t.name for t in new} | {
            t.name for t in before}
        assert undocumented(new) == []
    finally:
        host.stop()
