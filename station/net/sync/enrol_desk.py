"""The hub's enrolment desk: answers the join URL's `enrol` user (docs/sync-trust.md).

A station sends a request signed with its signing key (domain/trust.py) carrying its id, name,
key and a bcrypt hash of a password only it knows. The desk adds the station's own user to the
hub's configuration, has the server reload it, certifies the key with the organisation key and
replies with the certificate and the organisation's public key: nothing secret travels back.
It runs in its own thread (its own event loop), connected as the hub's admin user.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from datetime import datetime, timezone
from typing import Any

import nats.errors
from nats.aio.msg import Msg

from station.domain import trust
from station.domain.times import to_iso
from station.net.sync import jetstream
from station.net.sync.hub import HUB_USER, HubServer
from station.net.sync.hub_tls import connect_hub
from station.net.sync.hub_users import ENROL_SUBJECT, ENROL_USER
from station.net.sync.registry import Enrolled
from station.net.sync.removal import put_records, saved_records
from station.services.org_authority import OrgAuthority

log = logging.getLogger(__name__)

STATION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_NAME = 80
RESERVED = {HUB_USER, ENROL_USER}


class Refused(Exception):
    """A request the desk will not grant; its text is the one sentence sent back."""


def now_iso() -> str:
    return to_iso(datetime.now(timezone.utc))


async def open_org(server: HubServer, own_org: str) -> str:
    """The organisation the hub serves (claimed with `own_org` when empty), its stream and
    buckets made: enrolled stations may not create them."""
    nc = await connect_hub(server.target.at("127.0.0.1", server.port), connect_timeout=5,
                           allow_reconnect=False, max_reconnect_attempts=0)
    try:
        js = nc.jetstream(timeout=10)
        org = await jetstream.join_org(js, own_org)
        await jetstream.open_space(js, org)
        # Where the stream switched to signed events (enrolled stations may only read it).
        await jetstream.unsigned_until(js, jetstream.OrgSpace(org))
        return org
    finally:
        await nc.close()


class EnrolmentDesk:
    def __init__(self, server: HubServer, authority: OrgAuthority, org: str) -> None:
        self._server = server
        self._authority = authority
        self.org = org
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # --- life -------------------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> None:
        self._thread = threading.Thread(target=self._run, name="hub-enrolment", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the enrolment desk did not start")
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass
        if self._thread is not None:
            self._thread.join(15)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to start(), or logged once running
            if not self._ready.is_set():
                self._error = exc
                self._ready.set()
            else:
                log.exception("the enrolment desk stopped")

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.org = await open_org(self._server, self.org)
        # Removals made while the hub was stopped (or whose record could not be put then).
        await put_records(self._server, self.org, saved_records(self._server))
        nc = await connect_hub(self._server.target.at("127.0.0.1", self._server.port),
                               connect_timeout=5, max_reconnect_attempts=-1,
                               reconnect_time_wait=1)
        try:
            # One request at a time: each rewrites the configuration.
            sub = await nc.subscribe(ENROL_SUBJECT, cb=self._on_request)
            self._ready.set()
            await self._stop.wait()
            await sub.unsubscribe()
        finally:
            await nc.close()

    # --- requests ---------------------------------------------------------------------------
    async def _on_request(self, msg: Msg) -> None:
        try:
            reply: dict[str, Any] = await asyncio.to_thread(self.enrol, msg.data)
        except Refused as exc:
            log.warning("hub: enrolment refused: %s", exc)
            reply = {"ok": False, "error": str(exc)}
        except Exception:
            log.exception("hub: enrolment failed")
            reply = {"ok": False, "error": "The hub could not enrol this station (see the hub's "
                                           "log); try again."}
        if msg.reply:
            try:
                await msg.respond(json.dumps(reply).encode())
            except nats.errors.Error as exc:
                log.info("hub: the enrolment reply could not be sent (%s)", exc)

    def enrol(self, data: bytes) -> dict[str, Any]:
        """Check a request, enrol its station and return the reply (blocking: run in a thread)."""
        try:
            request = trust.read_enrolment_request(json.loads(data))
        except (ValueError, UnicodeDecodeError, trust.Untrusted) as exc:
            raise Refused(f"The enrolment request is not valid ({exc}); update the station "
                          "and try again.") from None
        station_id = str(request.get("stationId") or "")
        name = str(request.get("name") or "").strip()[:MAX_NAME]
        key, password_hash = str(request.get("key")), str(request.get("passwordHash") or "")
        if not STATION_ID.fullmatch(station_id) or station_id in RESERVED:
            raise Refused(f"{station_id[:70]!r} cannot be a station id on this hub.")
        if not password_hash.startswith("$2") or len(password_hash) != 60:
            raise Refused("The enrolment request carries no usable password hash; update the "
                          "station and try again.")
        if any(r.get("key") == key for r in saved_records(self._server)):
            who = name or station_id
            raise Refused(f"This station's key was removed from the organisation ({who}): set "
                          "the door up again with a new data directory.")
        issued = now_iso()
        entry = Enrolled(station_id, name or station_id, key, password_hash, self.org, issued)

        def add(stations: list[Enrolled]) -> list[Enrolled]:
            same = [s for s in stations if s.station_id == station_id]
            # Enrolling again (a new password, a new name) needs the same key: the request's
            # signature proves the station holds it. Another key under this id is a take-over.
            if same and same[0].key != key:
                raise Refused(f"A station with id {station_id} is enrolled already with another "
                              "key; remove it on the hub (station hub remove) first.")
            return [s for s in stations if s.station_id != station_id] + [entry]

        self._server.registry.change(add)
        self._server.reload()
        certificate = trust.certify(self._authority.private, trust.Certified(
            self.org, station_id, entry.name, key, issued))
        log.info("hub: enrolled station %s (%s)", entry.name, station_id)
        return {"ok": True, "org": self.org, "user": station_id, "certificate": certificate,
                "orgKey": trust.key_b64(self._authority.public)}

