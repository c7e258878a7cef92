"""A full disk under the door journal: the scan is refused in one sentence before anyone is
admitted, and a hub claim made for it is given back (docs/door-journal.md)."""

from __future__ import annotations

from station.app import Core
from station.domain.errors import StorageError
from station.domain.models import PassStatus
from station.services.claims import Claim, ClaimState
from station.services.passes import PassService
from tests.small_disk import SmallDisk

REFUSAL = "Could not record the scan: the disk is full — nothing was admitted"
CLAIMED_AT = "2026-06-01T18:00:00.000Z"


def test_a_full_disk_refuses_at_the_journal_and_returns_the_claim(
        core: Core, small_disk: SmallDisk) -> None:
    first = core.passes.create(PassService.validate("Ada Lovelace"))
    p = core.passes.create(PassService.validate("Alan Turing"))
    assert core.scans.submit(first.code).accepted  # the journal exists and has been used
    returned: list[tuple[str, str]] = []
    core.scans.claimer = lambda pass_id: Claim(ClaimState.CLAIMED, at=CLAIMED_AT, fresh=True)
    core.scans.unclaimer = lambda pass_id, at: returned.append((pass_id, at))
    small_disk.fill()
    try:
        core.scans.submit(p.code, wait_merged=False)
        raise AssertionError("a scan was admitted on a full disk")
    except StorageError as exc:
        assert str(exc).startswith(REFUSAL) and "\n" not in str(exc), exc
    assert returned == [(p.id, CLAIMED_AT)]
    assert core.scans.merger.pending_count() == 0
    small_disk.free()
    assert core.store.list_scans(pass_id=p.id).items == []
    stored = core.store.pass_by_id(p.id)
    assert stored is not None and stored.uses == 0 and stored.status is PassStatus.ACTIVE
    assert core.scans.submit(p.code).accepted  # space again: the same station admits, once
    assert returned == [(p.id, CLAIMED_AT)]
