"""Composition root: builds and wires the station's parts. No global singletons."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import platformdirs

from station.domain.codes import new_id

from station.services.bus import EventBus
from station.services.clients import ClientService
from station.services.context import Context, system_now
from station.services.demo import seed_demo
from station.services.org import OrgKeys
from station.services.passes import PassService
from station.services.scans import ScanService
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
