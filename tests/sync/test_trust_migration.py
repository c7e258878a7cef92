"""Issue 15: the migration from a hub where every door shared one password. Doors that joined
that way trust every key on the hub, and say so, until they join again with the join URL;
from then on only certified keys count. Real nats-server."""

from __future__ import annotations

import pytest

from station.domain import trust
from station.domain.models import Reason, Verdict
from station.net.sync.url import SyncTarget
from station.services.passes import PassService
from tests.sync.conftest import StationFactory, converged, wait_for
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
