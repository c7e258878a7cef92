"""Names and set-up of what the organisation keeps on the hub: one stream, three KV buckets.

Subjects are `station.<org>.events.<station_id>`; the stream `STATION_<org>` holds every
station's log (the history a new station downloads). Buckets: `claims` (strict single use),
`keys` (the organisation's public keys), `stations` (names and heads of logs), `removed`
(stations removed from the organisation, docs/sync-trust.md). The
organisation itself is whatever the first station to reach an empty hub wrote in `station_meta`;
a station that belongs to another one stops there (membership.py), before any of these is made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, RetentionPolicy, StorageType, StreamConfig
from nats.js.kv import KeyValue

from station.net.sync.binary import MIN_VERSION_TEXT, parse_version, too_old, version_text
from station.net.sync.ended import HubUnsuitable

META_BUCKET = "station_meta"
ORG_KEY = "org"
# How NATS marks a key that was deleted or purged (ADR-8; the marker header is 2.11's).
_KV_OPERATION, _KV_REMOVED, _KV_MARKER = "KV-Operation", ("DEL", "PURGE"), "Nats-Marker-Reason"


@dataclass(frozen=True, slots=True)
class OrgSpace:
    org: str

    @property
    def stream(self) -> str:
        return f"STATION_{self.org}"

    @property
    def all_events(self) -> str:
        return f"station.{self.org}.events.>"

    def events_of(self, station_id: str) -> str:
        return f"station.{self.org}.events.{station_id}"

    def bucket(self, name: str) -> str:
        return f"station_{self.org}_{name}"


@dataclass
class Handles:
    space: OrgSpace
    stream_created: str
    claims: KeyValue
    keys: KeyValue
    stations: KeyValue
    removed: KeyValue  # stations the organisation removed, signed by its key (issue 15)
    js: JetStreamContext

    async def read(self, name: str) -> dict[str, bytes]:
        """The current values of one of the organisation's buckets ("keys", "stations", …)."""
        return await read_bucket(self.js, self.space.bucket(name))


def version_problem(server: str, version: str) -> str | None:
    """Why a hub reporting this version cannot be used (None: it can, or it did not say)."""
    parsed = None if "unknown" in version else parse_version(version)
    if too_old(parsed):
        assert parsed is not None
        return (f"The hub at {server} runs nats-server {version_text(parsed)}; stations need "
                f"{MIN_VERSION_TEXT} or newer: ask for it to be upgraded.")
    return None


async def check_server(nc: NATS, server: str, timeout: float = 5.0) -> None:
    """Refuse, in one sentence, a hub this station cannot work with: a nats-server older than
    the oldest tested one, or one without JetStream (Debian's default configuration has none),
    rather than failing later on an unexplained error."""
    problem = version_problem(server, str(nc.connected_server_version))
    if problem:
        raise HubUnsuitable(problem)
    try:
        await nc.jetstream(timeout=timeout).account_info()
    except (nats.errors.NoRespondersError, nats.js.errors.ServiceUnavailableError):
        raise HubUnsuitable(
            f"The NATS server at {server} has JetStream turned off; the station needs it "
            "(a `jetstream {}` block in the server's configuration).") from None


async def _bucket(js: JetStreamContext, name: str, history: int = 1) -> KeyValue:
    try:
        return await js.key_value(name)
    except (nats.js.errors.BucketNotFoundError, nats.js.errors.NotFoundError):
        pass
    try:
        return await js.create_key_value(KeyValueConfig(
            bucket=name, history=history, storage=StorageType.FILE))
    except nats.js.errors.BadRequestError:
        return await js.key_value(name)  # another station created it meanwhile


async def join_org(js: JetStreamContext, own_org: str) -> str:
    """The hub's organisation; an empty hub takes this station's (first claim wins). Nothing
    else is read or written: the caller decides whether to go on."""
    meta = await _bucket(js, META_BUCKET)
    # Read first: an enrolled station may read the organisation but not write it (its hub
    # made it before anybody enrolled).
    try:
        entry = await meta.get(ORG_KEY)
        if entry.value:
            return entry.value.decode()
    except nats.js.errors.KeyNotFoundError:
        pass
    try:
        await meta.create(ORG_KEY, own_org.encode())
        return own_org
    except nats.js.errors.KeyWrongLastSequenceError:
        entry = await meta.get(ORG_KEY)
        return (entry.value or b"").decode()


async def unsigned_until(js: JetStreamContext, space: OrgSpace) -> int:
    """The stream sequence up to which the organisation's events may be unsigned: where the
    stream stood when the first station that signs its events reached the hub (first one wins;
    services/event_trust.py)."""
    meta = await _bucket(js, META_BUCKET)
    key = f"{space.org}.unsigned_until"
    # Read first: an enrolled station may not write the bucket (its hub's enrolment desk
    # recorded the switch when it opened the organisation: enrol_desk.open_org).
    try:
        entry = await meta.get(key)
    except nats.js.errors.KeyNotFoundError:
        info = await js.stream_info(space.stream)
        try:
            await meta.create(key, str(int(info.state.last_seq or 0)).encode())
        except nats.js.errors.KeyWrongLastSequenceError:
            pass  # recorded meanwhile
        entry = await meta.get(key)
    try:
        return int((entry.value or b"").decode())
    except ValueError:
        return 0  # not a number: nothing is accepted unsigned


async def open_space(js: JetStreamContext, org: str) -> Handles:
    """The organisation's stream and buckets on the hub, made by whoever gets there first."""
    space = OrgSpace(org)
    config = StreamConfig(
        name=space.stream, subjects=[space.all_events], retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE, duplicate_window=120.0,
    )
    try:
        info = await js.stream_info(space.stream)
    except nats.js.errors.NotFoundError:
        try:
            info = await js.add_stream(config)
        except nats.js.errors.BadRequestError:
            info = await js.stream_info(space.stream)
    created = str(getattr(info, "created", None) or "")
    return Handles(
        space=space,
        stream_created=created,
        claims=await _bucket(js, space.bucket("claims")),
        keys=await _bucket(js, space.bucket("keys")),
        stations=await _bucket(js, space.bucket("stations")),
        removed=await _bucket(js, space.bucket("removed")),
        js=js,
    )


async def read_bucket(js: JetStreamContext, bucket: str) -> dict[str, bytes]:
    """All current values of a small bucket (keys, station names).

    The keys are the subjects the bucket's stream holds, not `KeyValue.keys()`: that watcher now
    and then says "no keys" for a bucket that has some (nats-py 2.16 on a busy machine:
    docs/measured-facts.md); the stream's state is what the hub has stored.
    """
    stream, prefix = f"KV_{bucket}", f"$KV.{bucket}."
    try:
        info = await js.stream_info(stream, subjects_filter=f"{prefix}>")
    except nats.js.errors.NotFoundError:
        return {}
    values: dict[str, bytes] = {}
    for subject in sorted(info.state.subjects or {}):
        try:
            msg = await js.get_last_msg(stream, subject)
        except nats.js.errors.NotFoundError:
            continue  # purged meanwhile
        headers = msg.headers or {}
        if headers.get(_KV_OPERATION) in _KV_REMOVED or _KV_MARKER in headers:
            continue  # deleted or purged: a marker, not a value
        if msg.data:
            values[subject[len(prefix):]] = msg.data
    return values


def json_or_none(raw: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None
