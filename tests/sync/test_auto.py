"""`--sync auto`: a station joins the hub of its organisation found on the LAN (mDNS on loopback,
in a network namespace of the test's own as in test_mdns.py), and follows it when it moves; it
never sends its password elsewhere."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from station.app import Station
from station.domain.sync_status import SyncStatus
from station.domain.models import Verdict
from station.net.sync.auto import FinderSettings, HubFinder, choose_hub
from station.net.sync.hub import HubServer, new_password
from station.net.sync.membership import JOINED_ORG
from station.net.sync.mdns import FoundHub, HubAnnouncer
from station.net.sync.setup import SYNC_URL_SETTING, serving_org
from station.services.passes import PassService
from station.store.db import Store
from tests.conftest import REPO, StationCLI
from tests.sync.conftest import StationFactory, converged, free_port, in_sync, wait_for
from tests.sync.impostor import RecordingTlsServer
from tests.waiting import PATIENCE_S

# Loopback only, and short pauses between looks, so that a test takes seconds. A look listens as
# long as a door's does (3 s): a responder repeats an answer at most once a second (RFC 6762 §6),
# so a second look within a second hears it only after about a second; a 1 s look misses it.
LOOPBACK = FinderSettings(browse_s=3.0, retry_s=0.5, retry_max_s=2.0, lost_after_s=1.0,
                          interface="127.0.0.1")


class Announcements:
    """HubAnnouncers on 127.0.0.1, all stopped at the end of the test."""

    def __init__(self) -> None:
        self.running: list[HubAnnouncer] = []

    def add(self, port: int, org: str) -> HubAnnouncer:
        announcer = HubAnnouncer("127.0.0.1", port, org)
        announcer.start()
        self.running.append(announcer)
        return announcer

    def remove(self, announcer: HubAnnouncer) -> None:
        announcer.stop()
        self.running.remove(announcer)


@pytest.fixture
def announce() -> Iterator[Announcements]:
    announcements = Announcements()
    yield announcements
    for announcer in announcements.running:
        announcer.stop()


def _status(station: Station) -> SyncStatus:
    assert station.sync is not None
    return station.sync.status()


# --- which hub -------------------------------------------------------------------------------------
def _found(port: int, org: str) -> FoundHub:
    return FoundHub(f"hub {port}", "10.0.0.2", port, org)


def test_the_hub_of_this_stations_organisation_is_chosen_among_several() -> None:
    hubs = [_found(4222, "org_other"), _found(4223, "org_ours"), _found(4224, "org_third")]
    assert choose_hub(hubs, {"org_ours"}, True).hub == hubs[1]
    # Two of ours (the same hub seen twice, say): the one joined before wins.
    twice = [*hubs, _found(4225, "org_ours")]
    assert choose_hub(twice, {"org_ours"}, True, prefer="10.0.0.2:4225").hub == twice[3]
    assert choose_hub([], {"org_ours"}, True).hub is None


def test_several_hubs_none_of_ours_is_an_error_naming_them() -> None:
    pick = choose_hub([_found(4222, "org_a"), _found(4223, "org_b")], {"org_ours"}, True)
    assert pick.hub is None and pick.error is not None
    assert "Several hubs found" in pick.error and "10.0.0.2:4223 (organisation org_b)" in pick.error
    assert "Pass the join URL of the one to join to --sync" in pick.error


def test_the_only_hub_found_is_not_sent_a_password_it_is_not_known_for() -> None:
    only = [_found(4222, "org_venue")]
    no_password = choose_hub(only, {"org_mine"}, False)
    assert no_password.hub is None
    assert no_password.error is not None and "no password" in no_password.error
    assert "--sync tls://station:PASSWORD@10.0.0.2:4222#sha256=…" in no_password.error
    # This station's password belongs to another organisation's hub: it is never sent here.
    elsewhere = choose_hub(only, {"org_mine"}, True)
    assert elsewhere.hub is None
    assert elsewhere.error is not None and "another organisation" in elsewhere.error
    # Ours, but no password kept: the same request to pass the URL once.
    assert "no password" in str(choose_hub(only, {"org_venue"}, False).error)


# --- with a real hub and real mDNS on loopback ---------------------------------------------------
@pytest.mark.multicast
def test_a_door_that_joined_once_finds_the_hub_with_sync_auto_and_follows_it_when_it_moves(
        tmp_path: Path, make_station: StationFactory, announce: Announcements) -> None:
    password = new_password()
    hub = HubServer(tmp_path / "venue-hub", password, port=free_port())
    hub.start()
    try:
        # As `station hub --lan` does: the hub claims its organisation, and announces it.
        org = serving_org(hub, "org_venue")
        first = announce.add(hub.port, org)
        door_a = make_station("Door A", hub.target.full_url())
        wait_for(in_sync(door_a), what="A to join the hub")

        # Door B joins once with the full URL (that is where its password comes from)…
        once = make_station("Door B", hub.target.full_url())
        wait_for(in_sync(once), what="B to join with the full URL")
        assert once.core.store.setting(JOINED_ORG) == "org_venue"
        assert once.core.store.setting("org_id") != "org_venue"
        once.stop()
        # …and from then on starts with --sync auto: no address typed.
        door_b = make_station("Door B", "auto", hub_finder=LOOPBACK)
        assert door_b.sync is not None
        wait_for(in_sync(door_b), what="B to find and join the hub on the LAN")
        assert door_b.sync.target is not None and door_b.sync.target.port == hub.port
        p = door_a.core.passes.create(PassService.validate("Ada", "single"))
        assert door_a.core.scans.submit(p.public_url).verdict is Verdict.ACCEPTED
        wait_for(converged(door_a, door_b), what="the admission at A to reach B")
        assert door_b.core.scans.submit(p.public_url).verdict is Verdict.REJECTED
        wait_for(lambda: door_b.core.store.setting(SYNC_URL_SETTING)
                 == hub.target.public_url(), what="B to remember the hub it joined")

        # The hub moves (a new port here, a new DHCP address at a venue): B finds it again.
        announce.remove(first)
        hub.stop()
        hub = HubServer(tmp_path / "venue-hub", password, port=free_port())
        hub.start()
        announce.add(hub.port, serving_org(hub, "org_elsewhere"))  # the store's org stays
        moved = hub.port
        wait_for(lambda: door_b.sync is not None and door_b.sync.target is not None
                 and door_b.sync.target.port == moved and door_b.sync.in_sync(),
                 what="B to follow the hub to its new address")
        q = door_b.core.passes.create(PassService.validate("Grace", "multi"))
        door_b.core.scans.submit(q.public_url)
        wait_for(lambda: door_b.sync is not None and door_b.sync.in_sync(),
                 what="B's new events acknowledged by the moved hub")
        wait_for(lambda: door_b.core.store.setting(SYNC_URL_SETTING)
                 == hub.target.public_url(), what="B to remember the new address")
        assert "password" not in str(door_b.core.store.setting(SYNC_URL_SETTING))
    finally:
        hub.stop()


def test_the_hub_serves_the_organisation_it_claimed_first(
        hub: HubServer, make_station: StationFactory) -> None:
    door = make_station("Door A", hub.target.full_url(), start=False)
    assert serving_org(hub, "org_venue") == "org_venue"
    door.start()  # a door with an organisation of its own joins the hub's
    wait_for(in_sync(door), what="the door to join")
    assert _status(door).organisation == "org_venue"
    assert serving_org(hub, "org_other") == "org_venue"  # first claim wins, for good


@pytest.mark.multicast
def test_without_a_saved_password_sync_auto_asks_for_the_url_once_and_scans_offline(
        make_station: StationFactory, announce: Announcements) -> None:
    door = make_station("New door", "auto", hub_finder=LOOPBACK)
    # A hub announcing this station's own organisation: one it would join, given the password.
    port = free_port()
    announce.add(port, str(door.core.store.setting("org_id")))
    assert _status(door).hub is None  # still looking: nothing chosen before the LAN answers
    wait_for(lambda: "no password" in str(_status(door).error), what="the no-password error")
    state = _status(door)
    assert f"--sync tls://station:PASSWORD@127.0.0.1:{port}#sha256=…" in str(state.error)
    assert state.hub is None and state.connected is False
    assert door.sync is not None and door.sync.target is None
    assert door.core.store.setting(SYNC_URL_SETTING) is None
    # The door works offline meanwhile.
    p = door.core.passes.create(PassService.validate("Walk-in", "single"))
    assert door.core.scans.submit(p.public_url).verdict is Verdict.ACCEPTED


def test_sync_auto_is_remembered_until_a_url_or_off_is_given(
        make_station: StationFactory, hub: HubServer) -> None:
    def looks_on_the_lan(station: Station) -> bool:
        return any(isinstance(part, HubFinder) for part in station.parts)

    door = make_station("Door C", "auto", hub_finder=LOOPBACK)
    assert looks_on_the_lan(door)
    door.stop()
    again = make_station("Door C", None, hub_finder=LOOPBACK)  # no --sync: still auto
    assert looks_on_the_lan(again) and again.sync is not None
    again.stop()
    url = make_station("Door C", hub.target.full_url(), hub_finder=LOOPBACK)  # a URL replaces it
    assert not looks_on_the_lan(url) and url.sync is not None and url.sync.target is not None
    url.stop()
    assert not looks_on_the_lan(make_station("Door C", None, hub_finder=LOOPBACK))


@pytest.mark.multicast
def test_several_hubs_and_none_of_ours_is_a_status_error_and_no_join(
        make_station: StationFactory, announce: Announcements) -> None:
    x, y = free_port(), free_port()
    announce.add(x, "org_x")
    announce.add(y, "org_y")
    door = make_station("Door C", "auto", hub_finder=LOOPBACK)
    wait_for(lambda: "Several hubs found" in str(_status(door).error),
             what="the several-hubs error")
    error = str(_status(door).error)
    assert f"127.0.0.1:{x} (organisation org_x)" in error
    assert f"127.0.0.1:{y} (organisation org_y)" in error
    assert "Pass the join URL of the one to join to --sync" in error
    assert door.sync is not None and door.sync.target is None
    assert door.core.store.setting(SYNC_URL_SETTING) is None


# --- the command line ------------------------------------------------------------------------------
def test_station_serve_sync_auto_starts_at_once_while_looking(cli: StationCLI) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "serve", "--sync", "auto", "--no-api"], env=cli.env,
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
        text=True)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not lines or "sync " not in lines[-1]:  # the banner, then the sync line
            lines.append(proc.stdout.readline())
            assert lines[-1], lines  # not EOF: the station runs while it looks
        assert "sync     looking on the LAN (auto)" in lines[-1]
        assert any(line.startswith("Station '") for line in lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=PATIENCE_S)
    assert proc.returncode == 0


@pytest.mark.parametrize("value", ["ftp://hub:4222", "nats://hub:99999", "x" * 600,
                                   "nats://station:pw@127.0.0.1:4222"])  # plaintext: refused
def test_a_bad_sync_value_is_a_one_line_error(cli: StationCLI, value: str) -> None:
    result = cli("serve", "--sync", value, "--no-api", check=False)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("station:")]
    assert len(errors) == 1 and errors[0].startswith("station: error: "), result.stderr
    assert "Traceback" not in result.stderr
    store = Store(cli.data_dir)
    try:
        assert store.setting(SYNC_URL_SETTING) is None  # nothing remembered
    finally:
        store.close()


# --- impostors (issue 15): an announcement is only a hint where to look --------------------------
@pytest.mark.multicast
@pytest.mark.allow_log("station.net.sync.client", "certificate fingerprint differs")
def test_an_impostor_announcing_our_organisation_is_sent_no_credential(
        hub: HubServer, impostor: RecordingTlsServer, make_station: StationFactory,
        announce: Announcements) -> None:
    once = make_station("Door B", hub.target.full_url())  # joined once: password and pin kept
    wait_for(in_sync(once), what="B to join with the join URL")
    org = str(once.core.store.setting(JOINED_ORG))
    once.stop()
    hub.stop()  # the hub is away, and a machine on the venue's network announces itself as it
    announce.add(impostor.port, org)
    door = make_station("Door B", "auto", hub_finder=LOOPBACK)
    wait_for(lambda: "certificate fingerprint differs" in str(_status(door).error),
             what="B to look at the impostor's certificate and refuse it")
    assert impostor.handshakes >= 1 and impostor.received == b""  # no CONNECT, no password
    assert not _status(door).connected


@pytest.mark.multicast
def test_without_a_saved_fingerprint_sync_auto_sends_nothing_and_asks_for_the_join_url(
        hub: HubServer, impostor: RecordingTlsServer, make_station: StationFactory,
        announce: Announcements) -> None:
    # Joined before TLS: a nats:// URL and the password are saved, no fingerprint.
    old = make_station("Door C", hub.target.full_url(), start=False)
    old.core.store.set_setting(SYNC_URL_SETTING, f"nats://station@127.0.0.1:{hub.port}")
    org = str(old.core.store.setting("org_id"))
    old.stop()
    announce.add(impostor.port, org)
    door = make_station("Door C", "auto", hub_finder=LOOPBACK)
    wait_for(lambda: "no certificate fingerprint" in str(_status(door).error),
             what="the request for the join URL")
    assert "#sha256=" in str(_status(door).error)
    assert impostor.handshakes == 0 and door.sync is not None and door.sync.target is None
