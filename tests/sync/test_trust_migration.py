"""Issue 15: the migration from a hub where every door shared one password. Doors that joined
that way trust every key on the hub, and say so, until they join again with the join URL;
from then on only certified keys count. Real nats-server."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.domain import trust
from station.domain.errors import InvalidInput
from station.domain.models import Reason, Verdict
from station.net.sync.enrol_desk import EnrolmentDesk
from station.net.sync.hosting import certify_self
from station.net.sync.hub import HubServer
from station.net.sync.session import REFUSED_ERROR
from station.net.sync.setup import end_shared_password, hub_server
from station.net.sync.url import SyncTarget
from station.services.org_authority import OrgAuthority
from station.store.secrets import SecretStore
from station.services.passes import PassService
from tests.sync.conftest import StationFactory, converged, free_port, wait_for
from tests.sync.enrolled_hub import EnrolHub, enrol_hub  # noqa: F401  (fixture)
from tests.sync.test_enrolment import enrolled


@pytest.mark.allow_log("station.services.key_trust", "no certificate from the organisation")
def test_doors_of_a_shared_password_hub_keep_their_keys_until_they_enrol(
        enrol_hub: EnrolHub, make_station: StationFactory) -> None:
    shared = enrol_hub.server.target.full_url()  # what every door used before enrolment
    a = make_station("Door A", shared)
    b = make_station("Door B", shared)
    wait_for(converged(a, b), what="the doors of the shared-password hub in sync")
    assert b.sync is not None and b.sync.status().trust_note is not None  # said in the window
    p = a.core.passes.create(PassService.validate("Ada", "multi"))
    wait_for(lambda: b.core.store.pass_by_id(p.id) is not None, what="A's pass at B")
    assert b.core.scans.submit(p.public_url).verdict is Verdict.ACCEPTED  # the old trust

    # The manager re-enrols B: only certified keys count there from now on, so A's passes are
    # refused at B until A is enrolled too.
    b.sync.retarget(SyncTarget.parse(enrol_hub.join_url))
    wait_for(lambda: enrolled(b), what="B to enrol")
    assert b.sync.status().trust_note is None  # at once: not left over from the last session
    a_key = trust.key_b64(a.core.ctx.keys.private.public_key())
    assert a_key not in b.core.ctx.keys.public_keys_b64()
    refused = b.core.scans.submit(p.public_url)
    assert refused.verdict is Verdict.REJECTED and refused.reason == Reason.BAD_SIGNATURE
    wait_for(lambda: b.sync is not None and b.sync.status().connected, what="B back online")
    assert b.sync.status().trust_note is None

    assert a.sync is not None
    a.sync.retarget(SyncTarget.parse(enrol_hub.join_url))
    wait_for(lambda: enrolled(a), what="A to enrol")
    wait_for(lambda: a_key in b.core.ctx.keys.public_keys_b64(),
             what="B to trust A's certified key")
    assert b.core.scans.submit(p.public_url).verdict is Verdict.ACCEPTED
    wait_for(converged(a, b), what="the enrolled doors in sync")


@pytest.mark.allow_log("station.services.key_trust", "no certificate from the organisation")
def test_the_note_goes_as_soon_as_the_door_is_enrolled_while_its_session_runs(
        enrol_hub: EnrolHub, make_station: StationFactory) -> None:
    # After a retarget the session that began before the enrolment can still count as
    # connected (it ends in the background); the CI saw the note of that session shown on a
    # door that had enrolled. Here the enrolment is saved while the old session runs on.
    b = make_station("Door B", enrol_hub.server.target.full_url())
    wait_for(lambda: b.sync is not None and b.sync.status().connected, what="B connected")
    assert b.sync is not None
    note = b.sync.status().trust_note
    assert note is not None and "join again" in note  # one sentence: what, and what to do
    certify_self(b.core.ctx, enrol_hub.authority, "org_venue")
    assert b.sync.status().connected and b.sync.status().trust_note is None


@pytest.mark.allow_log("station.services.key_trust", "no certificate from the organisation")
@pytest.mark.allow_log("station.net.sync.client", "sync session ended")  # refused, when it ends
def test_ending_the_shared_password_refuses_doors_that_did_not_enrol(
        tmp_path: Path, make_station: StationFactory) -> None:
    data, port = tmp_path / "hub-host", free_port()
    secrets = SecretStore(data, "org_venue")

    def start() -> tuple[HubServer, EnrolmentDesk]:
        server = hub_server(data, secrets, port=port, lan=False)
        server.start()
        desk = EnrolmentDesk(server, OrgAuthority(secrets), "org_venue")
        desk.start()
        return server, desk

    server, desk = start()
    shared = server.target.full_url()
    old = make_station("Door Old", shared)
    a = make_station("Door A", server.join_target.full_url())
    wait_for(lambda: enrolled(a), what="A to enrol")
    wait_for(converged(a, old), what="both doors in sync")
    with pytest.raises(InvalidInput, match="Stop the hub first"):
        end_shared_password(secrets, server)
    desk.stop()
    server.stop()
    end_shared_password(secrets, server)
    server, desk = start()
    try:
        wait_for(lambda: old.sync is not None and old.sync.status().error == REFUSED_ERROR,
                 what="the door without enrolment to be refused")
        p = a.core.passes.create(PassService.validate("Ada", "multi"))
        wait_for(lambda: a.sync is not None and a.sync.in_sync(), what="A syncing again")
        assert old.core.store.pass_by_id(p.id) is None
    finally:
        desk.stop()
        server.stop()
