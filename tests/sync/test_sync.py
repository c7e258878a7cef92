"""Stations that share what they saw, through a real nats-server hub on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import nats
import nats.errors
import nats.js.errors
import pytest

from station.net.sync.hub_tls import connect_hub
from station.app import Station
from station.domain.errors import StorageError
from station.domain.events import EventType
from station.domain.models import PassStatus, Reason, Verdict
from station.net.sync.hub import HubServer
from station.services.passes import PassService
from station.services.scans import ScanResult
from station.store.releases import pending_releases
from station.store.sync import SyncLedger
from tests.small_disk import SmallDisk, small_disk  # noqa: F401  (fixture)
from tests.sync.conftest import StationFactory, converged, in_sync, wait_for


def _pass_everywhere(pass_id: str, *stations: Station) -> None:
    wait_for(lambda: all(s.core.store.pass_by_id(pass_id) is not None for s in stations),
             what="the pass to reach every station")


def test_revocation_at_a_refuses_the_pass_at_b_and_c(hub: HubServer,
                                                    make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, b, c = (make_station(name, url) for name in ("Door A", "Door B", "Door C"))
    wait_for(in_sync(a, b, c), what="three stations in sync")
    p = a.core.passes.create(PassService.validate("Ada", "multi"))
    _pass_everywhere(p.id, b, c)

    a.core.passes.revoke(p.id, reason="chargeback", by="Manager at A")
    wait_for(lambda: all(s.core.store.pass_by_id(p.id).status is PassStatus.REVOKED  # type: ignore[union-attr]
                         for s in (b, c)), what="the revocation to reach B and C")
    for door in (b, c):
        result = door.core.scans.submit(p.public_url)
        assert result.verdict is Verdict.REJECTED and result.reason == Reason.REVOKED
        assert "chargeback" in result.message
    wait_for(converged(a, b, c), what="convergence")
    # A's key reached B and C through the hub, and so did the door names.
    assert set(a.core.ctx.keys.public_keys_b64()) <= set(b.core.ctx.keys.public_keys_b64())
    assert b.core.ctx.station_names()[a.core.ctx.station_id] == "Door A"


def test_a_single_use_pass_scanned_at_two_doors_at_once_online_is_admitted_once(
        hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, b = make_station("Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="two stations in sync")
    passes = [a.core.passes.create(PassService.validate(f"Guest {i}", "single")) for i in range(5)]
    for p in passes:
        _pass_everywhere(p.id, b)

    for p in passes:
        barrier = threading.Barrier(2)
        results: dict[str, ScanResult] = {}

        def scan(station: Station, name: str, payload: str = p.public_url) -> None:
            barrier.wait()
            results[name] = station.core.scans.submit(payload)

        threads = [threading.Thread(target=scan, args=(s, n)) for s, n in ((a, "A"), (b, "B"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        verdicts = sorted(str(r.verdict) for r in results.values())
        assert verdicts == ["accepted", "rejected"], {k: r.message for k, r in results.items()}
        winner = "A" if results["A"].accepted else "B"
        loser = results["B" if winner == "A" else "A"]
        assert loser.reason == Reason.USED
        assert loser.message.startswith(f"Already used at Door {winner}")
    wait_for(converged(a, b), what="convergence")
    for s in (a, b):
        for p in passes:
            after = s.core.store.pass_by_id(p.id)
            assert after is not None and after.uses == 1 and after.conflicts == 0


def test_with_the_hub_down_both_doors_admit_and_the_conflict_shows_everywhere_after(
        hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, b, c = (make_station(name, url) for name in ("Door A", "Door B", "Door C"))
    wait_for(in_sync(a, b, c), what="three stations in sync")
    p = c.core.passes.create(PassService.validate("Bo", "single"))
    _pass_everywhere(p.id, a, b)

    hub.stop()
    wait_for(lambda: not any(s.sync.status().connected for s in (a, b, c)),  # type: ignore[union-attr]
             20, "every station to notice the hub is gone")
    first, second = a.core.scans.submit(p.public_url), b.core.scans.submit(p.public_url)
    assert first.accepted and second.accepted  # no door stops because the network is down
    assert a.sync.status().pending > 0  # type: ignore[union-attr]

    hub.start()
    wait_for(converged(a, b, c), what="convergence after the hub returned")
    for s in (a, b, c):
        after = s.core.store.pass_by_id(p.id)
        assert after is not None and after.uses == 2 and after.conflicts == 1
        announced = [e for e in s.core.store.events_for_pass(p.id)
                     if e.type == EventType.PASS_STATUS_CHANGED
                     and e.data.get("reason") == "duplicate_offline"]
        assert len(announced) == 1  # one conflict event, whichever station noticed it first
        assert s.core.scans.submit(p.public_url).reason == Reason.USED
    assert len({s.sync.state_digest() for s in (a, b, c)}) == 1  # type: ignore[union-attr]


def test_a_station_offline_for_10k_events_catches_up(hub: HubServer,
                                                      make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, c = make_station("Door A", url), make_station("Door C", url)
    wait_for(in_sync(a, c), what="two stations in sync")
    c.stop()
    items = [PassService.validate(f"Guest {i}", "single") for i in range(10_000)]
    created = a.core.passes.create_many(items)
    wait_for(lambda: a.sync.pending() == 0, 120, "A to publish 10k events")  # type: ignore[union-attr]

    again = make_station("Door C", url)  # the same data directory, restarted
    assert again.core.store.pass_by_id(created[-1].id) is None
    seen: list[int] = []
    assert again.sync is not None
    assert again.sync.wait_in_sync(120, lambda progress: seen.append(progress.total))
    assert max(seen) >= 10_000  # the progress bar had the history's size
    wait_for(converged(a, again), what="convergence")
    assert again.core.store.count_passes() == 10_000
    assert again.sync.worker_batches >= 1  # the history was prepared in the worker process

    # Its place in the hub's stream committed with the events: a restart downloads nothing again.
    again.stop()
    third = make_station("Door C", url)
    assert third.sync is not None and third.sync.wait_in_sync(60)
    assert third.sync.catch_up().done == 0
    assert third.core.store.count_passes() == 10_000


def test_a_download_while_the_door_scans_gives_way_and_ends_whole(
        hub: HubServer, make_station: StationFactory, caplog: pytest.LogCaptureFixture) -> None:
    # A scan at the door makes the history download write in steps of 1,000 events, letting
    # the scan through between two; passes whose creation and scans fall in different steps
    # are folded from their whole history.
    url = hub.target.full_url()
    a, c = make_station("Door A", url), make_station("Door C", url)
    wait_for(in_sync(a, c), what="two stations in sync")
    c.stop()
    created = a.core.passes.create_many([PassService.validate(f"G{i}") for i in range(3000)])
    for p in created[:20]:
        assert a.core.scans.submit(p.public_url).accepted
    wait_for(lambda: a.sync is not None and a.sync.pending() == 0, what="A to publish")

    again = make_station("Door C", url, start=False)
    assert not again.core.scans.submit("not a pass").accepted  # the door is in use
    again.start()
    assert again.sync is not None and again.sync.wait_in_sync(120)
    wait_for(converged(a, again), what="convergence")
    assert again.core.store.count_passes() == 3000
    for p in created[:20]:
        here = again.core.store.pass_by_id(p.id)
        assert here is not None and here.uses == 1 and here.status == "used"
    assert again.sync.worker_batches >= 1
    assert not [r for r in caplog.records if "retrying" in r.getMessage()]  # no batch failed


def test_the_same_hub_at_another_address_downloads_and_publishes_nothing_again(
        hub: HubServer, make_station: StationFactory) -> None:
    # A hub whose address changed (DHCP; --sync auto follows it) is the same stream: the
    # progress kept under its old address carries over. Here 127.0.0.1 and localhost.
    url = hub.target.full_url()
    assert "@127.0.0.1:" in url
    a, c = make_station("Door A", url), make_station("Door C", url)
    wait_for(in_sync(a, c), what="two stations in sync")
    a.core.passes.create_many([PassService.validate(f"G{i}") for i in range(200)])
    c.core.passes.create_many([PassService.validate(f"H{i}") for i in range(50)])
    wait_for(converged(a, c), what="convergence")
    c.stop()

    moved = make_station("Door C", url.replace("@127.0.0.1:", "@localhost:"))
    assert moved.sync is not None and moved.sync.wait_in_sync(60)
    assert moved.sync.status().hub.startswith("localhost:")
    # Nothing downloaded again: at most its own last echoes are read (and skipped), not the 250.
    assert moved.sync.catch_up().done <= 50
    assert moved.sync.pending() == 0  # and nothing of its own left to publish again
    wait_for(converged(a, moved), what="convergence")


@pytest.mark.allow_log("nats.aio.client", "encountered error")
def test_a_station_with_a_wrong_credential_is_refused(hub: HubServer,
                                                      make_station: StationFactory) -> None:
    good = make_station("Door A", hub.target.full_url())
    wait_for(in_sync(good), what="A in sync")
    good.core.passes.create(PassService.validate("Cy"))
    wrong = hub.target.with_password("not-the-password").full_url()
    stranger = make_station("Intruder", wrong)
    wait_for(lambda: stranger.sync.status().error is not None,  # type: ignore[union-attr]
             what="the refusal to be reported")
    status = stranger.sync.status()  # type: ignore[union-attr]
    assert not status.connected and "credentials" in status.error
    assert "not-the-password" not in str(status)
    assert stranger.core.store.count_passes() == 0

    async def direct() -> None:
        await connect_hub(hub.target.with_password("nope"), allow_reconnect=False,
                          connect_timeout=2)

    with pytest.raises(nats.errors.Error, match="Authorization"):
        asyncio.run(direct())


def test_the_password_is_kept_in_keyring_not_in_the_database(hub: HubServer, tmp_path: Path,
                                                             make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a = make_station("Door A", url)
    wait_for(in_sync(a), what="A in sync")
    a.stop()
    raw = (tmp_path / "Door A" / "station.db").read_bytes()
    assert hub.target.password and hub.target.password.encode() not in raw
    again = make_station("Door A", None)  # no --sync: the remembered hub and keyring password
    assert again.sync is not None and again.sync.target.password == hub.target.password
    wait_for(in_sync(again), what="A in sync again")


def test_events_from_peers_are_applied_once_however_often_they_arrive(
        hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, b = make_station("Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="in sync")
    p = a.core.passes.create(PassService.validate("Di", "multi", max_uses=5))
    a.core.scans.submit(p.public_url)
    wait_for(converged(a, b), what="convergence")
    # Replaying A's whole log at B (a redelivery after the duplicate window) changes nothing.
    before = b.sync.state_digest()  # type: ignore[union-attr]
    from station.services.sync_apply import RemoteEventService
    applied = RemoteEventService(b.core.ctx).apply(a.core.store.events_for_pass(p.id))
    assert applied.inserted == 0
    assert b.sync.state_digest() == before  # type: ignore[union-attr]
    assert len(SyncLedger(b.core.store).event_ids()) == len(SyncLedger(a.core.store).event_ids())


def test_publish_progress_is_checkpointed_and_saved_on_stop(hub: HubServer,
                                                           make_station: StationFactory) -> None:
    # Progress is kept in memory between checkpoints (no fsync per scan at the door); stopping
    # writes it, so a restart re-sends nothing and reports nothing pending.
    url = hub.target.full_url()
    a = make_station("Door A", url)
    wait_for(in_sync(a), what="A in sync")
    p = a.core.passes.create(PassService.validate("Ed", "multi", max_uses=50))
    for _ in range(20):
        a.core.scans.submit(p.public_url)
    wait_for(lambda: a.sync.pending() == 0, what="A to publish")  # type: ignore[union-attr]
    last_seq = max(r["seq"] for r in a.core.store.db().query("SELECT seq FROM events"))
    events_before = a.core.store.count_events()
    a.stop()
    again = make_station("Door A", None)
    saved = list(again.core.store.db().query("SELECT max(published_seq) AS s FROM sync_progress"))
    assert saved[0]["s"] == last_seq
    # Its own events came back through the shared stream and changed nothing here.
    wait_for(in_sync(again), what="A in sync again")
    assert again.core.store.count_events() == events_before
    assert again.core.store.pass_by_id(p.id).uses == 20  # type: ignore[union-attr]


def test_stopping_waits_for_the_publish_checkpoint_on_a_slow_disk(
        hub: HubServer, make_station: StationFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # The last checkpoint is written while the sync task winds down; stop() used to return
    # before it was, and the shutdown that follows cut it off (seen on a loaded machine).
    url = hub.target.full_url()
    a = make_station("Door A", url)
    wait_for(in_sync(a), what="A in sync")
    p = a.core.passes.create(PassService.validate("Flo", "multi", max_uses=50))
    for _ in range(5):
        a.core.scans.submit(p.public_url)
    wait_for(lambda: a.sync.pending() == 0, what="A to publish")  # type: ignore[union-attr]
    write = SyncLedger.mark_published

    def slow_disk(self: SyncLedger, hub_key: str, seq: int, at: str) -> None:
        time.sleep(0.3)
        write(self, hub_key, seq, at)

    monkeypatch.setattr(SyncLedger, "mark_published", slow_disk)
    last_seq = max(r["seq"] for r in a.core.store.db().query("SELECT seq FROM events"))
    a.stop()
    monkeypatch.undo()
    again = make_station("Door A", None, start=False)
    saved = list(again.core.store.db().query("SELECT max(published_seq) AS s FROM sync_progress"))
    assert saved[0]["s"] == last_seq


def _claim_holder(hub: HubServer, org: str, pass_id: str) -> str | None:
    """Who holds the hub's claim on a pass (None when nobody does), read straight from NATS."""
    async def read() -> str | None:
        t = hub.target
        nc = await connect_hub(t)
        try:
            kv = await nc.jetstream().key_value(f"station_{org}_claims")
            try:
                entry = await kv.get(pass_id)
            except nats.js.errors.KeyNotFoundError:
                return None
            import json
            return str(json.loads(entry.value or b"{}").get("stationId"))
        finally:
            await nc.close()
    return asyncio.run(read())


def test_undoing_a_single_use_admission_gives_the_claim_back(hub: HubServer,
                                                            make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, b = make_station("Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="in sync")
    org = a.sync.status().organisation  # type: ignore[union-attr]
    p = a.core.passes.create(PassService.validate("Flo", "single"))
    keep = a.core.passes.create(PassService.validate("Gus", "single"))
    _pass_everywhere(keep.id, b)

    admitted = a.core.scans.submit(p.public_url)
    assert admitted.accepted
    assert _claim_holder(hub, org, p.id) == a.core.ctx.station_id
    a.core.scans.undo(admitted.scan.id, by="Door A")  # the wrong person was let through
    wait_for(lambda: _claim_holder(hub, org, p.id) is None, what="the claim to be given back")
    wait_for(lambda: b.core.store.pass_by_id(p.id) is not None
             and b.core.store.pass_by_id(p.id).uses == 0,  # type: ignore[union-attr]
             what="the undo to reach B")
    again = b.core.scans.submit(p.public_url)  # the right guest, at the other door
    assert again.accepted, again.message
    assert _claim_holder(hub, org, p.id) == b.core.ctx.station_id
    assert a.core.scans.submit(p.public_url).reason == Reason.USED

    # An admission that stands keeps its claim: another door is still refused.
    assert a.core.scans.submit(keep.public_url).accepted
    refused = b.core.scans.submit(keep.public_url)
    assert refused.reason == Reason.USED and refused.message.startswith("Already used at Door A")


def test_an_undo_made_while_the_hub_is_down_is_released_after_a_restart(
        hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, b = make_station("Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="in sync")
    org = a.sync.status().organisation  # type: ignore[union-attr]
    a_id = a.core.ctx.station_id
    p = a.core.passes.create(PassService.validate("Hal", "single"))
    _pass_everywhere(p.id, b)
    admitted = a.core.scans.submit(p.public_url)
    assert admitted.accepted and _claim_holder(hub, org, p.id) == a_id

    hub.stop()
    wait_for(lambda: not a.sync.status().connected, what="A to notice")  # type: ignore[union-attr]
    a.core.scans.undo(admitted.scan.id, by="Door A")  # nobody can tell the hub now
    assert pending_releases(a.core.store) == [(p.id, admitted.scan.scanned_at)]
    a.stop()  # …and the door is shut down before the hub comes back
    hub.start()
    assert _claim_holder(hub, org, p.id) == a_id  # the hub still holds A's claim

    again = make_station("Door A", None)
    wait_for(lambda: _claim_holder(hub, org, p.id) is None, what="the claim to be given back")
    wait_for(lambda: pending_releases(again.core.store) == [], what="the release to be struck off")
    wait_for(lambda: in_sync(again, b)() and b.core.store.pass_by_id(p.id).uses == 0,  # type: ignore[union-attr]
             30, "the undo to reach B, B online again")
    second = b.core.scans.submit(p.public_url)  # the right guest, at the other door
    assert second.accepted, second.message
    assert _claim_holder(hub, org, p.id) == b.core.ctx.station_id


@pytest.mark.allow_log("station.net.sync.client", "the disk is full")
def test_a_scan_that_could_not_be_recorded_gives_its_fresh_claim_back(
        small_disk: SmallDisk, hub: HubServer, make_station: StationFactory) -> None:
    """A full disk at door A: nothing was admitted there, so the claim A made for that scan must
    not make door B refuse the guest as 'already used'."""
    url = hub.target.full_url()
    a, b = make_station("disk/Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="in sync")
    org = a.sync.status().organisation  # type: ignore[union-attr]
    p = a.core.passes.create(PassService.validate("Hal", "single"))
    _pass_everywhere(p.id, b)
    small_disk.fill()
    try:
        with pytest.raises(StorageError):
            a.core.scans.submit(p.public_url)
        wait_for(lambda: _claim_holder(hub, org, p.id) is None, what="the claim to be given back")
        admitted = b.core.scans.submit(p.public_url)  # the guest walks to the other door
        assert admitted.accepted, admitted.message
        assert _claim_holder(hub, org, p.id) == b.core.ctx.station_id
    finally:
        small_disk.free()


def test_a_format_2_pass_admitted_unsynced_on_its_signature_joins_the_issuers_pass(
        hub: HubServer, make_station: StationFactory) -> None:
    """The compact token carries no pass id: the door derives it from the code, so its scan and
    the issuer's `pass.created` fold into one pass once the hub is back."""
    url = hub.target.full_url()
    a, b = make_station("Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="two stations in sync")
    wait_for(lambda: set(a.core.ctx.keys.public_keys_b64()) <= set(b.core.ctx.keys.public_keys_b64()),
             what="A's key to reach B")
    hub.stop()
    wait_for(lambda: not any(s.sync.status().connected for s in (a, b)),  # type: ignore[union-attr]
             20, "both stations to notice the hub is gone")
    p = a.core.passes.create(PassService.validate("Ada", "multi", max_uses=3))
    at_b = b.core.scans.submit(p.public_url)
    assert at_b.accepted and at_b.warning and "signature" in at_b.warning
    assert at_b.pass_ is not None and at_b.pass_.id == p.id and at_b.pass_.provisional
    assert a.core.scans.submit(p.public_url).accepted

    hub.start()
    wait_for(converged(a, b), what="convergence after the hub returned")
    for s in (a, b):
        after = s.core.store.pass_by_id(p.id)
        assert after is not None and after.uses == 2 and not after.provisional
        assert after.name == "Ada" and after.conflicts == 0
