"""GET /api/v1/sync/status over real HTTP, with and without a hub."""

from __future__ import annotations

from typing import Any

import httpx

from station.app import Station
from station.net.sync.hub import HubServer
from tests.sync.conftest import StationFactory, converged, wait_for


def status_of(station: Station) -> dict[str, Any]:
    assert station.api is not None and station.api.address is not None
    key = station.integrations.keys.create("sync-status").secret  # type: ignore[union-attr]
    response = httpx.get(f"{station.api.address}/api/v1/sync/status",
                         headers={"authorization": f"Bearer {key}"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_sync_status_reports_hub_pending_and_an_equal_digest(
    hub: HubServer, make_station: StationFactory
) -> None:
    a = make_station("Door A", hub.target.full_url(), api=True)
    b = make_station("Door B", hub.target.full_url(), api=True)
    p = a.core.passes.create(a.core.passes.validate("Guest"))
    a.core.scans.submit(p.code)
    b.core.clients.create("Walk-in", "walkin@example.com")  # so A hears of B
    wait_for(converged(a, b), what="doors converge")
    first, second = status_of(a), status_of(b)
    for status in (first, second):
        assert status["enabled"] is True and status["connected"] is True
        assert status["hub"] == f"127.0.0.1:{hub.port}"
        assert status["pending"] == 0 and status["lastSyncAt"]
        assert "password" not in str(status).lower()
    assert first["stateDigest"] == second["stateDigest"]
    assert {peer["name"] for peer in first["peers"]} >= {"Door B"}


def test_sync_status_without_a_hub_still_gives_the_digest(make_station: StationFactory) -> None:
    alone = make_station("Alone", None, api=True)
    status = status_of(alone)
    assert status["enabled"] is False and status["connected"] is False
    assert len(status["stateDigest"]) == 64
