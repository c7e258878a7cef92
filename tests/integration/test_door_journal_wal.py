"""The door journal's WAL and the merge's pace while a download writes (docs/door-journal.md,
"Why a scan's fsync stays short"): real SQLite files, the real merge thread."""

from __future__ import annotations

import sys
from pathlib import Path

from station.app import SWITCH_INTERVAL_S, Core, Station, StationOptions, build_station
from station.services.passes import PassService
from station.services.scan_merge import MERGE_INTERVAL_DOWNLOADING_S, MERGE_INTERVAL_S
from station.store.db import Priority
from station.store.door_journal import JOURNAL_NAME, WAL_PADDING
from tests.integration.test_door_journal import merge_held, merged
from tests.waiting import wait_until


def wal_size(core: Core) -> int:
    return (Path(core.store.data_dir) / f"{JOURNAL_NAME}-wal").stat().st_size


def test_the_door_s_appends_overwrite_the_journal_s_wal_from_the_first_scan(core: Core) -> None:
    # An append that lengthens the WAL makes its fsync commit the filesystem's journal, which
    # writes out first whatever a download left in the main database's files.
    core.scans.merger.start()  # as Station.start() does: the journal opened, its WAL grown
    wait_until(lambda: (Path(core.store.data_dir) / f"{JOURNAL_NAME}-wal").exists()
               and wal_size(core) >= 2 * WAL_PADDING, what="the journal opened")
    p = core.passes.create(PassService.validate("Crew", type="multi", max_uses=1000))
    assert core.scans.submit(p.public_url, wait_merged=False).accepted
    size = wal_size(core)
    for _ in range(5):
        with merge_held(core):  # the scans of a merge interval, then their merge
            for _ in range(12):
                assert core.scans.submit(p.public_url, wait_merged=False).accepted
            assert wal_size(core) == size
        merged(core)
    assert wal_size(core) == size
    stored = core.store.pass_by_id(p.id)
    assert stored is not None and stored.uses == 61  # every scan once, nothing lost


def test_while_a_download_writes_the_merge_waits_up_to_a_second_and_a_lone_scan_goes_at_once(
        core: Core) -> None:
    merger = core.scans.merger
    assert merger._interval() == MERGE_INTERVAL_S  # a quiet station: as before
    # A catch-up batch commits without fsync: the station is downloading a history.
    core.store.write(lambda tx: None, Priority.SYNC, fsync=False)
    assert core.store.downloading(MERGE_INTERVAL_DOWNLOADING_S)
    assert merger._interval() == MERGE_INTERVAL_DOWNLOADING_S
    p = core.passes.create(PassService.validate("Ada"))
    assert core.scans.submit(p.code, wait_merged=False).accepted
    merged(core)  # a lone scan: merged without waiting for the interval
    stored = core.store.pass_by_id(p.id)
    assert stored is not None and stored.uses == 1


def test_a_running_station_opens_its_journal_before_the_first_scan(core: Core) -> None:
    # Station.start() does this: the journal's opening (its WAL grown) is not a scan's wait.
    wal = Path(core.store.data_dir) / f"{JOURNAL_NAME}-wal"
    assert not wal.exists()
    core.scans.merger.start()
    wait_until(lambda: wal.exists() and wal.stat().st_size >= 2 * WAL_PADDING,
               what="the journal opened by the merge thread")
    size = wal.stat().st_size
    p = core.passes.create(PassService.validate("Ada"))
    assert core.scans.submit(p.code, wait_merged=False).accepted
    assert wal_size(core) == size
    merged(core)


def test_a_running_station_hands_the_gil_over_every_millisecond(tmp_path: Path) -> None:
    # The door's statements each give the GIL up; with the default 5 ms a download's threads
    # kept it for up to 5 ms each time (docs/door-journal.md, "The GIL").
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    station = build_station(StationOptions(data_dir=tmp_path / "d", api_enabled=False,
                                           sweep_interval_s=3600))
    second = build_station(StationOptions(data_dir=tmp_path / "e", api_enabled=False,
                                          sweep_interval_s=3600))
    running: list[Station] = []
    try:
        assert sys.getswitchinterval() == 0.005  # building alone changes nothing
        for s in (station, second):
            s.start()
            running.append(s)
            assert sys.getswitchinterval() == SWITCH_INTERVAL_S <= 0.001
        running.remove(station)
        station.stop()
        # Another station of the process still runs: its doors keep the short interval.
        assert sys.getswitchinterval() == SWITCH_INTERVAL_S
        running.remove(second)
        second.stop()
        # The last one stopped: the process is as it was (the tests host many in turn).
        assert sys.getswitchinterval() == 0.005
    finally:
        for s in running:
            s.stop()
        sys.setswitchinterval(before)
