"""A station enrolling with the hub's join URL (`tls://enrol:SECRET@host:port#sha256=…`).

Connected as the `enrol` user (it may only ask the hub's enrolment desk, enrol_desk.py), the
station sends a request signed with its signing key, carrying a bcrypt hash of a password it
has just chosen. The reply is its certificate and the organisation's public key; the password,
which never left the station, goes to keyring and the saved sync URL names the station's own
user. The join secret is not used again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import replace
from typing import Any

import nats.errors

from station.domain import trust
from station.domain.times import to_iso
from station.net.sync.auth import is_auth_refusal
from station.net.sync.hub import STATION_ROUNDS, new_password, password_hash
from station.net.sync.hub_tls import connect_hub
from station.net.sync.hub_users import ENROL_INBOX, ENROL_SUBJECT, ENROL_USER
from station.net.sync.setup import SYNC_SECRET, SYNC_URL_SETTING
from station.net.sync.url import SyncTarget
from station.services.context import Context
from station.services.key_trust import KeyTrust
from station.store.secrets import SecretStore

log = logging.getLogger(__name__)

REPLY_TIMEOUT_S = 60.0  # the desk reloads the hub's configuration before it answers


class EnrolRefused(Exception):
    """The hub will not enrol this station; the text is the sentence to show."""


def is_join_url(target: SyncTarget) -> bool:
    return target.user == ENROL_USER


def enrolled_as_another(ctx: Context, target: SyncTarget) -> str | None:
    """Why this station cannot use `target`, its saved credential, when that was enrolled under
    another station id (its data directory was copied or restored: store/db.py gives it a new
    id), else None. The hub would refuse its events on the new id's subject."""
    cert = KeyTrust(ctx).certificate()
    if cert is None or is_join_url(target) or target.user != cert.get("stationId"):
        return None
    if cert.get("stationId") == ctx.station_id:
        return None
    return ("This data directory was copied or restored, so this station has a new id and its "
            "enrolment is another station's: join again with the hub's current join URL.")


def join_refused(target: SyncTarget) -> str:
    return (f"The hub at {target.hub} refused this join URL (it may have been replaced with "
            "`station hub rotate-join`): ask for the hub's current join URL.")


async def enrol(target: SyncTarget, ctx: Context, secrets: SecretStore) -> SyncTarget:
    """Enrol with the hub at `target` (a join URL); the station's own sync target back.
    EnrolRefused when the hub says no; connection errors are the caller's to retry."""
    password = new_password()

    def signed_request() -> dict[str, Any]:  # bcrypt and a settings read: off the loop
        return trust.enrolment_request(ctx.keys.private, ctx.station_id, ctx.station_name,
                                       password_hash(password, STATION_ROUNDS),
                                       to_iso(ctx.now()))

    request = await asyncio.to_thread(signed_request)

    async def quiet(exc: Exception) -> None:  # what matters is raised below, in one sentence
        log.debug("enrolment connection: %s", exc)

    try:
        nc = await connect_hub(target, connect_timeout=5, allow_reconnect=False,
                               max_reconnect_attempts=0, inbox_prefix=ENROL_INBOX,
                               error_cb=quiet)
    except nats.errors.Error as exc:
        if is_auth_refusal(exc):
            raise EnrolRefused(join_refused(target)) from None
        raise
    try:
        msg = await nc.request(ENROL_SUBJECT, json.dumps(request).encode(),
                               timeout=REPLY_TIMEOUT_S)
    except nats.errors.NoRespondersError:
        raise EnrolRefused(f"The hub at {target.hub} does not enrol stations at the moment (its "
                           "enrolment desk is not running): restart the hub, then try "
                           "again.") from None
    finally:
        await nc.close()
    try:
        reply = json.loads(msg.data)
    except (ValueError, UnicodeDecodeError):
        reply = None
    if not isinstance(reply, dict):
        raise EnrolRefused(f"The server at {target.hub} answered the enrolment with something "
                           "that is not a hub's reply; ask for the hub's current join URL.")
    if not reply.get("ok"):
        raise EnrolRefused(str(reply.get("error") or "The hub refused to enrol this station."))
    try:
        await asyncio.to_thread(KeyTrust(ctx).save_enrolment, str(reply["org"]),
                                str(reply["orgKey"]), reply["certificate"])
    except (KeyError, trust.Untrusted) as exc:
        raise EnrolRefused(f"The hub at {target.hub} answered with a certificate this station "
                           f"cannot use ({exc}); ask for the hub's current join URL.") from None
    own = replace(target, user=str(reply["user"]), password=password)
    # The password first: the saved URL names a user whose password must be there.
    await asyncio.to_thread(secrets.set, SYNC_SECRET, password)
    await asyncio.to_thread(ctx.store.set_setting, SYNC_URL_SETTING, own.public_url())
    log.info("enrolled with the hub at %s as %s", target.hub, own.user)
    return own
