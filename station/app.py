"""Composition root: builds and wires the station's parts. No global singletons."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from typing import Protocol

import platformdirs

from station.domain.codes import new_id

from station.net.runtime import AsyncRuntime
from station.services.bus import EventBus
from station.services.clients import ClientService
from station.services.context import Context, system_now
from station.services.demo import seed_demo
from station.services.org import OrgKeys
from station.services.passes import PassService
from station.services.scans import ScanService
from station.services.sweeper import ExpirySweeper
from station.store.db import Store
from station.store.secrets import SecretStore

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://passes.station.example"


def default_data_dir(demo: bool = False) -> Path:
    env = os.environ.get("STATION_DATA_DIR")
    if env:
        return Path(env)
    base = Path(platformdirs.user_data_dir("station", appauthor=False))
    return base / "demo" if demo else base


@dataclass
class Core:
    store: Store
    bus: EventBus
    ctx: Context
    passes: PassService
    clients: ClientService
    scans: ScanService

    def close(self) -> None:
        self.store.close()


def build_core(data_dir: Path, *, demo: bool = False,
               now: Callable[[], datetime] = system_now) -> Core:
    store = Store(data_dir)
    org_id = store.setting("org_id")
    if org_id is None:
        # The organisation outlives station ids (which change when a directory is restored).
        org_id = new_id("org")
        store.set_setting("org_id", org_id)
    keys = OrgKeys(store, SecretStore(data_dir, str(org_id)))
    bus = EventBus()
    ctx = Context(store, bus, keys, str(store.setting("public_base_url") or DEFAULT_BASE_URL), now)
    passes = PassService(ctx)
    clients = ClientService(ctx)
    core = Core(store, bus, ctx, passes, clients, ScanService(ctx, passes))
    if demo:
        seed_demo(ctx, passes, clients)
    return core


class Part(Protocol):
    """A long-running piece of a running station (sweeper, API server, webhook sender, sync…)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass
class StationOptions:
    """Everything `station gui` / `station serve` can be told on the command line."""

    data_dir: Path
    demo: bool = False
    sweep_interval_s: float = 30.0
    # Frame source for the camera loop: "demo", a camera number or /dev path, a video file or an
    # image folder; None runs without a camera (handheld scanners and manual entry still work).
    capture: str | None = None


@dataclass
class Station:
    """A running station: the core, the background asyncio thread, and the parts around them."""

    options: StationOptions
    core: Core
    runtime: AsyncRuntime
    parts: list[Part] = field(default_factory=list)

    def start(self) -> None:
        self.runtime.start()
        for part in self.parts:
            part.start()

    def stop(self) -> None:
        for part in reversed(self.parts):
            try:
                part.stop()
            except Exception:  # one part failing to stop must not keep the rest running
                log.exception("stopping %r failed", part)
        self.runtime.stop()
        self.core.close()


def build_station(options: StationOptions, *, now: Callable[[], datetime] = system_now) -> Station:
    core = build_core(options.data_dir, demo=options.demo, now=now)
    station = Station(options, core, AsyncRuntime())
    station.parts.append(ExpirySweeper(core.passes, options.sweep_interval_s))
    return station
