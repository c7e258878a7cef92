"""`--sync auto`: join the venue hub found on the LAN (mDNS) instead of a typed address.

The announcement says where the hub is and which organisation it serves, never the password:
that comes from keyring, where the station put it when it joined with the join URL once, and
it is only ever sent to a hub announcing this station's organisation whose certificate matches
the fingerprint of that join URL (kept in settings): anyone can announce anything, so the
announcement only says where to look, and the pin is checked before a credential is sent
(hub_tls.py). A station without a saved fingerprint sends nothing: it asks for the join URL. The looking happens in a
thread of its own while the station already scans (offline until a hub is joined), and goes on
with backoff while no hub is found, or when the joined one is lost (its address may have changed).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from station.domain.errors import InvalidInput
from station.net.sync.client import SyncClient
from station.net.sync.membership import JOINED_ORG
from station.net.sync.hub import HUB_USER
from station.net.sync.mdns import FoundHub, discover
from station.net.sync.setup import SYNC_SECRET, SYNC_URL_SETTING
from station.net.sync.url import SyncTarget
from station.store.db import Store
from station.store.secrets import SecretStore

log = logging.getLogger(__name__)

NOT_FOUND = ("Looking for the venue hub on the LAN (--sync auto); none found yet. "
             "Scanning works offline meanwhile.")


@dataclass(frozen=True, slots=True)
class FinderSettings:
    browse_s: float = 3.0  # how long one look listens for announcements
    retry_s: float = 2.0  # the first pause between two looks; it doubles up to retry_max_s
    retry_max_s: float = 30.0
    lost_after_s: float = 10.0  # a joined hub unreachable this long is looked for again
    interface: str | None = None  # the local address to listen on (None: all)


@dataclass(frozen=True, slots=True)
class Pick:
    hub: FoundHub | None = None  # the hub to join (None: nothing to join now)
    error: str | None = None  # why not, when a person has to act


def _where(hub: FoundHub) -> str:
    return SyncTarget(hub.host, hub.port).hub


def choose_hub(found: Sequence[FoundHub], ours: set[str], has_password: bool,
               prefer: str | None = None) -> Pick:
    """Which of the hubs `found` to join: the one announcing one of `ours` (the organisations
    this station belongs to), else the only one found. The saved password goes only to a hub
    of ours (and only once its certificate matches the saved pin: `has_password` is False
    without one); `prefer` (host:port) breaks a tie between hubs of ours."""
    mine = [h for h in found if h.org in ours]
    if mine:
        hub = next((h for h in mine if _where(h) == prefer), mine[0])
    elif len(found) == 1:
        hub = found[0]
    elif not found:
        return Pick()
    else:
        listed = ", ".join(f"{_where(h)} (organisation {h.org or '?'})" for h in found)
        return Pick(error=f"Several hubs found on the LAN: {listed}; none is this station's. "
                          "Pass the join URL of the one to join to --sync.")
    url = f"tls://{HUB_USER}:PASSWORD@{_where(hub)}#sha256=…"
    if not has_password:
        return Pick(error=f"Found the hub at {_where(hub)}, but this station has no password "
                          f"and no certificate fingerprint for it: pass its join URL once, "
                          f"--sync {url} (the first line `station hub` prints; later starts "
                          "find it alone).")
    if hub.org not in ours:
        return Pick(error=f"The hub found at {_where(hub)} belongs to another organisation "
                          f"({hub.org or '?'}), so this station's password is not sent there. "
                          f"To join it, pass its full URL once: --sync {url}.")
    return Pick(hub)


class HubFinder:
    """A Part: chooses the hub for `client` (started without one) and follows it on the LAN."""

    def __init__(self, client: SyncClient, store: Store, secrets: SecretStore,
                 settings: FinderSettings | None = None) -> None:
        self._client = client
        self._store = store
        self._secrets = secrets
        self.settings = settings or FinderSettings()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost_at: float | None = None
        self._remembered: str | None = None  # the public URL saved in settings

    def start(self) -> None:
        self._client.report(NOT_FOUND)
        self._thread = threading.Thread(target=self._run, name="sync-hub-finder", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(self.settings.browse_s + 10)

    def _run(self) -> None:
        delay = self.settings.retry_s
        while not self._stop.is_set():
            try:
                looked = self._step()
            except Exception:  # a bug here must not end the looking, nor the station
                log.exception("looking for the hub on the LAN failed")
                looked = True
            if looked:
                self._stop.wait(delay)
                delay = min(delay * 2, self.settings.retry_max_s)
            else:
                self._stop.wait(1.0)
                delay = self.settings.retry_s

    def _step(self) -> bool:
        """One round; True when it looked on the LAN (the next look then waits longer)."""
        target = self._client.target
        if target is not None:
            if self._client.connected:
                self._lost_at = None
                self._remember(target)
                return False
            now = time.monotonic()
            self._lost_at = self._lost_at or now
            if now - self._lost_at < self.settings.lost_after_s:
                return False  # nats-py reconnects by itself; the address may not have changed
        found = discover(self.settings.browse_s, self.settings.interface, wait=self._stop.wait)
        if self._stop.is_set():
            return True
        saved = self._saved()
        password = self._secrets.get(SYNC_SECRET)
        pinned = saved is not None and saved.fingerprint is not None
        ours = {str(org) for org in (self._store.setting("org_id"),
                                     self._store.setting(JOINED_ORG)) if org}
        current = target or saved
        pick = choose_hub(found, ours, bool(password) and pinned, current.hub if current else None)
        if pick.error is not None or (pick.hub is None and target is None):
            self._client.report(pick.error or NOT_FOUND)
        if pick.hub is None:
            return True
        assert saved is not None  # pinned: choose_hub picks nothing without the saved pin
        # The saved join URL's user, pin and CA, at the address announced.
        chosen = saved.at(pick.hub.host, pick.hub.port).with_password(password)
        if target is None or chosen != target:
            log.info("joining the hub found on the LAN at %s (organisation %s)",
                     chosen.hub, pick.hub.org)
            self._client.retarget(chosen)
            self._lost_at = None
        return True

    def _saved(self) -> SyncTarget | None:
        raw = self._store.setting(SYNC_URL_SETTING)
        try:
            return SyncTarget.parse(str(raw)) if raw else None
        except InvalidInput:  # a hand-edited setting: as if none were saved
            return None

    def _remember(self, target: SyncTarget) -> None:
        """Once joined, the hub's URL is kept as --sync keeps it (its password is in keyring
        already), so a start without --sync joins it too."""
        url = target.public_url()
        if self._remembered != url:
            if self._store.setting(SYNC_URL_SETTING) != url:
                self._store.set_setting(SYNC_URL_SETTING, url)
            self._remembered = url
