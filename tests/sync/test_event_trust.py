"""Events carry their origin station's signature (issue 15, part 5), against a real nats-server.

Someone with access to the hub (here: the hub's password, as any station has today) publishes
straight into the organisation's stream; the stations refuse what is not signed by the station
it names, and keep syncing everything else."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from station.app import Core, Station
from station.domain import tokens
from station.domain import trust as trust_domain
from station.domain.event_signature import (
    BAD_SIGNATURE,
    UNCOVERED,
    UNKNOWN_ORIGIN,
    UNSIGNED,
    sign_event,
)
from station.domain.events import Event, new_event_id
from station.net.sync import jetstream, membership, wire
from station.net.sync.hub import HubServer
from station.net.sync.hub_tls import connect_hub
from station.services.event_trust import EventTrustService
from station.services.key_trust import CERTIFIED_SETTING, REMOVED_SETTING, TRUST_SETTING
from station.services.passes import PassService
from station.store.sync import SyncLedger
from tests.sync.conftest import StationFactory, converged, in_sync, wait_for


def _publish(hub: HubServer, org: str | None, subject_of: str, events: list[Event]) -> str:
    """Straight into the hub's stream under `subject_of`'s subject, as anyone with the hub's
    password can; `org` None: the organisation of an empty hub is made here (an older
    deployment's history). Returns the organisation."""
    async def main() -> str:
        nc = await connect_hub(hub.target)
        try:
            js = nc.jetstream()
            joined = await jetstream.join_org(js, org or "org_before")
            space = (await jetstream.open_space(js, joined)).space
            for event in events:
                await js.publish(space.events_of(subject_of), wire.encode(event),
                                 headers={"Nats-Msg-Id": event.id})
            return joined
        finally:
            await nc.close()
    return asyncio.run(main())


def _created(template: Event, origin: str, seq: int, n: int) -> Event:
    """Another pass.created event in `origin`'s name, made from a real one."""
    pass_id, code = f"pas_forged{n}", f"FORGED{n:06d}"
    return dataclasses.replace(
        template, id=new_event_id(), origin=origin, origin_seq=seq, pass_id=pass_id, sig=None,
        data={**template.data, "id": pass_id, "code": code, "name": f"Forged {n}"})


def _template(station: Station) -> Event:
    own = SyncLedger(station.core.store).unsent([station.core.ctx.station_id], 0)
    return next(e for _, e in own if e.type == "pass.created")


def _refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING
            and r.name == "station.services.event_trust"]


def _has_event(station: Station, event_id: str) -> bool:
    return station.core.store.db().execute(
        "SELECT 1 FROM events WHERE id = ?", [event_id]).fetchone() is not None


def test_forged_tampered_and_late_unsigned_events_are_refused_and_sync_goes_on(
        hub: HubServer, make_station: StationFactory, caplog: pytest.LogCaptureFixture) -> None:
    url = hub.target.full_url()
    a, x, c = (make_station(n, url) for n in ("Door A", "Door X", "Door C"))
    wait_for(in_sync(a, x, c), what="three stations in sync")
    org = a.sync.status().organisation  # type: ignore[union-attr]
    a.core.passes.create(PassService.validate("Ada", "single"))
    wait_for(converged(a, x, c), what="convergence")
    template, a_id = _template(a), a.core.ctx.station_id

    # X, a station of the organisation, mints a pass in A's name with its own key, on its own
    # subject; a pass in the name of a station nobody knows; an event of A's, signed by A,
    # altered on the way; an unsigned one, as stations did before signing.
    x_key = x.core.ctx.keys.private
    forged = _created(template, a_id, 1000, 1)
    forged = dataclasses.replace(forged, sig=sign_event(x_key, forged))
    stranger = _created(template, "sta_nobody", 1, 2)
    stranger = dataclasses.replace(stranger, sig=sign_event(x_key, stranger))
    genuine = _created(template, a_id, 1001, 3)
    tampered = dataclasses.replace(genuine, sig=sign_event(a.core.ctx.keys.private, genuine),
                                   data={**genuine.data, "type": "multi"})
    unsigned = _created(template, a_id, 1002, 4)
    _publish(hub, org, x.core.ctx.station_id, [forged, stranger])
    _publish(hub, org, a_id, [tampered, unsigned])
    # What A publishes itself afterwards still arrives, everywhere.
    marker = a.core.passes.create(PassService.validate("Bo", "single"))
    wait_for(lambda: c.core.store.pass_by_id(marker.id) is not None and
             x.core.store.pass_by_id(marker.id) is not None, what="A's next pass at C and X")
    for station in (c, x, a):
        for event in (forged, stranger, tampered, unsigned):
            assert not _has_event(station, event.id)
        assert station.core.store.pass_by_id("pas_forged1") is None
    wait_for(converged(a, x, c), what="convergence after the refusals")
    # Logged per batch, naming the origin claimed, why, and how many.
    said = _refusals(caplog)
    for origin, why in ((a_id, BAD_SIGNATURE), ("sta_nobody", UNKNOWN_ORIGIN), (a_id, UNSIGNED)):
        assert any(f"claiming to come from station {origin}: {why}" in s for s in said), said
    bad = [s for s in said if f"station {a_id}: {BAD_SIGNATURE}" in s]
    # The forgery at A and C, the altered event at X and C (a station skips its own subject).
    assert sum(int(s.split()[1]) for s in bad) == 4


def test_unsigned_history_from_before_signing_is_kept(
        hub: HubServer, make_station: StationFactory, caplog: pytest.LogCaptureFixture) -> None:
    # An organisation's history from stations before this change: unsigned, on the hub already.
    source = make_station("Template", None)
    source.core.passes.create(PassService.validate("Ada", "single"))
    template = _template(source)
    before = [_created(template, "sta_old", i, i) for i in range(1, 4)]
    org = _publish(hub, None, "sta_old", before)
    a, b = make_station("Door A", hub.target.full_url()), make_station("Door B", hub.target.full_url())
    wait_for(in_sync(a, b), what="two stations in sync")
    for station in (a, b):
        assert station.sync is not None and station.sync.status().organisation == org
        assert all(_has_event(station, e.id) for e in before)
        assert station.core.store.pass_by_id("pas_forged3") is not None
    # Signed events from then on: a late unsigned one is refused, signed ones flow.
    late = _created(template, "sta_old", 4, 4)
    _publish(hub, org, "sta_old", [late])
    marker = a.core.passes.create(PassService.validate("Bo", "single"))
    wait_for(lambda: b.core.store.pass_by_id(marker.id) is not None, what="A's pass at B")
    assert not _has_event(a, late.id) and not _has_event(b, late.id)
    assert any(f"station sta_old: {UNSIGNED}" in s for s in _refusals(caplog))
    wait_for(converged(a, b), what="convergence")


def test_a_key_announced_later_for_a_known_station_is_not_taken(
        hub: HubServer, make_station: StationFactory, caplog: pytest.LogCaptureFixture) -> None:
    url = hub.target.full_url()
    a, c = make_station("Door A", url), make_station("Door C", url)
    wait_for(in_sync(a, c), what="two stations in sync")
    a_id, at_c = a.core.ctx.station_id, EventTrustService(c.core.ctx)
    own_key = a.core.ctx.keys.private.public_key().public_bytes_raw()
    # In sync says both are up to date with the hub, not that C's announcer has read A's entry
    # yet (it reads the stations bucket once a round): wait for that.
    wait_for(lambda: [k.public_bytes_raw() for k in at_c.trusted_key_for(a_id)] == [own_key],
             what="C to learn A's event key")
    # Someone overwrites A's entry on the hub with another key: C keeps A's.
    other = Ed25519PrivateKey.generate().public_key()
    c.core.ctx.keys.trust(base64.b64encode(tokens.public_key_bytes(other)).decode())
    at_c.learn_keys_of_stations({a_id: [tokens.key_id(other)]})
    assert [k.public_bytes_raw() for k in at_c.trusted_key_for(a_id)] == [own_key]
    assert any("names another event key" in r.getMessage() for r in caplog.records)


def test_where_signing_started_is_kept_per_stream(core: Core,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    trust = EventTrustService(core.ctx)
    trust.learn_unsigned_until("|org_a|2026-01-01", 5)
    trust.learn_unsigned_until("|org_a|2026-01-01", 10**9)  # the hub's entry overwritten later
    assert trust.snapshot("|org_a|2026-01-01").unsigned_until == 5
    assert any("keeping 5" in r.getMessage() for r in caplog.records)
    # A hub wiped and started again: a new stream, which switched when it was made.
    assert trust.snapshot("|org_a|2026-06-01").unsigned_until is None
    trust.learn_unsigned_until("|org_a|2026-06-01", 0)
    assert trust.snapshot("|org_a|2026-06-01").unsigned_until == 0
    assert trust.snapshot().unsigned_until is None  # no stream named: nothing unsigned


def test_what_a_station_published_unsigned_after_the_switch_goes_again_signed_once_upgraded(
        hub: HubServer, make_station: StationFactory, caplog: pytest.LogCaptureFixture) -> None:
    url = hub.target.full_url()
    b = make_station("Door B", url)  # the first station with signed events: the switch
    wait_for(in_sync(b), what="B in sync")
    org = b.sync.status().organisation  # type: ignore[union-attr]
    # Door A, still on the version before, recorded two passes and published them (unsigned)
    # after the switch, and noted them as published; B refuses them.
    a = make_station("Door A", None)
    a_id = a.core.ctx.station_id
    created = [a.core.passes.create(PassService.validate(n, "single")) for n in ("Ada", "Bo")]
    ledger = SyncLedger(a.core.store)
    published = ledger.unsent([a_id], 0)
    _publish(hub, org, a_id, [e for _, e in published])
    wait_for(lambda: sum(f"station {a_id}: {UNSIGNED}" in s for s in _refusals(caplog)) >= 1,
             what="B to refuse A's unsigned events")
    ledger.mark_published(_hub_key(hub, org), published[-1][0], "2026-06-01T18:00:00.000Z")
    a.stop()
    # Upgraded, A publishes them again, signed, once; B takes them then.
    again = make_station("Door A", url)
    wait_for(lambda: all(b.core.store.pass_by_id(p.id) is not None for p in created),
             what="A's passes at B")
    wait_for(converged(again, b), what="convergence")
    assert EventTrustService(again.core.ctx).resigned(membership.same_stream(
        org, _stream_created(hub, org)))


def _stream_created(hub: HubServer, org: str) -> str:
    async def main() -> str:
        nc = await connect_hub(hub.target)
        try:
            handles = await jetstream.open_space(nc.jetstream(), org)
            return handles.stream_created
        finally:
            await nc.close()
    return asyncio.run(main())


def _hub_key(hub: HubServer, org: str) -> str:
    return membership.hub_key(hub.target.hub, org, _stream_created(hub, org))


@pytest.mark.allow_log("station.services.event_trust", UNCOVERED)
def test_a_history_of_two_stations_downloads_whole_but_for_an_event_altered_mid_round(
        hub: HubServer, make_station: StationFactory, caplog: pytest.LogCaptureFixture) -> None:
    # Each station's events are hash-chained (form v2) and published in rounds whose last event
    # alone is signed: a download verifies one signature per round. Door X's history reaches
    # the hub with one event in the middle of a round altered; a door downloading the whole
    # history takes everything else, from both doors, but for the events of that round below
    # the altered one back to the last signed one (nothing vouches for them any more).
    url = hub.target.full_url()
    a = make_station("Door A", url)
    wait_for(in_sync(a), what="A in sync")
    org = a.sync.status().organisation  # type: ignore[union-attr]
    from_a = a.core.passes.create_many(
        [PassService.validate(f"A{i}", "single") for i in range(1200)])
    x = make_station("Door X", None)
    x_id = x.core.ctx.station_id
    from_x = x.core.passes.create_many(
        [PassService.validate(f"X{i}", "single") for i in range(1200)])
    ledger = SyncLedger(x.core.store)
    log_x = ledger.unsent([x_id], 0, 10_000)
    trust_x, rounds = EventTrustService(x.core.ctx), range(0, len(log_x), 500)
    signed = [e for r in rounds for e in trust_x.sign([e for _, e in log_x[r:r + 500]])]
    middle = next(i for i, e in enumerate(signed) if e.pass_id == from_x[600].id)
    assert signed[middle].sig and signed[middle].sig.startswith(".")  # inside its round
    top_below = max(i for i in range(middle) if not str(signed[i].sig).startswith("."))
    lost = {e.pass_id for e in signed[top_below + 1:middle + 1]}
    altered = dataclasses.replace(signed[middle], data={**signed[middle].data, "name": "Mallory"})
    _publish(hub, org, x_id, [*signed[:middle], altered, *signed[middle + 1:]])
    ledger.mark_published(_hub_key(hub, org), log_x[-1][0], "2026-06-01T18:00:00.000Z")
    x.stop()
    x = make_station("Door X", url)  # on the hub now: its key with it, nothing left to publish
    wait_for(in_sync(a, x), what="A and X in sync")

    c = make_station("Door C", url)
    assert c.sync is not None and c.sync.wait_in_sync(120)
    wait_for(lambda: c.core.store.pass_by_id(from_a[-1].id) is not None
             and c.core.store.pass_by_id(from_x[-1].id) is not None, what="the history at C")
    assert c.sync.worker_batches >= 1  # checked in the worker process, as a download is
    held = [p.id for p in (*from_a, *from_x) if c.core.store.pass_by_id(p.id) is not None]
    assert held == [p.id for p in (*from_a, *from_x) if p.id not in lost]
    assert from_x[600].id in lost and 1 < len(lost) < 500
    assert not _has_event(c, altered.id)
    said = [s for s in _refusals(caplog) if f"station {x_id}: {UNCOVERED}" in s]
    assert said and all(s.split()[1] == str(len(lost)) for s in said)


def test_a_snapshot_reads_its_settings_in_one_statement_and_sees_a_removal_at_once(
        core: Core) -> None:
    """A live follower takes a snapshot for every batch (every event another door records):
    its settings are read in one statement (they were five, each giving up the GIL a door then
    waits for), afresh each time, so a removal counts from the next batch on."""
    org_key = Ed25519PrivateKey.generate().public_key()
    door_key = Ed25519PrivateKey.generate().public_key()
    store = core.store
    store.set_setting(TRUST_SETTING, {"org": "org_a", "orgKey": trust_domain.key_b64(org_key)})
    store.set_setting(CERTIFIED_SETTING, {"sta_door": trust_domain.key_b64(door_key)})
    service = EventTrustService(core.ctx)
    statements: list[str] = []
    store._reader().set_trace_callback(statements.append)  # this thread's reader connection
    try:
        held = service.snapshot("|org_a|2026-01-01")
    finally:
        store._reader().set_trace_callback(None)
    assert held.keys["sta_door"] == (door_key.public_bytes_raw(),)
    assert len([s for s in statements if "settings" in s]) == 1, statements

    store.set_setting(REMOVED_SETTING, [{"stationId": "sta_door", "name": "Door", "removedAt":
                                         "2026-01-01T00:00:00Z",
                                         "key": trust_domain.key_b64(door_key)}])
    after = service.snapshot("|org_a|2026-01-01")
    assert after.keys.get("sta_door", ()) == ()
    assert after.removed["sta_door"] == (door_key.public_bytes_raw(),)
