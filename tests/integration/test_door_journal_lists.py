"""A door with a check-in list on the door journal (docs/door-journal.md, docs/checkin-lists.md):
its decision counts what the journal holds and the log does not have yet (presence, the list's
count inside, the rules' entries), and the merge writes the scan's list, direction and
re-entry and moves the occupancy rows as a direct write would. Real SQLite files; a real
process killed before its merge."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from station.app import Core, build_core
from station.domain.door import Door
from station.domain.models import Direction, Pass, Reason, Verdict
from station.store.door_reads import inside_counts
from tests.conftest import REPO
from tests.fakes import FakeClock
from tests.integration.test_door_journal import door_process, merge_held, merged
from tests.waiting import PATIENCE_S


def _pass(core: Core, name: str, kind: str = "single") -> Pass:
    return core.passes.create(core.passes.validate(name, kind))


def _scan_row(core: Core, scan_id: str) -> tuple[str, str | None, int]:
    row = core.store.db().execute(
        "SELECT direction, list_id, reentry FROM scans WHERE id = ?", [scan_id]).fetchone()
    assert row is not None, scan_id
    return (row[0], row[1], row[2])


def test_a_second_entry_before_the_merge_is_already_inside(core: Core) -> None:
    hall = core.lists.create({"name": "Hall", "reentry": True}, by="Mia")
    p = _pass(core, "Rita", "multi")
    with merge_held(core):
        first = core.scans.submit(p.code, door=Door(hall), wait_merged=False)
        again = core.scans.submit(p.code, door=Door(hall), wait_merged=False)
        assert first.accepted
        assert (again.verdict, again.reason) == (Verdict.REJECTED, Reason.ALREADY_INSIDE)
        assert core.store.list_scans(pass_id=p.id).items == []  # neither is in the log yet
    merged(core)
    assert inside_counts(core.store) == {hall.id: 1}
    assert _scan_row(core, first.scan.id) == ("entry", hall.id, 0)


def test_capacity_counts_entries_not_merged_yet(core: Core) -> None:
    lounge = core.lists.create({"name": "Lounge", "capacity": 1}, by="Mia")
    a, b = _pass(core, "Ada"), _pass(core, "Bo")
    with merge_held(core):
        assert core.scans.submit(a.code, door=Door(lounge), wait_merged=False).accepted
        full = core.scans.submit(b.code, door=Door(lounge), wait_merged=False)
        assert (full.verdict, full.reason) == (Verdict.REJECTED, Reason.CAPACITY_REACHED)
        assert "1 of 1 inside" in full.message
        # An exit not merged yet makes room again.
        assert core.scans.submit(a.code, door=Door(lounge, Direction.EXIT),
                                 wait_merged=False).accepted
        assert core.scans.submit(b.code, door=Door(lounge), wait_merged=False).accepted
    merged(core)
    assert inside_counts(core.store) == {lounge.id: 1}


def test_an_api_scan_under_the_journal_lock_counts_the_door_s_unmerged_entry(core: Core) -> None:
    lounge = core.lists.create({"name": "Lounge", "capacity": 1}, by="Mia")
    a, b = _pass(core, "Ada"), _pass(core, "Bo")
    with merge_held(core):
        assert core.scans.submit(a.code, door=Door(lounge), wait_merged=False).accepted
        full = core.scans.submit(b.code, "api", door=Door(lounge))  # straight into the log
        assert full.reason == Reason.CAPACITY_REACHED
    merged(core)
    assert inside_counts(core.store) == {lounge.id: 1}


def test_exit_then_reentry_before_the_merge_is_admitted(core: Core, clock: FakeClock) -> None:
    hall = core.lists.create({"name": "Hall", "reentry": True}, by="Mia")
    p = _pass(core, "Una")
    with merge_held(core):
        assert core.scans.submit(p.code, door=Door(hall), wait_merged=False).accepted
        clock.advance(minutes=5)
        out = core.scans.submit(p.code, door=Door(hall, Direction.EXIT), wait_merged=False)
        assert out.accepted and out.message == "Exit recorded"
        clock.advance(minutes=5)
        back = core.scans.submit(p.code, door=Door(hall), wait_merged=False)
        assert back.accepted, back.message
        assert "re-entry" in back.message
    merged(core)
    assert _scan_row(core, out.scan.id) == ("exit", hall.id, 0)
    assert _scan_row(core, back.scan.id) == ("entry", hall.id, 1)
    stored = core.store.pass_by_id(p.id)
    assert stored is not None and stored.uses == 1  # the exit and the re-entry spent no use
    assert inside_counts(core.store) == {hall.id: 1}


def test_rules_count_entries_not_merged_yet(core: Core, clock: FakeClock) -> None:
    club = core.lists.create({"name": "Club", "rules": [{"rule": "minutesBetween", "min": 30}]},
                             by="Mia")
    p = _pass(core, "Ilse", "multi")
    with merge_held(core):
        assert core.scans.submit(p.code, door=Door(club), wait_merged=False).accepted
        clock.advance(minutes=10)
        soon = core.scans.submit(p.code, door=Door(club), wait_merged=False)
        assert (soon.verdict, soon.reason) == (Verdict.REJECTED, Reason.ENTRY_RULE)


CHILD = """
import sys, threading
from pathlib import Path
from station.app import build_core
from station.domain.door import Door
from station.store.db import Priority
core = build_core(Path(sys.argv[1]))
held = threading.Event()
# Test-only: the main writer is held for good, so the merge never runs before the kill.
core.store.submit(lambda tx: (held.set(), threading.Event().wait()), Priority.USER)
held.wait()
result = core.scans.submit(sys.argv[2], "camera", door=Door(core.lists.find(sys.argv[3])),
                           wait_merged=False)
print(result.verdict, result.scan.id, flush=True)
threading.Event().wait()
"""


def test_a_door_killed_before_its_merge_leaves_occupancy_right_after_restart(
        tmp_path: Path) -> None:
    data = tmp_path / "door"
    core = build_core(data)
    hall = core.lists.create({"name": "Hall", "reentry": True}, by="Mia")
    p = _pass(core, "Crash Test")
    core.close()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), p.code, "Hall"], cwd=REPO, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO),
             "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert child.stdout is not None
    line = child.stdout.readline()  # printed once the verdict was durable
    child.send_signal(signal.SIGKILL)
    _, err = child.communicate(timeout=PATIENCE_S)
    assert line.startswith("accepted "), (line, err)
    scan_id = line.split()[1]
    for _ in range(2):  # restart, and again: the entry counts exactly once
        again = build_core(data)
        try:
            assert inside_counts(again.store) == {hall.id: 1}
            assert _scan_row(again, scan_id) == ("entry", hall.id, 0)
            twice = again.scans.submit(p.code, door=Door(hall))
            assert twice.reason == Reason.ALREADY_INSIDE
            scan = json.loads(again.store.db().execute(
                "SELECT data FROM events WHERE id = (SELECT event_id FROM scans WHERE id = ?)",
                [scan_id]).fetchone()[0])["scan"]
            assert scan["list"] == hall.id
        finally:
            again.close()


def test_everyone_out_covers_a_door_scan_not_merged_yet(tmp_path: Path) -> None:
    """A check-out is dated just after this station's clock; a scan still in the door journal
    gets its clock stamp at the merge, so it must be merged first or it stays inside."""
    data = tmp_path / "door"
    core = build_core(data)
    try:
        p = _pass(core, "Late Leaver")
        child, _ = door_process(data, p.code, "merge")  # durable in the journal, never merged
        try:
            assert core.scans.merger.pending_count() == 1
            core.lists.checkout(by="Mia")
        finally:
            child.kill()
            child.communicate(timeout=PATIENCE_S)
    finally:
        core.close()
    again = build_core(data)
    try:
        assert again.scans.merger.pending_count() == 0
        assert inside_counts(again.store) == {}
    finally:
        again.close()


def test_a_capacity_set_after_the_door_opened_counts_entries_not_merged_yet(core: Core) -> None:
    # The door plans its probes from the list as it last read it (no capacity): an edit that
    # adds one must still count the other passes' entries the journal has not merged.
    lounge = core.lists.create({"name": "Lounge"}, by="Mia")
    door = Door(lounge)
    a, b, c = _pass(core, "Ada"), _pass(core, "Bo"), _pass(core, "Cy")
    assert core.scans.submit(a.code, door=door, wait_merged=False).accepted
    merged(core)
    core.lists.edit(lounge.id, {"capacity": 2}, by="Mia")
    with merge_held(core):
        assert core.scans.submit(b.code, door=door, wait_merged=False).accepted
        full = core.scans.submit(c.code, door=door, wait_merged=False)
        assert (full.verdict, full.reason) == (Verdict.REJECTED, Reason.CAPACITY_REACHED)
    merged(core)
    assert inside_counts(core.store) == {lounge.id: 2}


def test_a_door_whose_list_gains_reentry_reads_the_presence_it_did_not_need(core: Core) -> None:
    # A door reads only what its list as last read needs (no re-entry: no presence); an edit
    # made since must apply at the next scan, with the presence read then.
    hall = core.lists.create({"name": "Hall"}, by="Mia")
    door = Door(hall)
    p = _pass(core, "Rita", "multi")
    assert core.scans.submit(p.code, door=door, wait_merged=False).accepted
    merged(core)
    core.lists.edit(hall.id, {"reentry": True}, by="Mia")
    again = core.scans.submit(p.code, door=door, wait_merged=False)
    assert (again.verdict, again.reason) == (Verdict.REJECTED, Reason.ALREADY_INSIDE)
    merged(core)


def test_a_door_whose_list_gains_a_counting_rule_reads_the_entries_it_did_not_need(
        core: Core) -> None:
    hall = core.lists.create({"name": "Hall"}, by="Mia")
    door = Door(hall)
    p = _pass(core, "Ivo", "multi")
    assert core.scans.submit(p.code, door=door, wait_merged=False).accepted
    merged(core)
    core.lists.edit(hall.id, {"rules": [{"rule": "entriesPerDay", "max": 1}]}, by="Mia")
    again = core.scans.submit(p.code, door=door, wait_merged=False)
    assert (again.verdict, again.reason) == (Verdict.REJECTED, Reason.ENTRY_RULE)
    assert "once today" in again.message
    merged(core)
