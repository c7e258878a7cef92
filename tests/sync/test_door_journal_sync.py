"""A scan merged from the door journal after a manager's action: both reach another station
through a real nats-server hub, in origin_seq order, their signatures verified there."""

from __future__ import annotations

from station.domain.events import Event, EventType
from station.domain.models import PassStatus
from station.net.sync.hub import HubServer
from station.services.passes import PassService
from tests.sync.conftest import StationFactory, in_sync, wait_for


def test_a_revoke_committed_before_a_door_scans_merge_reaches_a_peer_in_sequence(
        hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    a, b = make_station("Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="two stations in sync")
    p = a.core.passes.create(PassService.validate("Ada", "multi"))
    wait_for(lambda: b.core.store.pass_by_id(p.id) is not None, what="the pass at B")
    with a.core.scans.merger._merging:  # test-only: the door's scan stays in the journal
        assert a.core.scans.submit(p.public_url, wait_merged=False).accepted
        a.core.passes.revoke(p.id, reason="chargeback")  # committed first: origin_seq first
    origin = a.core.store.station_id

    def from_a() -> list[Event]:
        return [e for e in b.core.store.events_for_pass(p.id) if e.origin == origin]

    # B holds A's events only once their signatures and A's hash chain check out.
    wait_for(lambda: len(from_a()) == 3, what="A's events at B")
    at_b = sorted(from_a(), key=lambda e: e.origin_seq)
    assert [e.type for e in at_b] == [EventType.PASS_CREATED, EventType.PASS_STATUS_CHANGED,
                                      EventType.PASS_SCANNED]
    seqs = [e.origin_seq for e in at_b]
    assert seqs == list(range(seqs[0], seqs[0] + 3))
    for door in (a, b):
        stored = door.core.store.pass_by_id(p.id)
        assert stored is not None and stored.status is PassStatus.REVOKED
