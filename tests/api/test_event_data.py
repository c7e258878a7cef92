"""Every event's `data` shows the pass after the change it reports, in the webhook body and in
the `/triggers` item alike (a real station: API on 127.0.0.1, sender to a real receiver)."""

from __future__ import annotations

from typing import Any

import httpx

from station.domain.times import to_iso
from tests.api.conftest import StationFactory, wait_until
from tests.api.receiver import Receiver
from tests.fakes import FakeClock


def _trigger(client: httpx.Client, event: str, event_id: str) -> dict[str, Any]:
    items = client.get("/api/v1/triggers", params={"event": event, "limit": 100}).json()
    [item] = [i for i in items if i["id"] == event_id]
    return item


def test_event_data_is_the_pass_after_the_change(make_station: StationFactory, receiver: Receiver,
                                                 clock: FakeClock) -> None:
    station = make_station()
    assert station.integrations is not None and station.integrations.api_address
    scanned_url = receiver.url("/scanned")
    changed_url = receiver.url("/changed")
    key = station.integrations.keys.create("zap", rate_limit=100_000).secret
    with httpx.Client(base_url=station.integrations.api_address,
                      headers={"authorization": f"Bearer {key}"}) as api:
        for event, url in (("pass.scanned", scanned_url), ("pass.status_changed", changed_url)):
            assert api.post("/api/v1/webhooks", json={"event": event, "targetUrl": url}
                            ).status_code == 201
        single = api.post("/api/v1/passes", json={"name": "Ada"}).json()
        multi = api.post("/api/v1/passes", json={"name": "Bo", "type": "multi", "maxUses": 2}).json()

        clock.advance(minutes=5)
        scan_time = to_iso(clock())
        verdict = api.post("/api/v1/scans", json={"code": single["code"]}).json()
        assert verdict["pass"]["status"] == "used" and verdict["pass"]["uses"] == 1
        [hook] = receiver.wait_for("/scanned", 1, timeout=60)
        body = hook.json()
        assert body["data"]["status"] == "used" and body["data"]["uses"] == 1
        assert body["data"]["updatedAt"] == scan_time == body["timestamp"]
        assert body["data"]["scan"]["scannedAt"] == scan_time
        assert _trigger(api, "pass.scanned", body["id"]) == body  # identical, as before
        # The scan used the pass up: status_changed says so, with the scan's time.
        [used] = receiver.wait_for("/changed", 1, timeout=60)
        assert used.json()["data"]["status"] == "used" and used.json()["data"]["to"] == "used"
        assert used.json()["data"]["updatedAt"] == scan_time

        # A refused scan changes nothing: its data is the pass as it stands.
        clock.advance(minutes=1)
        api.post("/api/v1/scans", json={"code": single["code"]})
        refused = receiver.wait_for("/scanned", 2, timeout=60)[1].json()
        assert refused["data"]["scan"]["verdict"] == "rejected"
        assert (refused["data"]["status"], refused["data"]["uses"]) == ("used", 1)
        assert refused["data"]["updatedAt"] == scan_time

        # Multi-use: each scan's data counts that scan.
        for n in (1, 2):
            clock.advance(minutes=1)
            api.post("/api/v1/scans", json={"code": multi["code"]})
            got = receiver.wait_for("/scanned", 2 + n, timeout=60)[-1].json()
            assert got["data"]["uses"] == n and got["data"]["updatedAt"] == to_iso(clock())
            assert got["data"]["status"] == ("active" if n == 1 else "used")

        # Revoke: the new status and the revocation's time.
        clock.advance(minutes=1)
        revoke_time = to_iso(clock())
        api.post(f"/api/v1/passes/{multi['id']}/revoke", json={"reason": "chargeback"})
        changed = wait_until(lambda: [r.json() for r in receiver.at("/changed")
                                      if r.json()["data"].get("trigger") == "revoke"],
                             timeout=60, what="the revocation's webhook")[0]
        assert changed["data"]["status"] == "revoked" and changed["data"]["uses"] == 2
        assert changed["data"]["updatedAt"] == revoke_time == changed["timestamp"]
        assert (changed["data"]["from"], changed["data"]["to"]) == ("used", "revoked")
        assert _trigger(api, "pass.status_changed", changed["id"]) == changed
