"""Zapier replays actions and unsubscribes: a replay answers success with the current state and
changes nothing; a page size over 100 is capped; /me labels the connection."""

from __future__ import annotations

import httpx

from station.app import Core
from tests.api.conftest import ASGIClient, StationFactory
from tests.api.receiver import Receiver


def test_a_second_delete_of_a_webhook_succeeds(api: ASGIClient, receiver: Receiver) -> None:
    created = api.post("/api/v1/webhooks", json={"event": "pass.created",
                                                 "targetUrl": "https://93.184.215.14/hook"}).json()
    assert api.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
    assert api.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
    assert api.delete("/api/v1/webhooks/whk_never_was").status_code == 204
    assert api.get("/api/v1/webhooks").json()["items"] == []


def test_revoke_and_activate_replays_answer_the_current_state(api: ASGIClient, core: Core) -> None:
    p = api.post("/api/v1/passes", json={"name": "Replay"}).json()
    first = api.post(f"/api/v1/passes/{p['id']}/revoke", json={"reason": "chargeback"})
    assert first.status_code == 200 and first.json()["status"] == "revoked"
    events = core.store.count_events()
    again = api.post(f"/api/v1/passes/{p['id']}/revoke", json={"reason": "chargeback"})
    assert again.status_code == 200 and again.json() == first.json()
    assert core.store.count_events() == events  # no new event, so no webhook either
    active = api.post(f"/api/v1/passes/{p['code']}/activate")
    assert active.status_code == 200 and active.json()["status"] == "active"
    events = core.store.count_events()
    replay = api.post(f"/api/v1/passes/{p['code']}/activate")
    assert replay.status_code == 200 and replay.json() == active.json()
    assert core.store.count_events() == events
    # A used pass is not re-activated: that is a different question, answered as before.
    api.post("/api/v1/scans", json={"code": p["code"]})
    used = api.post(f"/api/v1/passes/{p['code']}/activate")
    assert used.status_code == 409 and "used" in used.json()["message"]


def test_limit_over_100_is_capped(api: ASGIClient, core: Core) -> None:
    for i in range(102):
        core.clients.create(f"Guest {i}")
    for path in ("/api/v1/passes", "/api/v1/scans", "/api/v1/clients", "/api/v1/triggers"):
        response = api.get(path, params={"limit": 101})
        assert response.status_code == 200, (path, response.text)
    assert len(api.get("/api/v1/clients", params={"limit": 101}).json()["items"]) == 100
    assert len(api.get("/api/v1/triggers", params={"limit": 5000}).json()) == 100
    assert api.get("/api/v1/clients", params={"limit": 0}).status_code == 422
    spec = api.get("/openapi.json").json()
    [limit] = [p for p in spec["paths"]["/api/v1/clients"]["get"]["parameters"] if p["name"] == "limit"]
    assert "maximum" not in limit["schema"] and "100" in limit["description"]


def test_me_names_the_key_the_station_and_the_organisation(make_station: StationFactory) -> None:
    station = make_station()
    assert station.integrations is not None and station.integrations.api_address
    station.core.store.set_setting("station_name", "Main door")
    key = station.integrations.keys.create("Zapier (Ada)").secret
    with httpx.Client(base_url=station.integrations.api_address,
                      headers={"authorization": f"Bearer {key}"}) as client:
        me = client.get("/api/v1/me")
        assert client.get("/api/v1/me", headers={"authorization": "Bearer 2pk_nope"}).status_code == 401
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["key"]["name"] == "Zapier (Ada)" and body["key"]["prefix"].startswith("2pk_")
    assert body["station"] == {"id": station.core.store.station_id, "name": "Main door"}
    assert body["organisation"] == {"id": station.core.store.setting("org_id"), "name": None}
