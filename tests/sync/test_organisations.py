"""A station belongs to the organisation it first synced in: a hub of another one is refused
before anything is exchanged. Two real hubs on 127.0.0.1 are two venues (two organisations)."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from station.net.sync.hub_tls import connect_hub
from station.app import Station
from station.domain import tokens
from station.domain.models import Reason
from station.net.sync import jetstream
from station.net.sync.hub import HubServer
from station.net.sync.membership import JOINED_ORG
from station.services.passes import PassService
from station.store.db import Store
from tests.sync.conftest import StationFactory, converged, in_sync, wait_for
from tests.sync.test_sync_status_api import status_of


@dataclass(frozen=True)
class HubContents:
    subjects: set[str]  # subjects holding messages in the organisation's stream
    key_ids: set[str]  # public keys handed out by the hub
    stations: set[str]  # stations that announced themselves


def hub_contents(hub: HubServer, org: str) -> HubContents:
    """What a hub holds for an organisation, read straight from NATS."""
    async def read() -> HubContents:
        t = hub.target
        nc = await connect_hub(t)
        try:
            js = nc.jetstream()
            space = jetstream.OrgSpace(org)
            info = await js.stream_info(space.stream, subjects_filter=">")
            keys = await jetstream.read_bucket(js, space.bucket("keys"))
            stations = await jetstream.read_bucket(js, space.bucket("stations"))
            return HubContents(set(info.state.subjects or {}), set(keys), set(stations))
        finally:
            await nc.close()
    return asyncio.run(read())


def key_ids(station: Station) -> set[str]:
    return {tokens.key_id(k) for k in station.core.ctx.keys.trusted}


def events_from(station: Station, origin: str) -> int:
    rows = station.core.store.db().query(
        "SELECT count(*) AS n FROM events WHERE origin = ?", [origin])
    return int(next(iter(rows))["n"])


@pytest.mark.allow_log("station.net.sync.client", "Refused to sync")
def test_a_station_of_another_organisation_is_refused_and_nothing_is_exchanged(
        hub: HubServer, other_hub: HubServer, make_station: StationFactory) -> None:
    y = make_station("Door Y", hub.target.full_url())
    z = make_station("Door Z", other_hub.target.full_url())
    wait_for(in_sync(y, z), what="each door in sync with its own hub")
    y_org = y.sync.status().organisation  # type: ignore[union-attr]
    z_org = z.sync.status().organisation  # type: ignore[union-attr]
    assert y_org != z_org and y.core.store.setting(JOINED_ORG) == y_org
    p_y = y.core.passes.create(PassService.validate("Yvonne", "single"))
    p_z = z.core.passes.create(PassService.validate("Zach", "single"))
    y.core.scans.submit(p_y.public_url)
    wait_for(lambda: y.sync.pending() == 0 and z.sync.pending() == 0,  # type: ignore[union-attr]
             what="both logs published")
    y_id, z_id = y.core.ctx.station_id, z.core.ctx.station_id
    y_keys, z_keys = key_ids(y), key_ids(z)
    y_events = y.core.store.count_events()
    z_before = hub_contents(other_hub, z_org)
    assert z_before.stations == {z_id} and z_before.subjects == {f"station.{z_org}.events.{z_id}"}
    y.stop()

    # `--sync off` stops syncing; the data stays, and stays in its organisation.
    off = make_station("Door Y", "off")
    assert off.sync is None and off.core.store.setting(JOINED_ORG) == y_org
    off.stop()

    moved = make_station("Door Y", other_hub.target.full_url(), api=True)
    assert moved.core.ctx.station_id == y_id
    assert moved.sync is not None
    wait_for(lambda: moved.sync.status().refused, what="the refusal")  # type: ignore[union-attr]
    assert not moved.sync.wait_in_sync(5)  # refused: it says so at once, no waiting it out
    status = status_of(moved)
    assert status["refused"] is True and status["connected"] is False
    assert status["inSync"] is False
    error = status["error"]
    assert error.startswith("Refused to sync: the hub at ")
    assert z_org in error and y_org in error and "nothing was exchanged" in error
    assert "new --data-dir" in error
    assert other_hub.target.password not in str(status)

    # Nothing went either way: the other hub holds no event, key or name of this station…
    after = hub_contents(other_hub, z_org)
    assert after == z_before
    assert not y_keys & after.key_ids
    # …the other venue's door knows nothing of it, and it learnt nothing of the other venue.
    assert events_from(z, y_id) == 0 and key_ids(z) == z_keys
    assert y_id not in {p.station_id for p in z.sync._ledger.peers()}  # type: ignore[union-attr]  # noqa: SLF001
    assert moved.core.store.count_events() == y_events and events_from(moved, z_id) == 0
    assert key_ids(moved) == y_keys and moved.core.store.pass_by_id(p_z.id) is None
    assert moved.core.store.setting(JOINED_ORG) == y_org

    # A pass signed by the other organisation's key is refused at either door (no signature
    # of theirs is trusted here); the door keeps working for its own passes, offline.
    assert moved.core.scans.submit(p_z.public_url).reason == Reason.BAD_SIGNATURE
    assert z.core.scans.submit(p_y.public_url).reason == Reason.BAD_SIGNATURE
    assert z.core.store.pass_by_id(p_y.id) is None
    own = moved.core.passes.create(PassService.validate("Yann", "single"))
    assert moved.core.scans.submit(own.public_url).accepted
    assert hub_contents(other_hub, z_org) == z_before


def test_a_fresh_station_adopts_the_hub_organisation_and_seeds_a_wiped_hub_with_it(
        hub: HubServer, make_station: StationFactory) -> None:
    url = hub.target.full_url()
    first = make_station("Door A", url)
    wait_for(in_sync(first), what="A in sync")
    org = first.sync.status().organisation  # type: ignore[union-attr]
    joiner = make_station("Door B", url)
    wait_for(in_sync(joiner), what="B in sync")
    # B was created with an organisation of its own, never synced: it adopts the hub's.
    assert joiner.core.store.setting("org_id") != org
    assert joiner.core.store.setting(JOINED_ORG) == org
    assert joiner.sync.status().organisation == org  # type: ignore[union-attr]
    p = first.core.passes.create(PassService.validate("Ida"))
    wait_for(converged(first, joiner), what="convergence")
    first.stop()
    joiner.stop()

    # The hub loses everything; B, which joined A's organisation, reaches it first: the empty
    # hub takes B's organisation as joined (not the one B was created with), and A is welcome.
    hub.stop()
    shutil.rmtree(hub.dir / "jetstream")
    hub.start()
    b_again = make_station("Door B", None)
    wait_for(in_sync(b_again), what="B in sync with the wiped hub")
    assert b_again.sync.status().organisation == org  # type: ignore[union-attr]
    a_again = make_station("Door A", None)
    wait_for(converged(a_again, b_again), what="convergence through the re-seeded hub")
    assert not a_again.sync.status().refused  # type: ignore[union-attr]
    assert b_again.core.store.pass_by_id(p.id) is not None


@pytest.mark.allow_log("station.net.sync.client", "Refused to sync")
def test_a_station_that_synced_before_membership_was_remembered_is_refused_too(
        hub: HubServer, other_hub: HubServer, make_station: StationFactory,
        tmp_path: Path) -> None:
    y = make_station("Door Y", hub.target.full_url())
    z = make_station("Door Z", other_hub.target.full_url())
    wait_for(in_sync(y, z), what="each door in sync with its own hub")
    y_org = y.sync.status().organisation  # type: ignore[union-attr]
    y.core.passes.create(PassService.validate("Yves"))
    wait_for(lambda: y.sync.pending() == 0, what="Y's log published")  # type: ignore[union-attr]
    z_before = hub_contents(other_hub, z.sync.status().organisation)  # type: ignore[union-attr]
    y.stop()
    # As a data directory written before the setting existed: only its sync progress says.
    store = Store(tmp_path / "Door Y")
    store.set_setting(JOINED_ORG, None)
    store.close()

    moved = make_station("Door Y", other_hub.target.full_url())
    wait_for(lambda: moved.sync.status().refused, what="the refusal")  # type: ignore[union-attr]
    assert y_org in moved.sync.status().error  # type: ignore[union-attr]
    assert hub_contents(other_hub, z.sync.status().organisation) == z_before  # type: ignore[union-attr]
