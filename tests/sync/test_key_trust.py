"""Issue 15, part 3: an enrolled station trusts only keys the organisation certified. Real
nats-server; the rogue keys are written with the hub's admin user (what a station could do
before enrolment existed, with the shared password)."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.domain import tokens, trust
from station.domain.models import Reason, Verdict
from station.domain.times import to_iso
from station.net.sync.hub_tls import connect_hub
from station.net.sync.jetstream import OrgSpace
from station.services.passes import PassService
from tests.sync.conftest import StationFactory, converged, wait_for
from tests.sync.enrolled_hub import EnrolHub, enrol_hub  # noqa: F401  (fixture)
from tests.sync.test_enrolment import enrolled


def _put_keys(hub: EnrolHub, entries: dict[str, bytes]) -> None:
    async def put() -> None:
        nc = await connect_hub(hub.server.target, allow_reconnect=False)
        try:
            kv = await nc.jetstream(timeout=5).key_value(OrgSpace(hub.desk.org).bucket("keys"))
            for name, value in entries.items():
                await kv.put(name, value)
        finally:
            await nc.close()
    asyncio.run(put())


@pytest.mark.allow_log("station.services.key_trust", "is not trusted")
def test_a_key_in_the_bucket_without_the_organisations_certificate_is_not_trusted(
        enrol_hub: EnrolHub, make_station: StationFactory,
        caplog: pytest.LogCaptureFixture) -> None:
    minter = make_station("Minter", None)  # never enrolled: its key is nobody's
    key = minter.core.ctx.keys.private.public_key()
    kid = tokens.key_id(key)
    b64 = base64.b64encode(tokens.public_key_bytes(key)).decode()
    # One bare key (as stations wrote them before enrolment), one with a certificate signed by
    # a key that is not the organisation's.
    forged = trust.certify(Ed25519PrivateKey.generate(), trust.Certified(
        enrol_hub.desk.org, minter.core.ctx.station_id, "Minter", b64,
        to_iso(datetime.now(timezone.utc))))
    _put_keys(enrol_hub, {kid: b64.encode(),
                          minter.core.ctx.station_id: json.dumps(forged).encode()})
    a = make_station("Door A", enrol_hub.join_url)
    b = make_station("Door B", enrol_hub.join_url)
    wait_for(lambda: enrolled(a) and enrolled(b), what="both doors to enrol")
    wait_for(converged(a, b), what="the enrolled doors in sync")
    # B read the whole keys bucket (A's certified key is there and trusted)...
    a_key = trust.key_b64(a.core.ctx.keys.private.public_key())
    wait_for(lambda: a_key in b.core.ctx.keys.public_keys_b64(), what="B to trust A's key")
    assert b64 not in b.core.ctx.keys.public_keys_b64()
    ignored = [r.getMessage() for r in caplog.records if "is not trusted" in r.getMessage()]
    assert any(kid in m for m in ignored) and any(minter.core.ctx.station_id in m for m in ignored)
    # ... and a pass the minter signed is refused there, online and offline alike.
    p = minter.core.passes.create(PassService.validate("Mallory", "single"))
    result = b.core.scans.submit(p.public_url)
    assert result.verdict is Verdict.REJECTED and result.reason == Reason.BAD_SIGNATURE
