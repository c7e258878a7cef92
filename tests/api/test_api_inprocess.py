"""The API in-process (httpx ASGI transport): auth, limits, resources, bad inputs."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from fastapi import FastAPI

from station.app import Core
from station.net.integrations import Integrations
from tests.api.conftest import ASGIClient
from tests.fakes import FakeClock


def test_health_needs_no_key_and_docs_work_offline(app: FastAPI) -> None:
    anon = ASGIClient(app, None)
    health = anon.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    spec = anon.get("/openapi.json").json()
    assert "/api/v1/scans" in spec["paths"] and "/api/v1/triggers" in spec["paths"]
    page = anon.get("/docs")
    assert page.status_code == 200 and "/openapi.json" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN assets


@pytest.mark.parametrize("header, expected", [
    (None, "Send your API key"),
    ("Basic abc", "must be 'Bearer"),
    ("Bearer sk_live_123", "not a Station API key"),
    ("Bearer 2pk_short", "malformed"),
])
def test_missing_or_malformed_key_gets_401_json(app: FastAPI, header: str | None, expected: str) -> None:
    client = ASGIClient(app, None)
    response = client.get("/api/v1/passes", headers={"authorization": header} if header else None)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized" and expected in response.json()["message"]


def test_unknown_and_revoked_keys_get_401(app: FastAPI, integrations: Integrations) -> None:
    from station.domain.apikeys import new_key

    assert ASGIClient(app, new_key()).get("/api/v1/passes").status_code == 401
    created = integrations.keys.create("to revoke")
    client = ASGIClient(app, created.secret)
    assert client.get("/api/v1/passes").status_code == 200
    integrations.keys.revoke(created.key.id)
    response = client.get("/api/v1/passes")
    assert response.status_code == 401 and "revoked" in response.json()["message"]
    # Only a hash is stored: the key itself is nowhere in the database.
    dump = "\n".join(str(tuple(r)) for r in
                     integrations._store.db().execute("SELECT * FROM api_keys").fetchall())
    assert created.secret not in dump


def test_the_31st_request_in_a_minute_gets_429(app: FastAPI, integrations: Integrations) -> None:
    client = ASGIClient(app, integrations.keys.create("zapier").secret)

    async def burst() -> list[httpx.Response]:
        async with client.client() as c:
            # all at once: the quota must hold under concurrency too
            return await asyncio.gather(*(client.arequest(c, "GET", "/api/v1/passes") for _ in range(31)))

    responses = asyncio.run(burst())
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == 30 and codes.count(429) == 1
    refused = next(r for r in responses if r.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-limit"] == "30" and refused.headers["ratelimit-remaining"] == "0"
    assert refused.json()["error"] == "rate_limited"
    ok = next(r for r in responses if r.status_code == 200)
    assert "ratelimit-remaining" in ok.headers


def test_failed_auth_is_limited_per_client_address(app: FastAPI, key: str) -> None:
    from station.domain.apikeys import new_key

    guesser = ASGIClient(app, new_key(), address="10.9.9.9")
    responses = [guesser.get("/api/v1/passes") for _ in range(20)]
    assert [r.status_code for r in responses] == [401] * 10 + [429] * 10
    assert all(r.json()["error"] == "unauthorized" for r in responses[:10])
    refused = responses[-1]
    assert int(refused.headers["retry-after"]) >= 1 and refused.json()["error"] == "rate_limited"
    assert "valid key" in refused.json()["message"]
    # another address is not affected
    assert ASGIClient(app, key, address="10.9.9.8").get("/api/v1/passes").status_code == 200


def test_wrong_keys_never_lock_out_a_valid_key_from_the_same_address(
        app: FastAPI, integrations: Integrations) -> None:
    from station.domain.apikeys import new_key

    address = "127.0.0.1"  # e.g. a Zap with a revoked key and a working one on this machine
    for _ in range(20):
        ASGIClient(app, new_key(), address=address).get("/api/v1/passes")
    assert ASGIClient(app, new_key(), address=address).get("/api/v1/passes").status_code == 429
    valid = ASGIClient(app, integrations.keys.create("zapier").secret, address=address)
    codes = [valid.get("/api/v1/passes").status_code for _ in range(31)]
    # limited only by its own budget: 30 a minute by the vendor contract
    assert codes == [200] * 30 + [429]
    own = valid.get("/api/v1/passes")
    assert own.headers["ratelimit-limit"] == "30" and "This API key may make 30" in own.json()["message"]


def test_pass_lifecycle_through_the_api(api: ASGIClient, core: Core) -> None:
    created = api.post("/api/v1/passes", json={"name": "VIP Guest", "type": "multi", "maxUses": 2,
                                               "fields": {"table": 4}, "email": "a@example.com"})
    assert created.status_code == 201, created.text
    p = created.json()
    assert p["type"] == "multi" and p["fields"] == {"table": "4"}
    assert api.get(f"/api/v1/passes/{p['code']}").json()["id"] == p["id"]
    assert api.get(f"/api/v1/passes/{p['id']}").json()["code"] == p["code"]
    revoked = api.post(f"/api/v1/passes/{p['id']}/revoke", json={"reason": "chargeback"})
    assert revoked.json()["status"] == "revoked"
    again = api.post(f"/api/v1/passes/{p['id']}/revoke")
    assert again.status_code == 200 and again.json() == revoked.json()  # a replay
    assert api.post(f"/api/v1/passes/{p['code']}/activate").json()["status"] == "active"
    history = core.passes.history(p["id"])
    assert history[-1].data["by"] == "api:tests"
    assert api.get("/api/v1/passes/NoSuchCode12").status_code == 404


def test_record_scan_returns_the_cli_verdict_shape(api: ASGIClient, core: Core, cli) -> None:
    p = core.passes.create(core.passes.validate("Guest"))
    first = api.post("/api/v1/scans", json={"payload": p.public_url})
    assert first.status_code == 201 and first.json()["verdict"] == "accepted"
    again = api.post("/api/v1/scans", json={"code": p.code})  # "code" is an alias of payload
    body = again.json()
    assert body["verdict"] == "rejected" and body["reason"] == "used"
    assert body["scan"]["source"] == "api" and body["scan"]["operator"] == "api:tests"
    core.close()  # let the CLI open the same data directory
    printed = json.loads(cli("scan", p.code, "--json").stdout)
    assert set(printed) == set(body) and set(printed["scan"]) == set(body["scan"])
    assert set(printed["pass"]) == set(body["pass"])


def test_lists_are_newest_first_with_cursor_paging(api: ASGIClient, core: Core, clock: FakeClock) -> None:
    ids = []
    for i in range(5):
        ids.append(core.passes.create(core.passes.validate(f"Guest {i}")).id)
        clock.advance(seconds=1)
    seen, cursor = [], None
    while True:
        page = api.get("/api/v1/passes", params={"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    client = api.post("/api/v1/clients", json={"name": "Ada", "email": "ada@example.com"})
    assert client.status_code == 201
    assert api.get("/api/v1/clients").json()["items"][0]["id"] == client.json()["id"]
    core.scans.submit(core.store.pass_by_id(ids[0]).code)  # type: ignore[union-attr]
    scans = api.get("/api/v1/scans", params={"passId": ids[0]}).json()["items"]
    assert len(scans) == 1 and scans[0]["passId"] == ids[0]


def test_triggers_page_stably_through_equal_timestamps(api: ASGIClient, core: Core) -> None:
    # The fake clock does not move: every event has the same timestamp.
    for i in range(7):
        core.clients.create(f"Client {i}")
    p = core.passes.create(core.passes.validate("Guest"))
    expected = [r["id"] for r in core.store.db().execute(
        "SELECT id FROM events WHERE type = 'client.created' ORDER BY timestamp DESC, id DESC")]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"event": "client.created", "limit": 3, **({"cursor": cursor} if cursor else {})}
        response = api.get("/api/v1/triggers", params=params)
        assert response.status_code == 200
        seen += [item["id"] for item in response.json()]
        assert all(item["event"] == "client.created" and set(item) == {"id", "event", "timestamp", "data"}
                   for item in response.json())
        pages += 1
        cursor = response.headers.get("x-next-cursor")
        if not cursor:
            break
    assert seen == expected and len(set(seen)) == 7 and pages == 3
    everything = api.get("/api/v1/triggers").json()
    assert len(everything) == 8 and p.id in {i["data"].get("id") for i in everything}
    later = api.get("/api/v1/triggers", params={"since": "2030-01-01T00:00:00Z"}).json()
    assert later == []
    assert len(api.get("/api/v1/triggers", params={"limit": 101}).json()) == 8  # capped at 100
    assert api.get("/api/v1/triggers", params={"event": "scan.reverted"}).status_code == 422
    assert api.get("/api/v1/triggers", params={"cursor": "garbage"}).status_code == 422


def test_webhook_subscriptions(api: ASGIClient) -> None:
    created = api.post("/api/v1/webhooks", json={"event": "pass.created",
                                                 "targetUrl": "https://93.184.215.14/hook"})
    assert created.status_code == 201
    body = created.json()
    assert body["secret"].startswith("whsec_") and body["enabled"] is True
    listed = api.get("/api/v1/webhooks").json()["items"]
    assert [h["id"] for h in listed] == [body["id"]] and "secret" not in listed[0]
    for i in range(9):
        assert api.post("/api/v1/webhooks", json={"event": "pass.scanned",
                                                  "targetUrl": f"https://93.184.215.14/{i}"}).status_code == 201
    eleventh = api.post("/api/v1/webhooks", json={"event": "pass.scanned",
                                                  "targetUrl": "https://93.184.215.14/11"})
    assert eleventh.status_code == 409 and "10" in eleventh.json()["message"]
    assert api.delete(f"/api/v1/webhooks/{body['id']}").status_code == 204
    assert api.get(f"/api/v1/webhooks/{body['id']}").status_code == 404
    assert api.post("/api/v1/webhooks", json={"event": "pass.scanned",
                                              "targetUrl": "https://93.184.215.14/again"}).status_code == 201


@pytest.mark.parametrize("url, words", [
    ("file:///etc/passwd", "https://"),
    ("ftp://93.184.215.14/x", "https://"),
    ("https://user:pw@93.184.215.14/x", "user name"),
    ("https://93.184.215.14/" + "a" * 2100, "2048"),
    ("https://10.0.0.5/x", "private"),
    ("http://169.254.169.254/latest/meta-data", "private"),
    ("http://[::1]:8080/x", "private"),
    ("http://localhost/x", "private"),
    ("https:///nohost", "host"),
    ("https://93.184.215.14:99999/x", "valid URL"),
    ("https://93.184.215.14/a b", "spaces"),
    # IPv6 spellings of an IPv4 address: judged by the IPv4 address they carry
    ("http://[::127.0.0.1]/x", "carries the IPv4 address 127.0.0.1"),
    ("http://[::ffff:127.0.0.1]/x", "carries the IPv4 address 127.0.0.1"),
    ("http://[::ffff:7f00:1]/x", "carries the IPv4 address 127.0.0.1"),
    ("http://[64:ff9b::7f00:1]/x", "carries the IPv4 address 127.0.0.1"),
    ("http://[64:ff9b::a9fe:a9fe]/latest/meta-data", "carries the IPv4 address 169.254.169.254"),
    ("http://[64:ff9b:1::7f00:1]/x", "carries the IPv4 address 127.0.0.1"),
    ("http://[2002:7f00:1::]/x", "carries the IPv4 address 127.0.0.1"),
    ("http://[2002:a00:5::1]/x", "carries the IPv4 address 10.0.0.5"),
    ("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x", "carries the IPv4 address 127.0.0.1"),
])
def test_bad_webhook_targets_are_refused(app: FastAPI, core: Core, url: str, words: str) -> None:
    from tests.api.conftest import integrations_for
    from station.net.api.app import create_app
    from station.net.api.routes import Services

    strict = integrations_for(core, networks=())  # the default: no private networks allowed
    strict_app = create_app(Services(core.passes, core.scans, core.clients, core.store), strict,
                            core.store.station_id)
    client = ASGIClient(strict_app, strict.keys.create("t", 1000).secret)
    response = client.post("/api/v1/webhooks", json={"event": "pass.created", "targetUrl": url})
    strict_app.state.executor.shutdown()
    assert response.status_code == 422, response.text
    assert words in response.json()["message"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize("url", ["https://[64:ff9b::5db8:d70e]/hook", "https://[2002:5db8:d70e::1]/hook",
                                 "https://[::ffff:93.184.215.14]/hook"])
def test_ipv6_forms_of_a_public_ipv4_address_are_accepted(api: ASGIClient, url: str) -> None:
    response = api.post("/api/v1/webhooks", json={"event": "pass.created", "targetUrl": url})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("method, url, kwargs, status", [
    ("POST", "/api/v1/passes", {"content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
    ("POST", "/api/v1/passes", {"json": {"name": 5}}, 422),
    ("POST", "/api/v1/passes", {"json": {"name": "x", "maxUses": "lots", "type": "multi"}}, 422),
    ("POST", "/api/v1/passes", {"json": {"name": "x", "surprise": 1}}, 422),
    ("POST", "/api/v1/passes", {"json": ["a list"]}, 422),
    ("POST", "/api/v1/passes", {"json": {"name": "x", "validFrom": "tomorrow"}}, 422),
    ("POST", "/api/v1/passes", {"json": {"name": "x\u0000y"}}, 422),
    ("POST", "/api/v1/passes", {"json": {"name": "x", "clientId": "cli_nope"}}, 404),
    ("POST", "/api/v1/scans", {"json": {}}, 422),
    ("POST", "/api/v1/scans", {"json": {"payload": ""}}, 422),
    ("POST", "/api/v1/scans", {"json": {"payload": 12}}, 422),
    ("POST", "/api/v1/scans", {"content": b"x" * 70_000, "headers": {"content-type": "application/json"}}, 413),
    ("POST", "/api/v1/webhooks", {"json": {"event": "pass.exploded", "targetUrl": "https://93.184.215.14/"}}, 422),
    ("POST", "/api/v1/clients", {"json": {"name": "A", "email": "not-an-email"}}, 422),
    ("GET", "/api/v1/passes", {"params": {"limit": 0}}, 422),
    ("GET", "/api/v1/passes", {"params": {"status": "sleepy"}}, 422),
    ("GET", "/api/v1/scans", {"params": {"since": "yesterday"}}, 422),
    ("GET", "/api/v1/nothing-here", {}, 404),
    ("PUT", "/api/v1/passes", {}, 405),
])
def test_bad_inputs_get_clear_4xx_json(api: ASGIClient, core: Core, method: str, url: str,
                                       kwargs: dict, status: int) -> None:
    events = core.store.count_events()
    response = api.request(method, url, **kwargs)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] and body["message"].endswith(".")
    assert core.store.count_events() == events  # nothing changed


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize("method, url, kwargs, words", [
    # numbers are numbers: no strings, booleans, fractions or Infinity read as one
    ("POST", "/api/v1/passes", {"json": {"name": "x", "type": "multi", "maxUses": "3"}}, "whole number"),
    ("POST", "/api/v1/passes", {"json": {"name": "x", "type": "multi", "maxUses": True}}, "whole number"),
    ("POST", "/api/v1/passes", {"json": {"name": "x", "type": "multi", "maxUses": 2.5}}, "whole number"),
    ("POST", "/api/v1/passes", {"content": b'{"name": "x", "type": "multi", "maxUses": Infinity}',
                                "headers": JSON}, "whole number"),
    ("POST", "/api/v1/passes", {"json": {"name": "x", "fields": {"vip": True}}}, "text or a number"),
    ("POST", "/api/v1/passes", {"content": b'{"name": "x", "fields": {"n": NaN}}', "headers": JSON},
     "text or a number"),
    # a time without its zone is refused, not taken as UTC
    ("POST", "/api/v1/passes", {"json": {"name": "x", "validFrom": "2026-06-01T18:00:00"}}, "time zone"),
    ("POST", "/api/v1/passes", {"json": {"name": "x", "validUntil": "2026-06-01"}}, "time zone"),
    ("POST", "/api/v1/passes", {"json": {"name": "x", "validFrom": "2026-02-30T18:00:00Z"}}, "not a real"),
    ("GET", "/api/v1/scans", {"params": {"since": "2026-06-01T18:00:00"}}, "time zone"),
    ("GET", "/api/v1/triggers", {"params": {"since": "2026-06-01 18:00"}}, "time zone"),
    ("POST", "/api/v1/passes", {"json": {"name": "x", "email": "a@b"}}, "email address"),
    ("POST", "/api/v1/clients", {"json": {"name": "x", "email": "ada@example.com\n"}}, "email address"),
    ("POST", "/api/v1/clients", {"json": {"name": "   "}}, "blank"),
    ("POST", "/api/v1/clients", {"json": {"name": "x", "phone": "call me"}}, "phone number"),
    ("POST", "/api/v1/passes/NoSuchCode12/revoke", {"json": {"reason": "a\u0007b"}}, "control characters"),
    ("POST", "/api/v1/scans", {"json": {"payload": "x", "operator": "door\u001b[2J"}}, "control characters"),
    ("GET", "/api/v1/passes", {"params": {"search": "a\u0000"}}, "control characters"),
    ("GET", "/api/v1/passes", {"params": {"cursor": "garbage"}}, "cursor"),
    ("GET", "/api/v1/clients", {"params": {"cursor": "2026-06-01T18:00:00.000Z|x"}}, "cursor"),
    ("POST", "/api/v1/webhooks", {"json": {"event": "pass.created", "targetUrl": "gopher://x.example"}},
     "https://"),
    ("POST", "/api/v1/webhooks", {"json": {"event": "pass.created", "targetUrl": "https://bücher.example/"}},
     "https://host/path"),
])
def test_lenient_inputs_are_refused_with_a_sentence(api: ASGIClient, core: Core, method: str, url: str,
                                                    kwargs: dict, words: str) -> None:
    events = core.store.count_events()
    response = api.request(method, url, **kwargs)
    assert response.status_code == 422, response.text
    message = response.json()["message"]
    assert words in message and message.endswith(".") and "\n" not in message
    assert core.store.count_events() == events  # nothing stored


def test_numbers_and_zoned_times_are_stored_as_sent(api: ASGIClient) -> None:
    created = api.post("/api/v1/passes", json={
        "name": "x", "type": "multi", "maxUses": 3.0, "fields": {"table": 4, "ratio": 1.5, "note": "a"},
        "validFrom": "2026-06-01T20:00:00+02:00", "validUntil": "2026-06-02t04:00:00z"})
    assert created.status_code == 201, created.text
    p = created.json()
    assert p["maxUses"] == 3 and p["fields"] == {"table": "4", "ratio": "1.5", "note": "a"}
    assert p["validFrom"] == "2026-06-01T18:00:00.000Z" and p["validUntil"] == "2026-06-02T04:00:00.000Z"


def test_the_document_states_the_formats_the_server_checks(app: FastAPI) -> None:
    spec = ASGIClient(app, None).get("/openapi.json").json()
    params = {(path, p["name"]): p["schema"] for path, ops in spec["paths"].items()
              for op in ops.values() for p in op.get("parameters", [])}
    for path in ("/api/v1/passes", "/api/v1/clients", "/api/v1/scans", "/api/v1/triggers"):
        assert "pattern" in params[(path, "cursor")]["anyOf"][0]
    for path in ("/api/v1/scans", "/api/v1/triggers"):
        since = params[(path, "since")]["anyOf"][0]
        assert since["format"] == "date-time" and "pattern" in since
    assert "pattern" in params[("/api/v1/passes/{ref}", "ref")]
    bodies = spec["components"]["schemas"]
    target = bodies["WebhookCreate"]["properties"]["targetUrl"]
    assert target["pattern"].startswith("^[Hh][Tt][Tt][Pp][Ss]?://")
    assert bodies["PassCreate"]["properties"]["maxUses"]["anyOf"][0]["type"] == "integer"
    for name in ("ClientCreate", "PassCreate"):
        assert "pattern" in bodies[name]["properties"]["email"]["anyOf"][0]


@pytest.mark.parametrize("method, url, allowed", [
    ("PUT", "/api/v1/passes", {"GET", "POST"}),
    ("DELETE", "/api/v1/passes", {"GET", "POST"}),
    ("PATCH", "/api/v1/webhooks", {"GET", "POST"}),
    ("POST", "/api/v1/webhooks/whk_x", {"GET", "DELETE"}),
    ("GET", "/api/v1/passes/x/revoke", {"POST"}),
])
def test_405_lists_every_allowed_method(api: ASGIClient, method: str, url: str, allowed: set[str]) -> None:
    response = api.request(method, url)
    assert response.status_code == 405
    listed = {m.strip() for m in response.headers["allow"].split(",")}
    assert allowed <= listed and method not in listed
    body = response.json()
    assert body["error"] == "method_not_allowed" and all(m in body["message"] for m in allowed)


def test_a_chunked_huge_body_is_refused(api: ASGIClient) -> None:
    async def chunks():
        for _ in range(100):
            yield b"x" * 1024

    async def go() -> httpx.Response:
        async with api.client() as c:
            return await api.arequest(c, "POST", "/api/v1/scans", content=chunks(),
                                      headers={"content-type": "application/json"})

    response = asyncio.run(go())
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_the_public_url_of_a_pass_made_through_the_api_scans_as_that_pass(api: ASGIClient) -> None:
    created = api.post("/api/v1/passes", json={"name": "Compact", "type": "multi", "maxUses": 2,
                                               "validUntil": "2099-01-01T00:00:00Z"}).json()
    url = created["publicUrl"]
    assert url.startswith("https://passes.station.example/p/") and url.rsplit("/", 1)[1].isdigit()
    assert api.get(f"/api/v1/passes/{created['code']}").json()["publicUrl"] == url
    first = api.post("/api/v1/scans", json={"payload": url}).json()
    assert first["verdict"] == "accepted" and first["pass"]["id"] == created["id"]
    second = api.post("/api/v1/scans", json={"payload": url.lower()}).json()  # as a scanner may type it
    assert second["verdict"] == "accepted" and second["pass"]["uses"] == 2
    third = api.post("/api/v1/scans", json={"payload": url}).json()
    assert (third["verdict"], third["reason"]) == ("rejected", "max_uses_reached")
