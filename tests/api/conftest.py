from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from station.app import Core, Station, StationOptions, build_station
from station.net.api.app import create_app
from station.net.api.routes import Services
from station.net.integrations import Integrations
from station.net.sender import RetryPolicy, SenderConfig
from station.net.webhook_secrets import WebhookSecrets
from station.store.secrets import SecretStore
from tests.api.receiver import Receiver, start_receiver
from tests.fakes import FakeClock
from tests.waiting import wait_until  # noqa: F401  (the API tests import it from here)

# Retries in milliseconds instead of minutes; the real schedule is tested with a fake clock.
FAST = SenderConfig(retry=RetryPolicy(schedule=(0.05, 0.05, 0.05), jitter=0.0), timeout=1.0,
                    poll_interval=0.05)


def integrations_for(core: Core, networks: tuple[str, ...] = ("127.0.0.0/8",)) -> Integrations:
    secrets = WebhookSecrets(SecretStore(core.store.data_dir, str(core.store.setting("org_id"))))
    return Integrations(core.store, secrets, core.ctx.now, cli_networks=networks)


class ASGIClient:
    """Calls the app in-process through httpx's ASGI transport (no socket)."""

    def __init__(self, app: FastAPI, key: str | None, address: str = "10.1.2.3") -> None:
        self.app = app
        self.key = key
        self.address = address

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = {"authorization": f"Bearer {self.key}"} if self.key else {}
        out.update(headers or {})
        return out

    async def arequest(self, client: httpx.AsyncClient, method: str, url: str,
                       **kw: Any) -> httpx.Response:
        kw["headers"] = self._headers(kw.get("headers"))
        return await client.request(method, url, **kw)

    def client(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(self.address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://station.test")

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            async with self.client() as c:
                return await self.arequest(c, method, url, **kw)
        return asyncio.run(go())

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)


@pytest.fixture
def integrations(core: Core) -> Integrations:
    return integrations_for(core)


@pytest.fixture
def app(core: Core, integrations: Integrations) -> Iterator[FastAPI]:
    built = create_app(Services(core.passes, core.scans, core.clients, core.store, lists=core.lists,
                                venue=core.venue),
                       integrations,
                       core.store.station_id)
    yield built
    built.state.executor.shutdown(wait=True)


@pytest.fixture
def key(integrations: Integrations) -> str:
    return integrations.keys.create("tests", rate_limit=100_000).secret


@pytest.fixture
def api(app: FastAPI, key: str) -> ASGIClient:
    return ASGIClient(app, key)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = start_receiver()
    yield rec
    rec.release.set()
    rec.server.shutdown()
    rec.server.server_close()


StationFactory = Callable[..., Station]


@pytest.fixture
def make_station(data_dir: Path, clock: FakeClock) -> Iterator[StationFactory]:
    """Starts real stations (API on a free 127.0.0.1 port, sender on the runtime)."""
    started: list[Station] = []

    def make(sender: SenderConfig = FAST, networks: tuple[str, ...] = ("127.0.0.0/8",),
             now: Callable[..., Any] = clock, **options: Any) -> Station:
        options.setdefault("api_port", 0)
        opts = StationOptions(data_dir=data_dir, webhook_networks=networks, sender=sender,
                              sweep_interval_s=3600, **options)
        station = build_station(opts, now=now)
        station.start()
        started.append(station)
        return station

    yield make
    for station in reversed(started):
        station.stop()


