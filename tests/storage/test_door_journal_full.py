"""A full disk under the door journal: the scan is refused in one sentence before anyone is
admitted, and a hub claim made for it is given back (docs/door-journal.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.app import Core
from station.domain.errors import StorageError
from station.domain.models import PassStatus
from station.services.claims import Claim, ClaimState
from station.services.passes import PassService
from station.store.door_journal import JOURNAL_NAME, WAL_PADDING
from tests.small_disk import SmallDisk
from tests.waiting import wait_until

REFUSAL = "Could not record the scan: the disk is full — nothing was admitted"
CLAIMED_AT = "2026-06-01T18:00:00.000Z"


@pytest.mark.allow_log("station.services.scan_merge", "kept in its journal")
def test_a_full_disk_refuses_at_the_journal_and_returns_the_claim(
        core: Core, small_disk: SmallDisk) -> None:
    core.scans.merger.start()  # a running station: the journal opened at start, its WAL grown
    wal = Path(core.store.data_dir) / f"{JOURNAL_NAME}-wal"
    wait_until(lambda: wal.exists() and wal.stat().st_size >= 2 * WAL_PADDING,
               what="the journal opened by the merge thread")
    first = core.passes.create(PassService.validate("Ada Lovelace"))
    crew = core.passes.create(PassService.validate("Crew", type="multi", max_uses=10_000))
    p = core.passes.create(PassService.validate("Alan Turing"))
    assert core.scans.submit(first.code).accepted  # the journal exists and has been used
    returned: list[tuple[str, str]] = []
    core.scans.claimer = lambda pass_id: Claim(ClaimState.CLAIMED, at=CLAIMED_AT, fresh=True)
    core.scans.unclaimer = lambda pass_id, at: returned.append((pass_id, at))
    small_disk.fill()
    # The journal's WAL was grown when it was opened (docs/door-journal.md): on a full disk
    # the door admits, durably, until that room is used (some 60 scans); the merges wait.
    admitted = 0
    try:
        while admitted < 1000:
            core.scans.submit(crew.code, wait_merged=False)
            admitted += 1
    except StorageError as exc:
        assert str(exc).startswith(REFUSAL) and "\n" not in str(exc), exc
    assert 0 < admitted < 1000
    try:
        core.scans.submit(p.code, wait_merged=False)
        raise AssertionError("a scan was admitted on a full disk")
    except StorageError as exc:
        assert str(exc).startswith(REFUSAL) and "\n" not in str(exc), exc
    assert returned == [(p.id, CLAIMED_AT)]
    small_disk.free()
    wait_until(lambda: core.scans.merger.pending_count() == 0, what="the merges after space")
    assert core.store.list_scans(pass_id=p.id).items == []
    stored = core.store.pass_by_id(p.id)
    assert stored is not None and stored.uses == 0 and stored.status is PassStatus.ACTIVE
    crew_now = core.store.pass_by_id(crew.id)
    assert crew_now is not None and crew_now.uses == admitted  # every admission, once
    assert core.scans.submit(p.code).accepted  # space again: the same station admits, once
    assert returned == [(p.id, CLAIMED_AT)]
