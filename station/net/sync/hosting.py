"""Hosting the venue hub: the nats-server, its enrolment desk and its mDNS announcement.

Used by `station hub` and by a station that hosts the hub ("this station hosts the venue hub").
The hosting station connects with the hub's admin user and certifies its own key with the
organisation key directly (it holds that key): it is enrolled without a join URL.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

import nats.errors

from station.domain import trust
from station.domain.times import to_iso
from station.net.sync.ended import SessionEnded
from station.net.sync.enrol_desk import EnrolmentDesk
from station.net.sync.hub import HubServer
from station.net.sync.mdns import HubAnnouncer
from station.services.context import Context
from station.services.key_trust import KeyTrust
from station.services.org_authority import OrgAuthority
from station.store.secrets import SecretStore

log = logging.getLogger(__name__)


def certify_self(ctx: Context, authority: OrgAuthority, org: str) -> None:
    """The hosting station's own certificate, signed here (no enrolment over the network)."""
    cert = trust.certify(authority.private, trust.Certified(
        org, ctx.station_id, ctx.station_name, trust.key_b64(ctx.keys.private.public_key()),
        to_iso(datetime.now(timezone.utc))))
    KeyTrust(ctx).save_enrolment(org, trust.key_b64(authority.public), cert)


class HubPart:
    """The hub as a part (start/stop); announced on the LAN over mDNS when it listens there."""

    def __init__(self, server: HubServer, org: str, secrets: SecretStore | None = None,
                 ctx: Context | None = None) -> None:
        """`secrets`: where the organisation key is kept (None: no enrolment desk, only the
        admin user connects); `ctx`: the hosting station's, certified at start."""
        self.server = server
        self.org = org
        self._secrets = secrets
        self._ctx = ctx
        self.desk: EnrolmentDesk | None = None
        self.announcer: HubAnnouncer | None = None

    def start(self) -> None:
        self.server.start()
        log.info("hosting the venue hub at %s", self.server.target.public_url())
        if self._secrets is not None:
            authority = OrgAuthority(self._secrets)
            desk = EnrolmentDesk(self.server, authority, self.org)
            try:
                desk.start()
            except (OSError, TimeoutError, SessionEnded, nats.errors.Error) as exc:
                # The hub and the doors enrolled already keep working; new doors cannot join.
                log.warning("the hub runs but cannot enrol new stations (%s); restart this "
                            "station to try again", exc)
            else:
                self.desk = desk
                self.org = desk.org  # the one the hub serves (its first station's, maybe)
                if self._ctx is not None:
                    certify_self(self._ctx, authority, self.org)
        if self.server.lan:
            self.announcer = HubAnnouncer(self.server.target.host, self.server.port, self.org)
            try:
                self.announcer.start()
            except OSError as exc:  # no multicast here: the hub works, unannounced
                log.warning("could not announce the hub on the LAN: %s", exc)
                self.announcer = None

    def stop(self) -> None:
        if self.announcer is not None:
            self.announcer.stop()
        if self.desk is not None:
            self.desk.stop()
        self.server.stop()
