"""Issue 15, part 2: a station enrols with the join URL and connects as itself from then on;
its user may publish only its own events and write only its own entries. Real nats-server."""

from __future__ import annotations

import asyncio
import json

import nats.errors
import nats.js.errors
import pytest

from station.app import Station
from station.domain import trust
from station.net.sync.hub_tls import connect_hub, mismatch_sentence
from station.net.sync.jetstream import OrgSpace
from station.net.sync.setup import SYNC_SECRET, SYNC_URL_SETTING
from station.net.sync.url import SyncTarget
from station.services.key_trust import KeyTrust
from station.services.passes import PassService
from station.store.secrets import SecretStore
from tests.sync.conftest import StationFactory, converged, wait_for
from tests.sync.enrolled_hub import EnrolHub, enrol_hub  # noqa: F401  (fixture)
from tests.sync.impostor import RecordingTlsServer


def own_target(door: Station, port: int) -> SyncTarget:
    """The station's own credential, as it saved it after enrolling."""
    saved = SyncTarget.parse(str(door.core.store.setting(SYNC_URL_SETTING)))
    secrets = SecretStore(door.options.data_dir, str(door.core.store.setting("org_id")))
    return saved.with_password(secrets.get(SYNC_SECRET)).at("127.0.0.1", port)


def enrolled(door: Station) -> bool:
    return KeyTrust(door.core.ctx).certificate() is not None


def test_a_station_enrols_with_the_join_url_and_syncs_as_itself(
        enrol_hub: EnrolHub, make_station: StationFactory) -> None:
    a = make_station("Door A", enrol_hub.join_url)
    b = make_station("Door B", enrol_hub.join_url)
    wait_for(lambda: enrolled(a) and enrolled(b), what="both doors to enrol")
    wait_for(converged(a, b), what="the enrolled doors in sync")
    for door in (a, b):
        saved = SyncTarget.parse(str(door.core.store.setting(SYNC_URL_SETTING)))
        # The join secret is not kept: the saved URL names the station's own user.
        assert saved.user == door.core.ctx.station_id
        assert enrol_hub.server.join_secret not in str(door.core.store.setting(SYNC_URL_SETTING))
        cert = trust.read_certificate(KeyTrust(door.core.ctx).certificate(),
                                      enrol_hub.authority.public)
        assert cert.key == trust.key_b64(door.core.ctx.keys.private.public_key())
    # A pass made at A scans at B: A's key reached B with its certificate.
    p = a.core.passes.create(PassService.validate("Ada", "multi"))
    wait_for(lambda: b.core.store.pass_by_id(p.id) is not None, what="the pass to reach B")
    assert b.core.scans.submit(p.public_url).verdict.value == "accepted"
    a_key = trust.key_b64(a.core.ctx.keys.private.public_key())
    assert KeyTrust(b.core.ctx).certified_keys()[a.core.ctx.station_id] == a_key
    # Only bcrypt hashes are in the hub's configuration.
    conf = (enrol_hub.server.dir / "nats.conf").read_text()
    assert own_target(a, enrol_hub.server.port).password not in conf
    assert str(enrol_hub.server.join_secret) not in conf


@pytest.mark.allow_log("nats.aio.client", "ermissions")
def test_an_enrolled_station_cannot_publish_as_another_nor_delete_the_stream(
        enrol_hub: EnrolHub, make_station: StationFactory) -> None:
    a = make_station("Door A", enrol_hub.join_url)
    b = make_station("Door B", enrol_hub.join_url)
    wait_for(lambda: enrolled(a) and enrolled(b), what="both doors to enrol")
    wait_for(converged(a, b), what="the enrolled doors in sync")
    space = OrgSpace(enrol_hub.desk.org)
    target = own_target(a, enrol_hub.server.port)
    b_id = b.core.ctx.station_id

    async def attempt() -> dict[str, object]:
        errors: list[Exception] = []

        async def on_error(exc: Exception) -> None:
            errors.append(exc)

        nc = await connect_hub(target, allow_reconnect=False, error_cb=on_error)
        js = nc.jetstream(timeout=3)
        outcome: dict[str, object] = {}
        try:
            for name, call in [
                ("publish as B", lambda: js.publish(space.events_of(b_id), b"{}")),
                ("delete stream", lambda: js.delete_stream(space.stream)),
                ("purge stream", lambda: js.purge_stream(space.stream)),
                ("overwrite B's key", lambda: js.publish(f"$KV.{space.bucket('keys')}.{b_id}",
                                                         b"{}")),
            ]:
                try:
                    await call()
                    outcome[name] = "done"
                except (nats.errors.Error, asyncio.TimeoutError) as exc:
                    outcome[name] = type(exc).__name__
            info = await js.stream_info(space.stream)  # reading is allowed
            outcome["stream"] = info.config.name
        finally:
            await nc.close()
        outcome["violations"] = sum("ermissions" in str(e) for e in errors)
        return outcome

    outcome = asyncio.run(attempt())
    assert all(outcome[k] != "done" for k in
               ("publish as B", "delete stream", "purge stream", "overwrite B's key")), outcome
    assert outcome["stream"] == space.stream and outcome["violations"] >= 4
    # The hub's stream and B's key entry are untouched; A and B still sync.
    p = b.core.passes.create(PassService.validate("Bea", "multi"))
    wait_for(lambda: a.core.store.pass_by_id(p.id) is not None, what="B's pass to reach A")
    assert a.core.scans.submit(p.public_url).verdict.value == "accepted"


@pytest.mark.allow_log("station.net.sync.client", "certificate fingerprint differs")
def test_a_join_url_pointing_at_another_certificate_sends_it_no_join_secret(
        enrol_hub: EnrolHub, impostor: RecordingTlsServer, make_station: StationFactory) -> None:
    wrong = SyncTarget.parse(enrol_hub.join_url).at("127.0.0.1", impostor.port)
    door = make_station("Door A", wrong.full_url())
    wait_for(lambda: door.sync is not None and door.sync.status().error is not None
             and impostor.handshakes >= 1, what="the door to look at the impostor's certificate")
    assert door.sync is not None and door.sync.status().error == mismatch_sentence(wrong)
    assert not enrolled(door)
    assert str(enrol_hub.server.join_secret).encode() not in impostor.received
    assert b"CONNECT" not in impostor.received


def test_a_removed_key_cannot_enrol_again(enrol_hub: EnrolHub,
                                          make_station: StationFactory) -> None:
    from station.net.sync.removal import pick, remove
    from station.net.sync.enrol_desk import Refused

    a = make_station("Door A", enrol_hub.join_url)
    wait_for(lambda: enrolled(a), what="A to enrol")
    a.stop()
    remove(enrol_hub.server, enrol_hub.authority, pick(enrol_hub.server, "Door A"))
    request = trust.enrolment_request(a.core.ctx.keys.private, a.core.ctx.station_id, "Door A",
                                      "$2a$11$" + "x" * 53, "2026-01-01T00:00:00Z")
    with pytest.raises(Refused, match="removed from the organisation"):
        enrol_hub.desk.enrol(json.dumps(request).encode())
