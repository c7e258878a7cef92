"""Fixtures for sync tests: real nats-server hubs on free 127.0.0.1 ports, real stations."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from station.app import Station, StationOptions, build_station
from station.net.sync.auto import FinderSettings
from station.net.sync.hub import HubServer, new_password
from tests.sync.impostor import RecordingTlsServer
from tests.waiting import wait_until


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


wait_for = wait_until  # the sync tests' name for it


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubServer]:
    server = HubServer(tmp_path / "hub", new_password(), port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def other_hub(tmp_path: Path) -> Iterator[HubServer]:
    """A second hub: another venue, which its first station makes another organisation's."""
    server = HubServer(tmp_path / "other-hub", new_password(), port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def impostor(tmp_path: Path) -> Iterator[RecordingTlsServer]:
    """A TLS server that is not the hub, recording what clients send it (issue 15)."""
    server = RecordingTlsServer(tmp_path / "impostor")
    yield server
    server.close()


StationFactory = Callable[..., Station]


@pytest.fixture
def make_station(tmp_path: Path) -> Iterator[StationFactory]:
    started: list[Station] = []

    def make(name: str, sync_url: str | None, *, claim_timeout_s: float = 5.0,
             start: bool = True, api: bool = False,
             hub_finder: FinderSettings | None = None, sync_ca: str | None = None) -> Station:
        # The API (when asked for) takes a free port: stations in one test must not share 8765.
        options = StationOptions(data_dir=tmp_path / name, sync_url=sync_url, sync_ca=sync_ca,
                                 claim_timeout_s=claim_timeout_s, sweep_interval_s=3600,
                                 api_enabled=api, api_port=0,
                                 hub_finder=hub_finder or FinderSettings())
        station = build_station(options)
        station.core.store.set_setting("station_name", name)
        if start:
            station.start()
        started.append(station)
        return station

    yield make
    for station in reversed(started):
        station.stop()


def in_sync(*stations: Station) -> Callable[[], bool]:
    def check() -> bool:
        return all(s.sync is not None and s.sync.in_sync() for s in stations)
    return check


def digests(*stations: Station) -> set[str]:
    return {s.sync.state_digest() for s in stations if s.sync is not None}


def converged(*stations: Station) -> Callable[[], bool]:
    """Same event ids everywhere, nothing pending, and one state digest."""
    def check() -> bool:
        from station.store.sync import SyncLedger
        if not in_sync(*stations)():
            return False
        ids = [SyncLedger(s.core.store).event_ids() for s in stations]
        return all(i == ids[0] for i in ids) and len(digests(*stations)) == 1
    return check
