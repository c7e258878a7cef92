"""Applying a batch of remote events in bulk, over a real SQLite store (no hub needed)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from station.app import Core, build_core
from station.domain import tokens
from station.domain.events import Event
from station.services.event_trust import EventTrustService
from station.services.passes import PassService
from station.services.sync_apply import ApplyMode, RemoteBatch, RemoteEventService
from tests.fakes import FakeClock


def test_bulk_applied_events_reach_the_append_hooks_once(core: Core, tmp_path: Path) -> None:
    # The webhook outbox is an append hook: events inserted in bulk by sync must reach it too,
    # inside the same transaction, and a redelivered batch must not reach it again.
    other = build_core(tmp_path / "other")
    try:
        created = other.passes.create_many([PassService.validate(f"Guest {i}") for i in range(30)])
        scanned = other.scans.submit(created[0].public_url)
        events = [e for p in created for e in other.store.events_for_pass(p.id)]
    finally:
        other.close()
    seen: list[Event] = []
    core.store.add_append_hook(lambda tx, events: seen.extend(events))
    for key in other.ctx.keys.public_keys_b64():
        core.ctx.keys.trust(key)

    applied = RemoteEventService(core.ctx).apply(events + events[:5])  # with duplicates
    assert applied.inserted == len(events) and applied.duplicates == 5
    assert sorted(e.id for e in seen) == sorted(e.id for e in events)
    assert core.store.count_passes() == 30
    first = core.store.pass_by_id(created[0].id)
    assert first is not None and first.uses == 1 and scanned.accepted

    again = RemoteEventService(core.ctx).apply(events)
    assert again.inserted == 0 and len(seen) == len(events)


def test_a_batch_partly_held_already_inserts_the_rest_and_folds_whole_histories(
        core: Core, tmp_path: Path) -> None:
    # A pass's creation arrives in one batch and its scan in the next (with events held
    # already and one repeated): the fold must see both, whichever batch brought them.
    other = build_core(tmp_path / "other")
    try:
        created = other.passes.create_many([PassService.validate(f"Guest {i}") for i in range(20)])
        other.scans.submit(created[3].public_url)
        events = [e for p in created for e in other.store.events_for_pass(p.id)]
    finally:
        other.close()
    for key in other.ctx.keys.public_keys_b64():
        core.ctx.keys.trust(key)
    scan = next(e for e in events if e.type == "pass.scanned")
    first = [e for e in events if e is not scan][:10]
    remote = RemoteEventService(core.ctx)
    assert remote.apply(first).inserted == 10

    # Not fsync'd (a catch-up batch): still one atomic transaction, and the writer connection
    # is back to synchronous=FULL afterwards for the next commit (a door's scan).
    applied = remote.apply_batch(RemoteBatch(events + [scan], signatures_checked=True), None,
                                 ApplyMode.DOWNLOAD).result(timeout=60)
    assert applied.inserted == len(events) - 10 and applied.duplicates == 11
    assert core.store.count_passes() == 20
    third = core.store.pass_by_id(created[3].id)
    assert third is not None and third.uses == 1 and not third.provisional  # created + scanned
    assert core.store.write(lambda tx: tx.execute("PRAGMA synchronous").fetchone()[0]) == 2  # FULL


def test_a_late_admission_is_folded_in_its_place_not_counted_onto_the_stored_pass(
        core: Core, tmp_path: Path, clock: FakeClock) -> None:
    """New admissions of a pass this station holds are counted onto its stored row only when
    they come after its whole log. A door that admitted the pass offline while it was revoked
    reports after it was re-activated: its scan sorts between the two commands, the fold flags
    it (revoked_offline) and counts it, as it would have on arrival in order."""
    from station.domain.fold import fold

    door = build_core(tmp_path / "door", now=clock)
    hub_side = build_core(tmp_path / "hub", now=clock)
    try:
        p = hub_side.passes.create(PassService.validate("Guest"))
        created = hub_side.store.events_for_pass(p.id)
        RemoteEventService(door.ctx).apply(created)
        for key in hub_side.ctx.keys.public_keys_b64():
            door.ctx.keys.trust(key)
        clock.advance(minutes=1)
        hub_side.passes.revoke(p.id, reason="lost", by="Mia")
        revoked = hub_side.store.events_for_pass(p.id)[-1]
        clock.advance(minutes=1)
        admitted = door.scans.submit(p.public_url)  # the door has not heard of it: admits
        assert admitted.accepted
        late = [e for e in door.store.events_for_pass(p.id) if e.type == "pass.scanned"]
        clock.advance(minutes=1)
        hub_side.passes.activate(p.id)
        activated = hub_side.store.events_for_pass(p.id)[-1]
        for key in door.ctx.keys.public_keys_b64():
            core.ctx.keys.trust(key)
        remote = RemoteEventService(core.ctx)
        remote.apply([*created, revoked])
        remote.apply([activated])
        # The door's scan sorts between the revocation and the re-activation.
        assert revoked.order_key() < late[0].order_key() < activated.order_key()
        remote.apply(late)
        stored = core.store.pass_by_id(p.id)
        assert stored == fold(core.store.events_for_pass(p.id)).pass_
        assert stored is not None and stored.uses == 1 and stored.conflicts == 1
    finally:
        door.close()
        hub_side.close()


def test_late_scans_spread_over_many_steps_read_the_pass_log_once(
        core: Core, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another door's scans of a pass this door admitted since (they sort inside its log) are
    refolded with the whole log in each step of the batch that brings some; the log is read
    whole once per batch, then only what each step added (sync_apply.Histories), and the stored
    pass is still the fold of the whole log."""
    from station.domain.fold import fold
    from station.services import sync_apply
    from station.store import sync as sync_store

    other = build_core(tmp_path / "other", now=clock)
    try:
        p = other.passes.create(PassService.validate("Crew", "multi"))
        created = other.store.events_for_pass(p.id)
        for _ in range(12):
            clock.advance(seconds=1)
            assert other.scans.submit(p.public_url).accepted
        theirs = [e for e in other.store.events_for_pass(p.id) if e.type == "pass.scanned"]
        for key in other.ctx.keys.public_keys_b64():
            core.ctx.keys.trust(key)
    finally:
        other.close()
    remote = RemoteEventService(core.ctx)
    remote.apply(created)
    clock.advance(minutes=1)
    for _ in range(3):  # this door admits it meanwhile: later than all of theirs
        assert core.scans.submit(p.public_url).accepted

    whole_reads: list[int] = []
    read = sync_store.events_of_passes_before

    def counting(tx, pass_ids, head, after=0):  # type: ignore[no-untyped-def]
        if p.id in pass_ids and after == 0:
            whole_reads.append(head)
        return read(tx, pass_ids, head, after) if after else read(tx, pass_ids, head)

    monkeypatch.setattr(sync_store, "events_of_passes_before", counting)
    monkeypatch.setattr(sync_apply, "APPLY_STEP", 5)  # 12 scans: three steps
    applied = remote.apply_batch(RemoteBatch(theirs, signatures_checked=True), None,
                                 ApplyMode.DOWNLOAD).result(timeout=60)
    assert applied.inserted == 12
    assert len(whole_reads) == 1
    stored = core.store.pass_by_id(p.id)
    assert stored == fold(core.store.events_for_pass(p.id)).pass_
    assert stored is not None and stored.uses == 15


@pytest.mark.allow_log("station.services.event_trust", "refused")
def test_a_batch_is_screened_against_the_snapshot_the_sync_client_took_for_it(
        core: Core, tmp_path: Path) -> None:
    """The follower takes one trust snapshot per batch and the apply screens against it (a
    second snapshot read the same settings again for every live event): a snapshot from
    before the origin's key was known refuses its events, a batch without one is screened
    against the keys held now."""
    other = build_core(tmp_path / "other")
    try:
        created = other.passes.create_many([PassService.validate(f"Guest {i}") for i in range(3)])
        events = [e for p in created for e in other.store.events_for_pass(p.id)]
        signed = EventTrustService(other.ctx).sign_each(events)
        key = other.ctx.keys.private.public_key()
        origin = other.ctx.station_id
    finally:
        other.close()
    remote = RemoteEventService(core.ctx)
    before = remote.trust.snapshot()  # the origin's key unknown yet
    core.ctx.keys.trust(base64.b64encode(tokens.public_key_bytes(key)).decode())
    remote.trust.learn_keys_of_stations({origin: [tokens.key_id(key)]})

    stale = remote.apply_batch(RemoteBatch(signed, trust=before), None,
                               ApplyMode.LIVE).result(timeout=60)
    assert stale.inserted == 0 and core.store.count_passes() == 0
    fresh = remote.apply_batch(RemoteBatch(signed), None, ApplyMode.LIVE).result(timeout=60)
    assert fresh.inserted == len(events) and core.store.count_passes() == 3


def _events_of_type(core: Core, kind: str) -> list[Event]:
    from station.store.rows import event_from_row
    return [event_from_row(r) for r in core.store.fetch_all(
        "SELECT * FROM events WHERE type = ? ORDER BY seq", (kind,))]


def test_lists_and_check_outs_from_another_station_apply_here(core: Core, tmp_path: Path) -> None:
    # Events about no pass (a list created and edited, everyone checked out) enter the log like
    # client.created does, and the lists are materialised in the same transaction.
    from station.domain.events import EventType
    from station.domain.occupancy import fold_events
    from station.store.door_reads import inside_counts
    other = build_core(tmp_path / "other")
    try:
        vip = other.lists.create({"name": "VIP", "fields": {"tier": "vip"}}, by="Mia")
        other.lists.edit("VIP", {"capacity": 2}, by="Mia")
        guest = other.passes.create(PassService.validate("Vera", fields={"tier": "vip"}))
        other.scans.submit(guest.code)
        events = [*_events_of_type(other, EventType.LIST_CHANGED),
                  *other.store.events_for_pass(guest.id)]
    finally:
        other.close()
    # At a time after the entry (a check-out orders by its `at`, not by its stamp).
    at = "2099-01-01T00:00:00Z"
    checkout = Event("evt_checkout1", EventType.OCCUPANCY_CHECKOUT, at,
                     {"at": at, "listId": None, "by": "Mia"},
                     "sta_other", 99, events[-1].hlc)
    applied = RemoteEventService(core.ctx).apply([*events, checkout])

    assert applied.inserted == len(events) + 1
    (here,) = core.lists.all()
    assert (here.id, here.name, here.capacity) == (vip.id, "VIP", 2)
    assert core.lists.find("vip") == here
    # The check-out took everyone out: the rows equal the fold of what the log holds.
    assert inside_counts(core.store) == {k: v for k, v in fold_events(
        [*events, checkout]).by_list.items() if v} == {}


@pytest.mark.parametrize("kind, data", [
    ("list.changed", {"changes": {"name": "No id"}}),
    ("list.changed", {"id": "lst_x", "changes": ["name"]}),
    ("occupancy.checkout", {"listId": None}),
    ("occupancy.checkout", {"at": "tonight"}),
    ("occupancy.checkout", {"at": "2026-06-01T18:00:00Z", "listId": 7}),
])
def test_a_malformed_list_or_check_out_event_is_refused_alone(
        core: Core, kind: str, data: dict[str, object]) -> None:
    from station.domain.errors import InvalidInput
    from station.domain.hlc import Stamp
    bad = Event("evt_bad", kind, "2026-06-01T18:00:00Z", data, "sta_other", 1,
                Stamp(1_780_000_000_000, 0).encode())
    with pytest.raises(InvalidInput):
        RemoteEventService(core.ctx).apply([bad])
    assert core.store.fetch_all("SELECT id FROM events WHERE id = 'evt_bad'") == []
    assert core.lists.all() == []
