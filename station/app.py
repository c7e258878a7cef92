"""Composition root: builds and wires the station's parts. No global singletons."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from typing import TYPE_CHECKING, Protocol

import platformdirs

from station.domain.codes import new_id

from station.net.api.app import create_app
from station.net.api.routes import Services
from station.net.integrations import Integrations
from station.net.runtime import AsyncRuntime
from station.net.sender import SenderConfig, WebhookSender
from station.net.server import DEFAULT_HOST, DEFAULT_PORT, APIServer
from station.net.webhook_secrets import WebhookSecrets
from station.net.sync import membership
from station.net.sync.client import SyncClient, SyncSettings
from station.net.sync.auto import FinderSettings, HubFinder
from station.net.sync.hosting import HubPart
from station.net.sync.hub_admin import HubAdmin
from station.net.sync.setup import (SYNC_AUTO_SETTING, hub_server, resolve_target,
                                    saved_hosting, wants_lan_hub)
from station.services.bus import EventBus
from station.services.clients import ClientService
from station.services.lists import ListService
from station.services.venue import VenueService
from station.services.context import Context, system_now
from station.services.demo import seed_demo
from station.services.org import OrgKeys
from station.services.passes import PassService
from station.services.scan_merge import ScanMerger
from station.services.scans import ScanService
from station.services.checkout_schedule import ScheduledCheckout
from station.services.sweeper import ExpirySweeper
from station.services.sync_apply import RemoteEventService
from station.store.db import Store
from station.store.door_journal import DoorJournal
from station.store.secrets import SecretStore
from station.store.webhooks import enqueue_deliveries

log = logging.getLogger(__name__)
SWITCH_INTERVAL_S = 0.001  # a running station's GIL hand-over period (Station.start)

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
    lists: ListService
    venue: VenueService

    def close(self) -> None:
        try:
            self.scans.close()  # what the door journal holds goes into the log first
        finally:
            self.store.close()


def build_core(data_dir: Path, *, demo: bool = False,
               now: Callable[[], datetime] = system_now) -> Core:
    store = Store(data_dir)
    # Every process that records events (the GUI, `station serve`, `station scan`…) writes the
    # webhook outbox rows in the event's own transaction; the running station sends them.
    store.add_append_hook(enqueue_deliveries)
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
    merger = ScanMerger(ctx, passes, DoorJournal(data_dir))
    # Before anything takes scans: a run that stopped (or crashed) after showing a verdict
    # left it in the door journal; it goes into the log now, once.
    merger.recover()
    core = Core(store, bus, ctx, passes, clients, ScanService(ctx, passes, merger),
                ListService(ctx, merger.merge_pending), VenueService(ctx))
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
    api_host: str = DEFAULT_HOST
    api_port: int = DEFAULT_PORT  # 0: any free port (tests)
    api_enabled: bool = True
    # Private/loopback/link-local networks webhooks may be sent to (`--allow-webhook-network`).
    webhook_networks: tuple[str, ...] = ()
    sender: SenderConfig = field(default_factory=SenderConfig)
    # Sync (issue 6). `sync_url`, the hub's join URL "tls://user:pass@host:port#sha256=…", is
    # remembered (password in keyring); "off" forgets it; "auto" joins the hub found on the LAN
    # (mDNS), which `hub_finder` tunes. `sync_ca`: a venue CA's certificate for a tls:// URL
    # without a fingerprint (the venue's own NATS).
    # `host_hub` runs the venue hub here ("this station hosts the venue hub").
    sync_url: str | None = None
    sync_ca: str | None = None
    hub_finder: FinderSettings = field(default_factory=FinderSettings)
    host_hub: bool = False
    hub_port: int = 4222
    hub_lan: bool = False
    claim_timeout_s: float = 0.15
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
    # API keys, webhook subscriptions and delivery logs, API address (the Integrations page).
    integrations: Integrations | None = None
    sender: WebhookSender | None = None
    api: APIServer | None = None
    sync: SyncClient | None = None  # status() for the GUI status bar and /api/v1/sync/status

    def start(self) -> None:
        _SWITCH.hold()
        self.core.scans.merger.start()  # opens the door journal now, not at the first scan
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
        _SWITCH.release()


class _SwitchInterval:
    """Process-wide: a door's scan gives the GIL up at each SQLite statement and, while a
    download keeps the station's other threads busy in Python, waited up to a whole switch
    interval (5 ms by default) to get it back, several times a scan. At 1 ms the door's p95
    during a 100k download halved (docs/door-journal.md, "The GIL"). Set while any station of
    the process runs, the previous value back when the last one stops (a process that hosts
    stations one after another, as the tests do, is not left changed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._before = sys.getswitchinterval()

    def hold(self) -> None:
        with self._lock:
            if self._running == 0:
                self._before = sys.getswitchinterval()
                sys.setswitchinterval(SWITCH_INTERVAL_S)
            self._running += 1

    def release(self) -> None:
        with self._lock:
            if self._running == 0:
                return  # stopped without having started (a start that failed early)
            self._running -= 1
            if self._running == 0:
                sys.setswitchinterval(self._before)


_SWITCH = _SwitchInterval()


if TYPE_CHECKING:  # the window's view of a station (ui/ports.py); checked by mypy, not at run time
    from station.ui.ports import RunningStation

    def _station_serves_the_window(station: Station) -> RunningStation:
        return station


def build_station(options: StationOptions, *, now: Callable[[], datetime] = system_now) -> Station:
    core = build_core(options.data_dir, demo=options.demo, now=now)
    station = Station(options, core, AsyncRuntime())
    station.parts.append(ExpirySweeper(core.passes, options.sweep_interval_s,
                                       ScheduledCheckout(core.ctx, core.lists)))
    secrets = WebhookSecrets(SecretStore(options.data_dir, str(core.store.setting("org_id"))))
    integrations = Integrations(core.store, secrets, now, cli_networks=options.webhook_networks)
    sender = WebhookSender(core.store, core.bus, station.runtime, secrets, integrations.policy,
                           options.sender)
    integrations.on_change(sender.wake)
    integrations.on_change_networks(sender.reset_clients)
    integrations.on_delete(sender.forget)
    station.integrations, station.sender = integrations, sender
    station.parts.append(sender)
    _add_sync(station)
    if options.api_enabled:
        sync = station.sync
        # The API's JSON carries the state digest: computed per request there (a client asked).
        sync_status = ((lambda: sync.status().as_dict(sync.state_digest())) if sync is not None
                       else None)
        app = create_app(Services(core.passes, core.scans, core.clients, core.store, sync_status,
                                  core.lists, core.venue),
                         integrations, core.store.station_id)
        station.api = APIServer(app, station.runtime, integrations, host=options.api_host,
                                port=options.api_port)
        station.parts.append(station.api)
    return station


def _add_sync(station: Station) -> None:
    options, core = station.options, station.core
    secrets = SecretStore(options.data_dir, str(core.store.setting("org_id")))
    # --sync auto: no hub yet; the finder chooses one on the LAN while the station runs. Like a
    # URL, the choice is remembered: started again without --sync, the station looks again.
    if options.sync_url is not None:
        core.store.set_setting(SYNC_AUTO_SETTING, wants_lan_hub(options.sync_url))
    auto = wants_lan_hub(options.sync_url) or (
        options.sync_url is None and bool(core.store.setting(SYNC_AUTO_SETTING)))
    target = None if auto else resolve_target(core.store, secrets, options.sync_url,
                                                 options.sync_ca)
    # --host-hub on the command line, else the choice saved from the window's Sync settings.
    hosting = saved_hosting(core.store)
    host_hub, hub_port, hub_lan = ((True, options.hub_port, options.hub_lan) if options.host_hub
                                   else (hosting.enabled, hosting.port, hosting.lan))
    if host_hub:
        hub = hub_server(options.data_dir, secrets, port=hub_port, lan=hub_lan)
        # Announced as the organisation its stations will sync in: the one this station has
        # joined (it seeds its own empty hub with it), else the one it was created with.
        org = membership.organisation_id(core.store)
        station.parts.append(HubPart(hub, org, secrets, core.ctx))
        target = target or hub.target
    if target is None and not auto:
        return
    remote = RemoteEventService(core.ctx)
    station.parts.append(remote)  # before the client: stopped after it (its last batch ends)
    client = SyncClient(core.ctx, remote, station.runtime, target,
                        SyncSettings(claim_timeout_s=options.claim_timeout_s), secrets)
    if host_hub:
        client.hub_join_url = lambda: hub.join_target.full_url()
        client.hub_admin = HubAdmin(hub, secrets)
    core.scans.claimer = client.claim
    core.scans.releaser = client.release
    core.scans.unclaimer = client.unclaim
    station.sync = client
    station.parts.append(client)
    if target is None:  # after the client: stopped before it
        station.parts.append(HubFinder(client, core.store, secrets, options.hub_finder))
