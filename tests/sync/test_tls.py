"""Issue 15, part 1: the hub speaks TLS only, and stations trust only the certificate their join
URL pins — checked before any credential leaves the station. Real nats-server, real TLS."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import nats
import pytest

from station.domain.errors import InvalidInput
from station.net.sync.binary import wheel_binary
from station.net.sync.ended import HubNotTrusted
from station.net.sync.hub import HubServer
from station.net.sync.hub_tls import mismatch_sentence, plaintext_sentence, tls_options
from station.net.sync.setup import SYNC_SECRET, SYNC_URL_SETTING
from station.net.sync.url import SyncTarget
from station.services.passes import PassService
from station.store.secrets import SecretStore
from tests.sync.conftest import StationFactory, converged, free_port, in_sync, wait_for
from tests.sync.impostor import RecordingTlsServer
from tests.sync.venue_server import VenueServer
from tests.waiting import PATIENCE_S


def _recv_all(conn: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := conn.recv(4096):
            data += chunk
    except OSError:
        pass
    return data


# --- the hub ------------------------------------------------------------------------------------
@pytest.mark.allow_log("nats.aio.client", "encountered error")
def test_the_hub_refuses_a_plaintext_client_that_has_the_credentials(hub: HubServer) -> None:
    target = hub.target
    assert target.password
    # A plaintext client never gets a byte: no INFO, and its CONNECT (with the right password)
    # is read as a broken TLS handshake and the connection dropped.
    with socket.create_connection(("127.0.0.1", hub.port), timeout=PATIENCE_S) as conn:
        conn.sendall(f'CONNECT {{"user":"{target.user}","pass":"{target.password}",'
                     '"verbose":true}\r\nPING\r\n'.encode())
        assert _recv_all(conn) == b""

    async def plaintext() -> None:
        await nats.connect(f"nats://127.0.0.1:{hub.port}", user=target.user,
                           password=target.password, allow_reconnect=False, connect_timeout=2)

    with pytest.raises(Exception):  # noqa: B017 - whatever nats-py makes of the silence
        asyncio.run(plaintext())


def test_the_hub_keeps_its_certificate_so_the_join_url_stays_valid(tmp_path: Path) -> None:
    hub = HubServer(tmp_path / "hub", "pw", port=free_port())
    first = hub.target.full_url()
    key = hub.certificate.key_file
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    again = HubServer(tmp_path / "hub", "pw", port=hub.port)
    assert again.target.full_url() == first and "#sha256=" in first
    assert SyncTarget.parse(first).fingerprint == hub.certificate.fingerprint


# --- stations -------------------------------------------------------------------------------------
@pytest.mark.allow_log("station.net.sync.client", "certificate fingerprint differs")
def test_a_station_refuses_a_hub_whose_certificate_differs_and_sends_it_no_credential(
        hub: HubServer, impostor: RecordingTlsServer, make_station: StationFactory) -> None:
    # The real hub's join URL, but the address now answers with another certificate (a machine
    # on the venue's network that took the hub's address).
    wrong = hub.target.at("127.0.0.1", impostor.port)
    door = make_station("Door A", wrong.full_url())
    assert door.sync is not None
    wait_for(lambda: door.sync is not None and door.sync.status().error is not None
             and impostor.handshakes >= 1, what="the door to look at the impostor's certificate")
    assert door.sync.status().error == mismatch_sentence(wrong)
    assert not door.sync.status().connected
    with pytest.raises(HubNotTrusted):
        asyncio.run(tls_options(wrong))
    assert impostor.received == b""  # not one byte of NATS: no CONNECT, no password


@pytest.mark.allow_log("station.net.sync.client", "old plaintext one")
def test_a_station_with_a_saved_plaintext_url_is_told_to_paste_the_join_url(
        hub: HubServer, make_station: StationFactory, tmp_path: Path) -> None:
    # What a station that joined before TLS has saved: nats://… and the password in keyring.
    old = SyncTarget("127.0.0.1", hub.port, "station", hub.target.password, "nats")
    first = make_station("Door A", hub.target.full_url(), start=False)
    first.core.store.set_setting(SYNC_URL_SETTING, old.public_url())
    first.stop()
    door = make_station("Door A", None)
    assert door.sync is not None and door.sync.target is not None
    assert door.sync.target.plaintext
    wait_for(lambda: door.sync is not None and door.sync.status().error is not None,
             what="the plaintext URL to be reported")
    assert door.sync.status().error == plaintext_sentence(door.sync.target)
    assert not door.sync.status().connected
    # Pasting the join URL (as --sync here) is all it takes.
    door.stop()
    again = make_station("Door A", hub.target.full_url())
    wait_for(in_sync(again), what="the door to join with the join URL")
    assert again.core.store.setting(SYNC_URL_SETTING) == hub.target.public_url()
    secrets = SecretStore(tmp_path / "Door A", str(again.core.store.setting("org_id")))
    assert secrets.get(SYNC_SECRET) == hub.target.password


def test_a_plaintext_sync_url_given_now_is_refused(make_station: StationFactory) -> None:
    with pytest.raises(InvalidInput, match="plaintext sync URL"):
        make_station("Door A", "nats://station:pw@127.0.0.1:4222")


def test_a_hub_directory_from_before_tls_gets_a_certificate_and_keeps_its_history(
        tmp_path: Path, make_station: StationFactory) -> None:
    hub = HubServer(tmp_path / "hub", "pw", port=free_port())
    hub.start()
    try:
        door_a = make_station("Door A", hub.target.full_url())
        door_a.core.passes.create(PassService.validate("Ada", "multi"))
        wait_for(in_sync(door_a), what="A's pass to reach the hub")
    finally:
        hub.stop()
    # Before TLS a hub directory held its store and no certificate.
    old_pin = hub.certificate.fingerprint
    hub.certificate.cert_file.unlink()
    hub.certificate.key_file.unlink()
    upgraded = HubServer(tmp_path / "hub", "pw", port=hub.port)
    upgraded.start()
    try:
        assert upgraded.target.fingerprint not in (None, old_pin)
        door_b = make_station("Door B", upgraded.target.full_url())
        wait_for(lambda: door_b.core.store.count_passes() == 1,
                 what="the history kept by the hub to reach B")
    finally:
        upgraded.stop()


def test_a_venue_nats_with_its_own_ca_works_with_sync_ca(
        tmp_path: Path, make_station: StationFactory) -> None:
    binary = wheel_binary()
    assert binary is not None
    venue = VenueServer(tmp_path / "venue", binary, free_port())
    venue.start()
    try:
        url, ca_file = venue.target.full_url(), venue.target.ca_file
        door_a = make_station("Door A", url, sync_ca=ca_file)
        door_b = make_station("Door B", url, sync_ca=ca_file)
        door_a.core.passes.create(PassService.validate("Ada", "multi"))
        wait_for(converged(door_a, door_b), what="both doors to sync through the venue's NATS")
        assert door_b.core.store.count_passes() == 1 and door_b.sync is not None
        assert door_b.sync.status().connected
        # The CA file is kept with the URL: the next start needs neither again.
        door_b.stop()
        again = make_station("Door B", None)
        assert again.sync is not None and again.sync.target is not None
        assert again.sync.target.ca_file == str(venue.ca.ca_file.resolve())
    finally:
        venue.stop()


def test_a_missing_ca_file_is_a_clear_error(tmp_path: Path, make_station: StationFactory) -> None:
    with pytest.raises(InvalidInput, match="not a readable CA certificate file"):
        make_station("Door A", "tls://u:p@127.0.0.1:4222", sync_ca=str(tmp_path / "nope.pem"))
