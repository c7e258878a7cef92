"""Who may do what on the hub: the `authorization` block of nats-server's configuration.

Three kinds of user (docs/sync-trust.md):
- the hub's own admin user (HUB_USER, the hub password): everything; the enrolment desk and the
  station hosting the hub use it;
- `enrol` (the join secret): may only ask the enrolment desk, and read replies on its own inbox
  prefix, so it cannot read what stations are sent on theirs;
- one user per enrolled station (its id; a password only it knows, bcrypt here): publish on its
  own event subject, write its own entries in `keys` and `stations`, claim passes, read the
  stream and the buckets through the JetStream API; no stream or bucket create, delete or purge.
"""

from __future__ import annotations

import json

from station.net.sync.jetstream import META_BUCKET, OrgSpace
from station.net.sync.registry import Enrolled

ENROL_USER = "enrol"
ENROL_SUBJECT = "station_hub.enrol"
ENROL_INBOX = "_INBOX_enrol"  # the enrolling station's reply subjects (nats-py inbox_prefix)
BUCKETS = ("claims", "keys", "stations", "removed")


def _quote(text: str) -> str:
    # JSON strings are valid nats-server config strings (quoted: a bare `$` would be a variable).
    return json.dumps(text)


def _list(items: list[str]) -> str:
    return "[" + ", ".join(_quote(i) for i in items) + "]"


def streams_read(space: OrgSpace) -> list[str]:
    return [space.stream, *(f"KV_{space.bucket(b)}" for b in BUCKETS), f"KV_{META_BUCKET}"]


def station_publish(org: str, station_id: str) -> list[str]:
    """The subjects an enrolled station may publish on (JetStream API calls are publishes)."""
    space = OrgSpace(org)
    allowed = [space.events_of(station_id), "$JS.API.INFO"]
    for stream in streams_read(space):
        allowed += [
            f"$JS.API.STREAM.INFO.{stream}",
            f"$JS.API.CONSUMER.CREATE.{stream}", f"$JS.API.CONSUMER.CREATE.{stream}.>",
            f"$JS.API.CONSUMER.INFO.{stream}.>", f"$JS.API.CONSUMER.MSG.NEXT.{stream}.>",
            f"$JS.API.DIRECT.GET.{stream}", f"$JS.API.DIRECT.GET.{stream}.>",
            f"$JS.API.STREAM.MSG.GET.{stream}",
            f"$JS.ACK.{stream}.>", f"$JS.FC.{stream}.>",
        ]
    # Its own legacy durable consumers only (the follower drops them, see follower.py).
    allowed += [f"$JS.API.CONSUMER.DELETE.{space.stream}.station_{station_id}",
                f"$JS.API.CONSUMER.DELETE.{space.stream}.sync_{station_id}"]
    # Claims: any pass (claiming is a door's job; a claim names its station). Keys and
    # stations: its own entry only. Removals and the organisation: read only.
    allowed += [f"$KV.{space.bucket('claims')}.>",
                f"$KV.{space.bucket('keys')}.{station_id}",
                f"$KV.{space.bucket('stations')}.{station_id}"]
    return allowed


def _user(name: str, password_hash: str, permissions: str | None = None) -> str:
    perms = f", permissions: {permissions}" if permissions else ""
    return f"    {{user: {_quote(name)}, password: {_quote(password_hash)}{perms}}}"


def authorization(admin_user: str, admin_hash: str, join_hash: str | None,
                  stations: list[Enrolled]) -> str:
    """The config block; only bcrypt hashes are written, never a password."""
    users = [_user(admin_user, admin_hash)]
    if join_hash:
        users.append(_user(ENROL_USER, join_hash,
                           f"{{publish: {{allow: {_list([ENROL_SUBJECT])}}}, "
                           f"subscribe: {{allow: {_list([ENROL_INBOX + '.>'])}}}}}"))
    for s in stations:
        users.append(_user(s.station_id, s.password_hash,
                           f"{{publish: {{allow: {_list(station_publish(s.org, s.station_id))}}}, "
                           f"subscribe: {{allow: {_list(['_INBOX.>'])}}}}}"))
    return "authorization {\n  users: [\n" + "\n".join(users) + "\n  ]\n}"
