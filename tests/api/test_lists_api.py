"""Check-in lists, occupancy and scans at a list door through the API, on a real uvicorn server
on 127.0.0.1 inside a running station (issue 14): create, list, edit, bad input changes
nothing, the occupancy counts, `list` and `direction` on scans, the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from station.app import Station
from tests.api.conftest import StationFactory


@pytest.fixture
def station(make_station: StationFactory) -> Station:
    return make_station()


@pytest.fixture
def client(station: Station) -> Iterator[httpx.Client]:
    assert station.integrations is not None and station.integrations.api_address
    key = station.integrations.keys.create("lists", rate_limit=100_000).secret
    with httpx.Client(base_url=station.integrations.api_address,
                      headers={"authorization": f"Bearer {key}"}) as c:
        yield c


def _pass(client: httpx.Client, name: str, tier: str = "general", type_: str = "multi") -> Any:
    made = client.post("/api/v1/passes", json={"name": name, "type": type_,
                                               "fields": {"tier": tier}})
    assert made.status_code == 201, made.text
    return made.json()


def test_create_list_and_edit_a_check_in_list(client: httpx.Client, station: Station) -> None:
    made = client.post("/api/v1/lists", json={
        "name": "VIP", "fields": {"tier": "vip"}, "reentry": True, "capacity": 250,
        "rules": [{"rule": "window", "days": ["fri", "sat"], "from": "18:00", "until": "02:00"},
                  {"rule": "entriesPerDay", "max": 2}]})
    assert made.status_code == 201, made.text
    vip = made.json()
    assert vip["id"].startswith("lst") and vip["name"] == "VIP" and vip["capacity"] == 250
    assert vip["rules"][0] == {"rule": "window", "days": ["fri", "sat"], "from": "18:00",
                               "until": "02:00"}
    assert client.post("/api/v1/lists", json={"name": "Main"}).json()["reentry"] is False

    edited = client.patch(f"/api/v1/lists/{vip['id']}", json={"capacity": None, "rules": []})
    assert edited.status_code == 200, edited.text
    assert edited.json()["capacity"] is None and edited.json()["rules"] == []
    assert edited.json()["fields"] == {"tier": "vip"}  # keys not sent are kept
    by_name = client.patch("/api/v1/lists/vip", json={"name": "VIP lounge"})
    assert by_name.status_code == 200 and by_name.json()["id"] == vip["id"]

    listed = client.get("/api/v1/lists").json()["items"]
    assert sorted(x["name"] for x in listed) == ["Main", "VIP lounge"]
    assert client.get("/api/v1/lists/VIP lounge").json()["id"] == vip["id"]
    assert station.core.lists.get(vip["id"]).name == "VIP lounge"  # the service's own view

    # The automatic check-out: a time of day, cleared by null.
    timed = client.patch("/api/v1/lists/Main", json={"checkoutAt": "04:00"})
    assert timed.status_code == 200 and timed.json()["checkoutAt"] == "04:00", timed.text
    cleared = client.patch("/api/v1/lists/Main", json={"checkoutAt": None})
    assert cleared.json()["checkoutAt"] is None


@pytest.mark.parametrize("body, status, words", [
    ({"fields": {"tier": "vip"}}, 422, "name"),
    ({"name": "X", "capacity": 0}, 422, "capacity"),
    ({"name": "X", "capacity": True}, 422, "capacity"),
    ({"name": "X", "passTypes": ["single"]}, 422, "passTypes"),
    ({"name": "X", "rules": [{"rule": "eval", "code": "1"}]}, 422, "rule"),
    ({"name": "X", "rules": [{"rule": "window", "from": "18:00", "until": "18:00"}]}, 422,
     "same time"),
    ({"name": "X", "validFrom": "2026-06-02T00:00:00Z", "validUntil": "2026-06-01T00:00:00Z"},
     422, "validFrom"),
    ({"name": "X", "checkoutAt": "4 am"}, 422, "checkoutAt"),
    ({"name": "X", "checkoutAt": "25:00"}, 422, "checkoutAt"),
    ({"name": "Main"}, 409, "exists already"),
])
def test_bad_input_gets_one_sentence_and_changes_nothing(
        client: httpx.Client, station: Station, body: dict[str, Any], status: int,
        words: str) -> None:
    client.post("/api/v1/lists", json={"name": "Main", "capacity": 10})
    before = station.core.store.fetch_all("SELECT id, data FROM events ORDER BY seq")
    refused = client.post("/api/v1/lists", json=body)
    assert refused.status_code == status, refused.text
    message = refused.json()["message"]
    assert words in message and message.count(". ") == 0 and "Traceback" not in message
    if status == 422 and words != "name":  # the same change as an edit is refused too
        patched = client.patch("/api/v1/lists/Main", json={k: v for k, v in body.items()
                                                           if k != "name"})
        assert patched.status_code == 422, patched.text
    assert station.core.store.fetch_all("SELECT id, data FROM events ORDER BY seq") == before
    assert client.get("/api/v1/lists/Main").json()["capacity"] == 10


def test_edit_of_an_unknown_list_is_404(client: httpx.Client) -> None:
    missing = client.patch("/api/v1/lists/Backstage", json={"capacity": 3})
    assert missing.status_code == 404 and "Backstage" in missing.json()["message"]


def test_scans_with_list_and_direction_move_the_occupancy(client: httpx.Client) -> None:
    hall = client.post("/api/v1/lists", json={"name": "Hall", "reentry": True,
                                              "capacity": 1}).json()
    vip = client.post("/api/v1/lists", json={"name": "VIP", "fields": {"tier": "vip"}}).json()
    ada, bo = _pass(client, "Ada"), _pass(client, "Bo")

    def scan(p: Any, **door: str) -> Any:
        response = client.post("/api/v1/scans", json={"code": p["code"], **door})
        assert response.status_code == 201, response.text
        return response.json()

    assert scan(ada, list="Hall")["verdict"] == "accepted"
    assert scan(ada, list=hall["id"])["reason"] == "already_inside"
    assert scan(bo, list="hall")["reason"] == "capacity_reached"
    assert scan(bo, list="VIP")["reason"] == "wrong_list"
    assert scan(bo)["verdict"] == "accepted"  # a door with no list: as before
    occupancy = client.get("/api/v1/occupancy").json()
    assert occupancy == {"inside": 2, "lists": [
        {"id": hall["id"], "name": "Hall", "inside": 1, "capacity": 1},
        {"id": vip["id"], "name": "VIP", "inside": 0, "capacity": None}]}

    assert scan(ada, list="Hall", direction="exit")["verdict"] == "accepted"
    assert scan(ada, list="Hall", direction="in")["verdict"] == "accepted"  # a re-entry
    assert scan(ada, list="Hall", direction="out")["verdict"] == "accepted"
    assert client.get("/api/v1/occupancy").json()["inside"] == 1

    unknown = client.post("/api/v1/scans", json={"code": ada["code"], "list": "Backstage"})
    assert unknown.status_code == 404 and "Backstage" in unknown.json()["message"]
    sideways = client.post("/api/v1/scans", json={"code": ada["code"], "direction": "sideways"})
    assert sideways.status_code == 422 and "direction" in sideways.json()["message"]
    assert len(client.get("/api/v1/scans").json()["items"]) == 8  # the refused requests: none


def test_openapi_documents_lists_occupancy_and_the_scan_keys(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/lists"])
    assert "patch" in spec["paths"]["/api/v1/lists/{ref}"]
    assert "get" in spec["paths"]["/api/v1/occupancy"]
    scan_body = spec["components"]["schemas"]["ScanCreate"]["properties"]
    assert {"list", "direction"} <= set(scan_body)
    create = spec["components"]["schemas"]["ListCreate"]
    assert create["required"] == ["name"] and "rules" in create["properties"]
    assert {"get", "patch"} <= set(spec["paths"]["/api/v1/venue"])
    zone = spec["components"]["schemas"]["VenueChange"]["properties"]["timezone"]
    assert "Europe/Berlin" in zone["anyOf"][0]["enum"]


def test_a_pass_with_a_note_shows_it_with_an_accepted_entry_only(client: httpx.Client) -> None:
    made = client.post("/api/v1/passes", json={"name": "Kim", "type": "multi",
                                               "attention": "Check ID — under 18"})
    assert made.status_code == 201 and made.json()["attention"] == "Check ID — under 18"
    plain = _pass(client, "Lee")
    assert "attention" not in plain  # the vendor's shape for every pass without a note
    hall = client.post("/api/v1/lists", json={"name": "Hall", "reentry": True}).json()

    entry = client.post("/api/v1/scans", json={"code": made.json()["code"], "list": hall["id"]})
    assert entry.json()["attention"] == "Check ID — under 18"
    assert entry.json()["pass"]["attention"] == "Check ID — under 18"
    refused = client.post("/api/v1/scans", json={"code": made.json()["code"], "list": "Hall"})
    assert refused.json()["reason"] == "already_inside" and "attention" not in refused.json()
    out = client.post("/api/v1/scans", json={"code": made.json()["code"], "direction": "exit"})
    assert out.json()["verdict"] == "accepted" and "attention" not in out.json()
    at_any_door = client.post("/api/v1/scans", json={"code": made.json()["code"]})
    assert at_any_door.json()["attention"] == "Check ID — under 18"
    other = client.post("/api/v1/scans", json={"code": plain["code"]}).json()
    assert "attention" not in other and "attention" not in other["pass"]
    assert client.get(f"/api/v1/passes/{made.json()['id']}").json()["attention"] == \
        "Check ID — under 18"


def test_everyone_out_of_one_list_or_of_the_venue(client: httpx.Client) -> None:
    client.post("/api/v1/lists", json={"name": "Hall", "reentry": True})
    client.post("/api/v1/lists", json={"name": "Bar"})
    for name, door in (("Ada", "Hall"), ("Bo", "Hall"), ("Cy", "Bar")):
        assert client.post("/api/v1/scans", json={"code": _pass(client, name)["code"],
                                                  "list": door}).json()["verdict"] == "accepted"
    missing = client.post("/api/v1/occupancy/checkout", json={"list": "Backstage"})
    assert missing.status_code == 404 and "Backstage" in missing.json()["message"]
    assert client.get("/api/v1/occupancy").json()["inside"] == 3  # nothing changed

    hall_out = client.post("/api/v1/occupancy/checkout", json={"list": "hall"})
    assert hall_out.status_code == 200, hall_out.text
    assert hall_out.json()["inside"] == 1
    assert [x["inside"] for x in hall_out.json()["lists"]] == [1, 0]  # Bar, Hall
    venue_out = client.post("/api/v1/occupancy/checkout")
    assert venue_out.json()["inside"] == 0 == client.get("/api/v1/occupancy").json()["inside"]


def test_a_pass_note_set_later_and_cleared_changes_nothing_when_replayed(
        client: httpx.Client, station: Station) -> None:
    p = _pass(client, "Kim")
    events = "SELECT count(*) AS n FROM events WHERE type = 'pass.attention_set'"
    set_ = client.patch(f"/api/v1/passes/{p['code']}", json={"attention": "Wheelchair access"})
    assert set_.status_code == 200 and set_.json()["attention"] == "Wheelchair access"
    again = client.patch(f"/api/v1/passes/{p['id']}", json={"attention": "Wheelchair access"})
    assert again.status_code == 200
    assert station.core.store.fetch_all(events)[0]["n"] == 1  # the replay recorded nothing
    entry = client.post("/api/v1/scans", json={"code": p["code"]}).json()
    assert entry["attention"] == "Wheelchair access"

    refused = client.patch(f"/api/v1/passes/{p['id']}", json={"attention": "x", "name": "Bo"})
    assert refused.status_code == 422 and "name" in refused.json()["message"]
    cleared = client.patch(f"/api/v1/passes/{p['id']}", json={"attention": None})
    assert cleared.status_code == 200 and "attention" not in cleared.json()
    assert "attention" not in client.post("/api/v1/scans", json={"code": p["code"]}).json()
    assert client.patch("/api/v1/passes/pas_missing", json={"attention": "x"}).status_code == 404


def test_the_venue_s_zone_and_check_out_are_read_and_set(client: httpx.Client,
                                                         station: Station) -> None:
    assert client.get("/api/v1/venue").json() == {"timezone": None, "checkoutAt": None}
    set_ = client.patch("/api/v1/venue", json={"timezone": "Europe/Berlin", "checkoutAt": "04:00"})
    assert set_.status_code == 200, set_.text
    assert set_.json() == {"timezone": "Europe/Berlin", "checkoutAt": "04:00"}
    # Only the keys sent change; null clears one.
    assert client.patch("/api/v1/venue", json={"checkoutAt": None}).json() == {
        "timezone": "Europe/Berlin", "checkoutAt": None}
    assert station.core.venue.get().timezone == "Europe/Berlin"
    assert client.get("/api/v1/venue", headers={"authorization": "Bearer nope"}).status_code == 401


@pytest.mark.parametrize(("body", "words"), [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"timezone": "Europe/Berlin", "checkoutAt": "25:00"}, "checkoutAt"),
    ({"checkoutAt": "4am"}, "checkoutAt"),
    ({"timezone": 5}, "timezone"),
    ({"zone": "UTC"}, "zone"),
    ({}, "change"),
])
def test_a_bad_venue_change_is_422_in_one_sentence_and_changes_nothing(
        client: httpx.Client, body: dict[str, Any], words: str) -> None:
    client.patch("/api/v1/venue", json={"timezone": "Asia/Tokyo", "checkoutAt": "05:00"})
    refused = client.patch("/api/v1/venue", json=body)
    assert refused.status_code == 422, refused.text
    message = refused.json()["message"]
    assert words in message and message.count(". ") == 0 and "Traceback" not in message
    assert client.get("/api/v1/venue").json() == {"timezone": "Asia/Tokyo", "checkoutAt": "05:00"}


def test_a_deleted_list_is_gone_and_its_door_admits_nobody(client: httpx.Client) -> None:
    client.post("/api/v1/lists", json={"name": "Hall"})
    ada, bo = _pass(client, "Ada"), _pass(client, "Bo")
    assert client.post("/api/v1/scans", json={"code": ada["code"], "list": "Hall"}).json()[
        "verdict"] == "accepted"
    missing = client.delete("/api/v1/lists/Backstage")
    assert missing.status_code == 404 and "Backstage" in missing.json()["message"]

    gone = client.delete("/api/v1/lists/hall")
    assert gone.status_code == 204, gone.text
    assert client.get("/api/v1/lists").json()["items"] == []
    assert client.get("/api/v1/occupancy").json()["inside"] == 0  # everyone on it out
    refused = client.post("/api/v1/scans", json={"code": bo["code"], "list": "Hall"})
    assert refused.status_code == 404  # no door can name it: nothing recorded
    assert client.get(f"/api/v1/passes/{bo['id']}").json()["uses"] == 0
    assert client.delete("/api/v1/lists/Hall").status_code == 404
