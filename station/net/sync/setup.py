"""Where a station's sync target comes from: --sync, the settings + keyring, or its own hub."""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from pathlib import Path

import nats.errors

from station.domain.errors import InvalidInput
from station.net.sync import membership
from station.net.sync.ended import SessionEnded
from station.net.sync.hub import HUB_SECRET, HubServer, new_password
from station.net.sync.hub_tls import connect_hub
from station.net.sync.jetstream import join_org
from station.net.sync.url import SyncTarget
from station.store.db import Store
from station.store.secrets import SecretStore

log = logging.getLogger(__name__)

SYNC_SECRET = "sync-password"
JOIN_SECRET = "hub-join-secret"  # the enrolment secret the hub's join URL carries
SYNC_URL_SETTING = "sync_url"
SYNC_CA_SETTING = "sync_ca"  # a venue CA's certificate file (--sync-ca), for a tls:// URL
JOIN_FORM = "tls://user:pass@host:4222#sha256=…"
PLAINTEXT_GIVEN = ("That is a plaintext sync URL (nats://), which stations no longer use: give "
                   "the hub's join URL (tls://…#sha256=…), the first line `station hub` prints.")
HOSTING_SETTING = "sync_host_hub"  # {"enabled", "lan", "port"}: the GUI's "hosts the venue hub"
OFF = ("off", "none", "")
AUTO = "auto"  # --sync auto: join the hub found on the LAN (station/net/sync/auto.py)
SYNC_AUTO_SETTING = "sync_auto"  # --sync auto was the last choice: look on the LAN at each start


def wants_lan_hub(url: str | None) -> bool:
    return url is not None and url.strip().lower() == AUTO


def _checked_ca_file(ca_file: str | None) -> str | None:
    """An absolute path to a readable CA certificate file (PEM), or a clear error."""
    if not ca_file:
        return None
    path = Path(ca_file).expanduser().resolve()
    try:
        ssl.create_default_context(cafile=str(path))
    except (OSError, ssl.SSLError):
        raise InvalidInput(f"{str(ca_file)[:80]} is not a readable CA certificate file (PEM): "
                           "give the venue CA's certificate to --sync-ca.") from None
    return str(path)


def _tls_only(target: SyncTarget) -> SyncTarget:
    if target.plaintext:
        raise InvalidInput(PLAINTEXT_GIVEN)
    return target


def resolve_target(store: Store, secrets: SecretStore, url: str | None,
                   ca_file: str | None = None) -> SyncTarget | None:
    """The hub to sync with. A URL given now is remembered: its password in keyring (never in
    the database), the rest in settings, so the next start needs no --sync; likewise the CA
    file given with it (`ca_file`, a venue's own NATS). "off" forgets the hub, not the
    organisation joined through it (membership.py): the data stays that one's. A saved
    plaintext URL (from before TLS) is returned as it is: the session refuses it and says so."""
    if url is not None and url.strip().lower() in OFF:
        store.set_setting(SYNC_URL_SETTING, None)
        store.set_setting(SYNC_CA_SETTING, None)
        secrets.delete(SYNC_SECRET)
        joined = membership.joined_org(store)
        if joined:
            log.info("Sync is off; this data directory stays in organisation %s (another venue "
                     "needs a new --data-dir).", joined)
        return None
    if url is not None:
        target = _tls_only(SyncTarget.parse(url))
        ca = _checked_ca_file(ca_file)
        if target.password is not None:
            secrets.set(SYNC_SECRET, target.password)
        else:
            target = target.with_password(secrets.get(SYNC_SECRET))
        store.set_setting(SYNC_URL_SETTING, target.public_url())
        store.set_setting(SYNC_CA_SETTING, ca)
        return target.with_ca_file(ca)
    saved = store.setting(SYNC_URL_SETTING)
    if not saved:
        return None
    target = SyncTarget.parse(str(saved)).with_password(secrets.get(SYNC_SECRET))
    return target.with_ca_file(store.setting(SYNC_CA_SETTING))


def check_join_url(store: Store, secrets: SecretStore, url: str) -> SyncTarget:
    """A hub URL a person typed to join (the hub's join URL), checked without saving.
    The password may be left out when the same hub's password is already in keyring."""
    target = _tls_only(SyncTarget.parse(url))
    if not target.user:
        raise InvalidInput(f"Include the hub's user and password: {JOIN_FORM}.")
    if target.password is None:
        saved = store.setting(SYNC_URL_SETTING)
        if not saved or SyncTarget.parse(str(saved)).public_url() != target.public_url() \
                or not secrets.get(SYNC_SECRET):
            raise InvalidInput(f"Include the hub's password: {JOIN_FORM}.")
    return target


@dataclass(frozen=True, slots=True)
class Hosting:
    """Whether this station hosts the venue hub (a saved choice, applied at the next start)."""

    enabled: bool = False
    lan: bool = False
    port: int = 4222


def saved_hosting(store: Store) -> Hosting:
    raw = store.setting(HOSTING_SETTING) or {}
    try:
        port = int(raw.get("port", 4222))
        return Hosting(bool(raw.get("enabled")), bool(raw.get("lan")), port if 1 <= port <= 65535 else 4222)
    except (AttributeError, TypeError, ValueError):
        return Hosting()  # a hand-edited value never stops the station from starting


def save_choice(store: Store, secrets: SecretStore, url: str | None, hosting: Hosting) -> SyncTarget | None:
    """The GUI's sync settings, saved for the next start: the hub to join (None or "": none;
    the password goes to keyring as with --sync) and whether to host the venue hub.
    Checks everything before saving anything."""
    if not 1 <= int(hosting.port) <= 65535:
        raise InvalidInput("The hub port is between 1 and 65535.")
    text = (url or "").strip()
    if text.lower() not in OFF:
        check_join_url(store, secrets, text)
    # The window has no CA-file field: a CA given with --sync-ca stays with the URL.
    target = resolve_target(store, secrets, text or "off", store.setting(SYNC_CA_SETTING))
    store.set_setting(HOSTING_SETTING, {"enabled": hosting.enabled, "lan": hosting.lan,
                                        "port": int(hosting.port)})
    return target


def _minted(secrets: SecretStore, name: str) -> str:
    value = secrets.get(name)
    if not value:
        value = new_password()
        secrets.set(name, value)
    return value


def hub_server(data_dir: Path, secrets: SecretStore, *, port: int, lan: bool) -> HubServer:
    """The hub this data directory hosts; its admin password and its join secret are minted
    once and kept in keyring (nats-server's configuration holds only their bcrypt hashes)."""
    _minted(secrets, JOIN_SECRET)
    return HubServer(Path(data_dir) / "hub", _minted(secrets, HUB_SECRET), port=port, lan=lan,
                     join_secret_of=lambda: secrets.get(JOIN_SECRET))


def end_shared_password(secrets: SecretStore, server: HubServer) -> None:
    """A new password for the hub's admin user, which doors that joined before enrolment use
    (the shared password: anyone who read it could do anything on the hub). Only while the hub
    is stopped: the enrolment desk and a door hosting the hub connect with it, and read it
    again at their next start. Doors that have not enrolled are refused from then on."""
    if server.serving_pid() is not None:
        raise InvalidInput("Stop the hub first (and the door that hosts it, if one does), then "
                           "run this again; start it afterwards.")
    secrets.set(HUB_SECRET, new_password())


def rotate_join(secrets: SecretStore, server: HubServer) -> SyncTarget:
    """A new join secret: the old join URL stops enrolling at once (the running hub reloads),
    enrolled stations keep their own users."""
    secrets.set(JOIN_SECRET, new_password())
    server.reload()
    return server.join_target


def serving_org(server: HubServer, own_org: str, timeout: float = 5.0) -> str:
    """The organisation the running hub serves: `own_org` (its host's), claimed before any door
    joins, unless it already serves one. What the hub announces on the LAN must be this, for
    --sync auto to recognise the hub of the organisation a door joined before."""
    target = server.target
    local = target.at("127.0.0.1", server.port)

    async def claim() -> str:
        nc = await connect_hub(local, connect_timeout=2, allow_reconnect=False,
                               max_reconnect_attempts=0)
        try:
            return await join_org(nc.jetstream(timeout=timeout), own_org)
        finally:
            await nc.close()

    try:
        return asyncio.run(asyncio.wait_for(claim(), timeout))
    except (nats.errors.Error, SessionEnded, asyncio.TimeoutError, OSError) as exc:
        # The hub works all the same; only its announcement may name another organisation.
        log.warning("could not ask the hub which organisation it serves (%s)", exc)
        return own_org
