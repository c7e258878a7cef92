"""The hub announces itself over mDNS (`_station-sync._tcp`); stations find it. Loopback only,
in a network namespace of each test's own (tests/netns.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from station.net.sync.hub import HubServer
from station.net.sync.mdns import HubAnnouncer, discover
from station.net.sync.url import SyncTarget
from tests.conftest import StationCLI
from tests.sync.conftest import StationFactory, in_sync, wait_for

pytestmark = pytest.mark.multicast


@pytest.fixture
def announced(hub: HubServer) -> Iterator[HubAnnouncer]:
    announcer = HubAnnouncer("127.0.0.1", hub.port, "org_venue")
    announcer.start()
    yield announcer
    announcer.stop()


@pytest.mark.allow_log("station.net.sync.client", "is not trusted")
def test_a_hub_announced_on_the_lan_is_found_and_joined(
        hub: HubServer, announced: HubAnnouncer, make_station: StationFactory) -> None:
    found = [h for h in discover(3.0, "127.0.0.1") if h.port == hub.port]
    assert len(found) == 1
    assert (found[0].host, found[0].org) == ("127.0.0.1", "org_venue")
    # The announcement names where and which organisation, never the password.
    assert hub.target.password
    assert all(hub.target.password.encode() not in v
               for v in announced.info.properties.values() if v)
    # Where it is and the password are not enough: without the join URL's fingerprint the
    # hub's own certificate is trusted by nobody (issue 15).
    where = SyncTarget.parse(found[0].url()).with_password(hub.target.password)
    stranger = make_station("Door X", where.full_url())
    wait_for(lambda: "is not trusted" in str(stranger.sync.status().error),  # type: ignore[union-attr]
             what="the unpinned hub's certificate to be refused")
    assert not stranger.sync.status().connected  # type: ignore[union-attr]
    pinned = where.at(found[0].host, found[0].port)
    door = make_station("Door A", SyncTarget.parse(pinned.full_url() + "#sha256="
                                                   + str(hub.target.fingerprint)).full_url())
    wait_for(in_sync(door), what="the station to join the hub it found, with the pin")


def test_station_hub_discover_lists_the_announced_hub(
        hub: HubServer, announced: HubAnnouncer, cli: StationCLI) -> None:
    result = cli("hub", "discover", "--interface", "127.0.0.1", "--timeout", "3")
    assert f"tls://station@127.0.0.1:{hub.port}" in result.stdout
    assert "organisation org_venue" in result.stdout
    assert hub.target.password not in result.stdout  # type: ignore[operator]


def test_station_hub_discover_says_so_when_nobody_announces(cli: StationCLI) -> None:
    result = cli("hub", "discover", "--interface", "127.0.0.1", "--timeout", "1", check=False)
    assert result.returncode == 1 and "No hub announced itself" in result.stderr


def test_station_hub_discover_without_an_interface_listens_on_all(
        hub: HubServer, announced: HubAnnouncer, cli: StationCLI) -> None:
    # No --interface (and a station's finder with none set) means every interface; zeroconf
    # refuses None for that, so it must be asked for all by name.
    result = cli("hub", "discover", "--timeout", "3", check=False)
    assert f"tls://station@127.0.0.1:{hub.port}" in result.stdout, result.stderr
