"""Issue 15, parts 3 and 5 together: an enrolled station checks each event against the key the
organisation certified for its origin (real `station hub` subprocess, real nats-server).

A station with its own credential and certified key publishes, on the one subject the hub lets
it use, events in another station's name: refused. After `station hub remove`, the removed
station's key signs nothing any other door applies, whoever re-publishes it."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest

from station.app import Station
from station.domain import trust
from station.domain.event_signature import BAD_SIGNATURE, REMOVED_ORIGIN, sign_event
from station.domain.events import Event
from station.domain.models import Pass
from station.net.sync import wire
from station.net.sync.hub_tls import connect_hub
from station.net.sync.jetstream import OrgSpace
from station.services.event_trust import EventTrustService
from station.services.key_trust import KeyTrust
from station.services.passes import PassService
from station.store.sync import SyncLedger
from tests.sync.conftest import StationFactory, converged, wait_for
from tests.sync.test_enrolment import enrolled, own_target
from tests.sync.test_event_trust import _created, _has_event, _template
from tests.sync.test_removal import RunningHub, running_hub  # noqa: F401  (fixture)


def _publish_as(door: Station, port: int, events: list[Event]) -> None:
    """Publish `events` with `door`'s own credential, on its own subject (all the hub lets it)."""
    async def main() -> None:
        nc = await connect_hub(own_target(door, port))
        try:
            js = nc.jetstream()
            org = str(door.sync.status().organisation)  # type: ignore[union-attr]
            subject = OrgSpace(org).events_of(door.core.ctx.station_id)
            for event in events:
                await js.publish(subject, wire.encode(event), headers={"Nats-Msg-Id": event.id})
        finally:
            await nc.close()
    asyncio.run(main())


def _refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
            and r.name == "station.services.event_trust"]


def _three_enrolled(hub: RunningHub, make_station: StationFactory,
                    ) -> tuple[Station, Station, Station, Pass]:
    """Doors A, B and C, enrolled and in sync, holding a pass B made."""
    a, b, c = (make_station(name, hub.join_url) for name in ("Door A", "Door B", "Door C"))
    wait_for(lambda: all(enrolled(d) for d in (a, b, c)), what="three doors to enrol")
    made = b.core.passes.create(PassService.validate("Ada", "multi"))
    wait_for(converged(a, b, c), what="the enrolled doors in sync")
    return a, b, c, made


@pytest.mark.allow_log("station.services.event_trust", "refused")
def test_an_enrolled_station_cannot_publish_events_in_another_stations_name(
        running_hub: RunningHub, make_station: StationFactory,
        caplog: pytest.LogCaptureFixture) -> None:
    a, b, c, _ = _three_enrolled(running_hub, make_station)
    b_id = b.core.ctx.station_id
    # One key per station: the one its events are signed with is the one certified for it.
    for door in (a, b, c):
        own = door.core.ctx.keys.private.public_key()
        certificate = KeyTrust(door.core.ctx).certificate()
        assert certificate is not None and certificate["key"] == trust.key_b64(own)
        assert EventTrustService(door.core.ctx).trusted_key_for(door.core.ctx.station_id) == (own,)
    assert [trust.key_b64(k) for k in EventTrustService(a.core.ctx).trusted_key_for(b_id)] == \
        [KeyTrust(a.core.ctx).certified_keys()[b_id]]

    # C mints a pass in B's name, signed with C's own certified key, on C's own subject.
    forged = _created(_template(b), b_id, 10_000, 1)
    forged = dataclasses.replace(forged, sig=sign_event(c.core.ctx.keys.private, forged))
    _publish_as(c, running_hub.port, [forged])
    marker = c.core.passes.create(PassService.validate("Bo", "multi"))  # after it, same subject
    wait_for(lambda: a.core.store.pass_by_id(marker.id) is not None, what="C's next pass at A")
    assert not _has_event(a, forged.id) and a.core.store.pass_by_id("pas_forged1") is None
    said = _refusals(caplog)
    assert any(f"claiming to come from station {b_id}: {BAD_SIGNATURE}" in s for s in said), said
    wait_for(converged(a, b, c), what="convergence after the refusal")


@pytest.mark.allow_log("station.services.event_trust", "refused")
@pytest.mark.allow_log("station.services.key_trust", "was removed from the organisation")
@pytest.mark.allow_log("station.net.sync.client", "refused")
def test_a_removed_stations_events_republished_by_another_are_refused(
        running_hub: RunningHub, make_station: StationFactory,
        caplog: pytest.LogCaptureFixture) -> None:
    a, b, c, before = _three_enrolled(running_hub, make_station)
    b_id = b.core.ctx.station_id
    assert "removed Door B" in running_hub.admin("remove", "Door B").stdout
    wait_for(lambda: any(r.station_id == b_id for r in KeyTrust(a.core.ctx).removed()),
             what="A to learn the removal")
    assert EventTrustService(a.core.ctx).trusted_key_for(b_id) == ()

    # B, removed, records a pass; its event, signed by B's key, reaches C, which publishes it.
    late = b.core.passes.create(PassService.validate("Mallory", "multi"))
    event = next(e for _, e in SyncLedger(b.core.store).unsent([b_id], 0)
                 if e.pass_id == late.id and e.type == "pass.created")
    signed = EventTrustService(b.core.ctx).sign([event])[0]
    _publish_as(c, running_hub.port, [signed])
    marker = c.core.passes.create(PassService.validate("Bo", "multi"))
    wait_for(lambda: a.core.store.pass_by_id(marker.id) is not None, what="C's next pass at A")
    assert not _has_event(a, signed.id) and a.core.store.pass_by_id(late.id) is None
    said = _refusals(caplog)
    assert any(f"claiming to come from station {b_id}: {REMOVED_ORIGIN}" in s
               for s in said), said

    # A door that enrols after the removal downloads what B published itself before it (on
    # B's own subject, where nobody can publish since), and not what C re-published.
    d = make_station("Door D", running_hub.join_url)
    wait_for(lambda: enrolled(d) and d.core.store.pass_by_id(marker.id) is not None,
             what="D to enrol and download the history")
    assert d.core.store.pass_by_id(before.id) is not None
    assert not _has_event(d, signed.id) and d.core.store.pass_by_id(late.id) is None
