"""The door journal (docs/door-journal.md): a door's scan is durable in door-journal.db before
its verdict is shown, decided from the reader plus this station's unmerged entries, and merged
into the log by a writer job; real SQLite files, real processes where a crash is involved."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from station.app import Core, build_core
from station.domain.errors import StorageError
from station.domain.events import Event, EventType
from station.domain.models import PassStatus, Reason, Verdict
from station.services.passes import PassService
from station.services.sync_apply import RemoteEventService
from station.store.db import Priority, Tx
from station.store.door_journal import JOURNAL_NAME
from tests.conftest import REPO
from tests.fakes import FakeClock
from tests.waiting import PATIENCE_S, wait_until


class Gate:
    """A writer job that holds the main writer until the test opens it (as a history step
    would, only longer)."""

    def __init__(self) -> None:
        self.running = threading.Event()
        self.open = threading.Event()

    def __call__(self, tx: Tx) -> None:
        self.running.set()
        assert self.open.wait(PATIENCE_S)

    def hold(self, core: Core) -> None:
        core.store.submit(self, Priority.USER)
        assert self.running.wait(PATIENCE_S)


@contextmanager
def merge_held(core: Core) -> Iterator[None]:
    """No merge runs inside (the merge thread waits for the merger's lock); the writer is free
    for everything else, as for a sync batch applied between a decision and its merge."""
    with core.scans.merger._merging:
        yield


def merged(core: Core) -> None:
    wait_until(lambda: core.scans.merger.pending_count() == 0, what="the door's merge")


def scans_in_log(core: Core, pass_id: str) -> list[tuple[str, str | None]]:
    return [(s.verdict, s.reason) for s in reversed(core.store.list_scans(pass_id=pass_id).items)]


def scanned_events(core: Core, pass_id: str) -> list[Event]:
    return [e for e in core.store.events_for_pass(pass_id) if e.type == EventType.PASS_SCANNED]


def test_a_door_scan_returns_while_the_writer_is_held_and_a_single_use_pass_counts_once(
        core: Core) -> None:
    p = core.passes.create(PassService.validate("Ada Lovelace"))
    gate = Gate()
    gate.hold(core)
    try:
        first = core.scans.submit(p.public_url, "camera", wait_merged=False)
        second = core.scans.submit(p.public_url, "camera", wait_merged=False)
        assert first.verdict is Verdict.ACCEPTED
        assert second.verdict is Verdict.REJECTED and second.reason == Reason.USED
        assert "Already used" in second.message
        assert core.scans.merger.pending_count() == 2  # durable in the journal, not in the log
        assert core.store.list_scans(pass_id=p.id).items == []
    finally:
        gate.open.set()
    merged(core)
    assert scans_in_log(core, p.id) == [("accepted", None), ("rejected", "used")]
    stored = core.store.pass_by_id(p.id)
    assert stored is not None and stored.uses == 1 and stored.status is PassStatus.USED
    assert core.scans.merger.journal.pending() == []  # deleted once merged


def test_a_multi_use_pass_counts_both_unmerged_scans_and_keeps_a_synced_scan_between(
        core: Core, tmp_path: Path, clock: FakeClock) -> None:
    other = build_core(tmp_path / "other", now=clock)
    try:
        p = other.passes.create(PassService.validate("Crew", type="multi", max_uses=5))
        for key in other.ctx.keys.public_keys_b64():
            core.ctx.keys.trust(key)
        remote = RemoteEventService(core.ctx)
        remote.apply(other.store.events_for_pass(p.id))
        with merge_held(core):
            assert core.scans.submit(p.public_url, wait_merged=False).accepted
            assert core.scans.submit(p.public_url, wait_merged=False).accepted
            # Another door's admission arrives through sync between the decisions and the merge.
            assert other.scans.submit(p.public_url).accepted
            remote.apply(scanned_events(other, p.id))
            synced = core.store.pass_by_id(p.id)
            assert synced is not None and synced.uses == 1  # applied; the door's two pending
    finally:
        other.close()
    merged(core)
    stored = core.store.pass_by_id(p.id)
    assert stored is not None and stored.uses == 3
    assert len(scanned_events(core, p.id)) == 3


def test_a_revoke_between_a_scan_and_its_merge_keeps_both_in_sequence(core: Core) -> None:
    p = core.passes.create(PassService.validate("Grace Hopper"))
    published: list[Event] = []
    core.bus.subscribe(published.append)
    with merge_held(core):
        assert core.scans.submit(p.code, wait_merged=False).accepted
        core.passes.revoke(p.code, reason="lost")  # a manager's action, committed first
    merged(core)
    stored = core.store.pass_by_id(p.id)
    assert stored is not None and stored.status is PassStatus.REVOKED
    mine = sorted((e for e in core.store.events_for_pass(p.id)), key=lambda e: e.origin_seq)
    assert [e.type for e in mine] == [EventType.PASS_CREATED, EventType.PASS_STATUS_CHANGED,
                                      EventType.PASS_SCANNED]
    seqs = [e.origin_seq for e in mine]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # contiguous: no gap, no repeat
    # Published once each, after its commit, in origin_seq order (the creation came before).
    assert [e.origin_seq for e in published if e.pass_id == p.id] == seqs[1:]


def test_a_journal_that_cannot_be_opened_refuses_the_scan_and_admits_nobody(
        core: Core) -> None:
    p = core.passes.create(PassService.validate("Alan Turing"))
    journal = core.store.data_dir / JOURNAL_NAME
    journal.unlink(missing_ok=True)
    journal.mkdir()  # a directory where the file should be: SQLite cannot open it (even as root)
    with pytest.raises(StorageError) as refused:
        core.scans.submit(p.code, wait_merged=False)
    text = str(refused.value)
    assert text.startswith("Could not record the scan:") and "nothing was admitted" in text
    assert "\n" not in text
    assert core.store.list_scans(pass_id=p.id).items == []
    stored = core.store.pass_by_id(p.id)
    assert stored is not None and stored.uses == 0 and stored.status is PassStatus.ACTIVE
    journal.rmdir()
    assert core.scans.submit(p.code).accepted  # works again once the file can be written


@pytest.mark.allow_log("station.services.scan_merge", "Could not save the door's last scans")
def test_a_damaged_journal_is_told_in_one_sentence(core: Core) -> None:
    p = core.passes.create(PassService.validate("Ada"))
    core.scans.merger.journal.close()
    (core.store.data_dir / JOURNAL_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError) as refused:
        core.scans.submit(p.code)
    assert "Could not record the scan:" in str(refused.value)
    assert core.store.list_scans(pass_id=p.id).items == []


def test_an_undo_of_a_scan_still_in_the_journal_waits_for_its_merge(core: Core) -> None:
    p = core.passes.create(PassService.validate("Undo Me"))
    gate = Gate()
    gate.hold(core)
    result = core.scans.submit(p.code, wait_merged=False)
    undone: list[PassStatus] = []
    undo = threading.Thread(target=lambda: undone.append(core.scans.undo(result.scan.id).status))
    undo.start()
    gate.open.set()
    undo.join(PATIENCE_S)
    assert undone == [PassStatus.ACTIVE]


CHILD = """
import os, sys, threading
from pathlib import Path
from station.app import build_core
from station.store.db import Priority
core = build_core(Path(sys.argv[1]))
if sys.argv[3] == "writer":
    held = threading.Event()
    # Test-only: the main writer is held for good, so the merge never runs before the kill.
    core.store.submit(lambda tx: (held.set(), threading.Event().wait()), Priority.USER)
    held.wait()
else:  # Test-only: this process never merges (another one on the same data directory may)
    core.scans.merger._merging.acquire()
result = core.scans.submit(sys.argv[2], "camera", wait_merged=False)
print(result.verdict, result.scan.id, flush=True)
threading.Event().wait()
"""


def door_process(data: Path, code: str, hold: str) -> tuple[subprocess.Popen[str], str]:
    """A door in a process of its own that scanned `code` once (its verdict durable) and
    will not merge it; the scan's id."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), code, hold], cwd=REPO, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO),
             "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert child.stdout is not None
    line = child.stdout.readline()  # printed once the verdict was durable
    if not line.startswith("accepted "):
        child.kill()
        raise AssertionError((line, child.communicate(timeout=PATIENCE_S)))
    return child, line.split()[1]


def test_a_door_in_another_process_on_the_same_data_refuses_a_single_use_pass_again(
        tmp_path: Path) -> None:
    """The journal file is the overlay: a scan decided in another process and not merged yet
    counts here too (decisions are serialized by the journal's own write lock)."""
    data = tmp_path / "door"
    core = build_core(data)
    try:
        p = core.passes.create(PassService.validate("Twice"))
        child, scan_id = door_process(data, p.code, "merge")
        try:
            again = core.scans.submit(p.code, wait_merged=False)
            assert again.verdict is Verdict.REJECTED and again.reason == Reason.USED
            merged(core)  # this process's merge takes the other's entry along
        finally:
            child.kill()
            child.communicate(timeout=PATIENCE_S)
        assert scans_in_log(core, p.id) == [("accepted", None), ("rejected", "used")]
        assert core.store.list_scans(pass_id=p.id).items[-1].id == scan_id
    finally:
        core.close()


def test_a_scan_killed_before_its_merge_is_in_the_log_once_after_restarts(
        tmp_path: Path) -> None:
    data = tmp_path / "door"
    core = build_core(data)
    p = core.passes.create(PassService.validate("Crash Test", type="multi"))
    core.close()
    child, scan_id = door_process(data, p.code, "writer")
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=PATIENCE_S)
    journal_text = [t for _, t in _journal_rows(data)]
    assert len(journal_text) == 1 and scan_id in journal_text[0]

    def once(core: Core) -> None:
        assert [s.id for s in core.store.list_scans(pass_id=p.id).items] == [scan_id]
        assert len(scanned_events(core, p.id)) == 1
        stored = core.store.pass_by_id(p.id)
        assert stored is not None and stored.uses == 1

    for _ in range(2):  # restart, and again: the log has it exactly once
        again = build_core(data)
        try:
            once(again)
        finally:
            again.close()
    # A crash between the merge's commit and the journal's delete: the entry is there again.
    _put_back(data, journal_text[0])
    again = build_core(data)
    try:
        once(again)
        assert again.scans.merger.journal.pending() == []
    finally:
        again.close()


def _journal_rows(data: Path) -> list[tuple[int, str]]:
    from station.store.door_journal import DoorJournal
    journal = DoorJournal(data)
    try:
        return journal.pending()
    finally:
        journal.close()


def _put_back(data: Path, text: str) -> None:
    from station.store.door_journal import DoorJournal
    journal = DoorJournal(data)
    try:
        scan = json.loads(text)["scan"]
        journal.append(scan["scanned_at"], scan["pass_id"], scan["id"], text)
    finally:
        journal.close()


def test_the_journal_file_is_private(core: Core) -> None:
    p = core.passes.create(PassService.validate("Private"))
    core.scans.submit(p.code)
    mode = (core.store.data_dir / JOURNAL_NAME).stat().st_mode & 0o777
    assert mode == 0o600

