"""The API on a real uvicorn server on a free 127.0.0.1 port, inside a running station."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest

from station.app import Core
from station.net.api.app import create_app
from station.net.api.routes import Services
from station.net.runtime import AsyncRuntime
from station.net.sender import SenderConfig
from station.net.server import APIServer
from tests.api.conftest import StationFactory, integrations_for
from tests.waiting import wait_until


def test_real_server_serves_and_stops_cleanly(make_station: StationFactory) -> None:
    station = make_station()
    assert station.api is not None and station.integrations is not None
    address = station.integrations.api_address
    assert address and address.startswith("http://127.0.0.1:")
    key = station.integrations.keys.create("real").secret
    with httpx.Client(base_url=address, headers={"authorization": f"Bearer {key}"}) as client:
        assert client.get("/health").json()["stationId"] == station.core.store.station_id
        p = client.post("/api/v1/passes", json={"name": "Guest"}).json()
        verdict = client.post("/api/v1/scans", json={"code": p["code"]})
        assert verdict.status_code == 201 and verdict.json()["verdict"] == "accepted"
        assert client.post("/api/v1/scans", content=b"{", headers={"content-type": "application/json"}
                           ).status_code == 400
    station.stop()
    assert station.integrations.api_address is None
    names = {t.name for t in threading.enumerate()}
    assert "station-net" not in names and not any(n.startswith("api-worker") for n in names)
    with socket.socket() as probe:  # the port is free again
        probe.bind(("127.0.0.1", int(address.rsplit(":", 1)[1])))


@pytest.mark.allow_log("station.net.server", "is in use")
def test_a_busy_port_leaves_the_station_running_without_api(make_station: StationFactory) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        station = make_station(sender=SenderConfig(), api_port=port)
        assert station.api is not None and station.api.address is None
        assert station.integrations is not None and "in use" in (station.integrations.api_error or "")
        p = station.core.passes.create(station.core.passes.validate("Guest"))
        assert station.core.scans.submit(p.code).accepted  # the door works without the API


def local_port(response: httpx.Response) -> int:
    """This client's end of the TCP connection the response came on."""
    return int(response.extensions["network_stream"].get_extra_info("client_addr")[1])


@pytest.mark.allow_log("station.net.api.errors", "API request GET /boom failed")
def test_an_internal_error_is_json_and_keeps_the_connection_alive(core: Core) -> None:
    app = create_app(Services(core.passes, core.scans, core.clients, core.store),
                     integrations_for(core), core.store.station_id)

    @app.get("/boom")
    async def boom() -> None:  # a bug, as no route of the station should have
        raise RuntimeError("a bug")

    runtime = AsyncRuntime()
    runtime.start()
    server = APIServer(app, runtime, integrations_for(core), port=0)
    server.start()
    try:
        assert server.address is not None
        with httpx.Client(base_url=server.address) as client:
            first = client.get("/boom")
            assert first.status_code == 500 and first.json()["error"] == "internal_error"
            assert first.headers.get("connection", "").lower() != "close"
            # Uvicorn used to close the connection after Starlette re-raised the error.
            second = client.get("/boom")
            assert second.status_code == 500 and local_port(second) == local_port(first)
            assert client.get("/health").status_code == 200
    finally:
        server.stop()
        runtime.stop()


def test_wrong_keys_from_this_machine_do_not_stall_a_valid_key(make_station: StationFactory) -> None:
    from station.domain.apikeys import new_key

    station = make_station()
    assert station.integrations is not None and station.integrations.api_address
    key = station.integrations.keys.create("working").secret
    revoked = station.integrations.keys.create("revoked")
    station.integrations.keys.revoke(revoked.key.id)
    with httpx.Client(base_url=station.integrations.api_address) as client:
        for wrong in [revoked.secret] * 6 + [new_key() for _ in range(6)]:
            client.get("/api/v1/passes", headers={"authorization": f"Bearer {wrong}"})
        locked = client.get("/api/v1/passes", headers={"authorization": f"Bearer {new_key()}"})
        assert locked.status_code == 429 and "retry-after" in locked.headers
        served = client.get("/api/v1/passes", headers={"authorization": f"Bearer {key}"})
        assert served.status_code == 200, served.text


def test_an_api_scan_answers_from_the_log_and_sees_the_doors_unmerged_scans(
        make_station: StationFactory) -> None:
    """An API scan goes straight into the log (what a client reads next shows the use),
    decided with the door's scans still in the door journal: a single-use pass the door
    admitted a moment ago, not merged yet, is refused to the API."""
    station = make_station()
    assert station.integrations is not None and station.integrations.api_address
    key = station.integrations.keys.create("real").secret
    merger = station.core.scans.merger
    with httpx.Client(base_url=station.integrations.api_address, timeout=120,
                      headers={"authorization": f"Bearer {key}"}) as client:
        p = client.post("/api/v1/passes", json={"name": "Guest"}).json()
        answered = client.post("/api/v1/scans", json={"code": p["code"]})
        assert answered.status_code == 201 and answered.json()["verdict"] == "accepted"
        assert merger.pending_count() == 0  # never in the journal
        read = client.get(f"/api/v1/passes/{p['id']}").json()
        assert read["uses"] == 1 and read["status"] == "used"

        q = client.post("/api/v1/passes", json={"name": "Door guest"}).json()
        with merger._merging:  # test-only: the door's scan stays in the journal
            door = station.core.scans.submit(q["code"], "camera", wait_merged=False)
            assert door.accepted and merger.pending_count() == 1
            again = client.post("/api/v1/scans", json={"code": q["code"]})
            assert again.status_code == 201 and again.json()["verdict"] == "rejected"
            assert again.json()["reason"] == "used"
        wait_until(lambda: merger.pending_count() == 0, what="the door's scan merged")
        read = client.get(f"/api/v1/passes/{q['id']}").json()
        assert read["uses"] == 1 and read["status"] == "used"
    station.stop()
