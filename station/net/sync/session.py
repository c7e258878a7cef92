"""One connection to the hub: connect, check the server and the organisation, then run the
publisher, the follower and the announcer together until one of them fails.

A session never returns: it ends by raising a `SessionEnded` subclass (ended.py), and the
`SyncClient` decides what comes next. Its parts share nothing but the `SyncProgress` they
report through and the handles of the organisation's space.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import nats
import nats.errors
from nats.aio.client import Client as NATS

from station.net.sync import jetstream, membership
from station.net.sync.announcer import Announcer
from station.net.sync.batch_writer import BatchWriter
from station.net.sync.auth import is_auth_refusal
from station.net.sync.cancelling import cancel_and_wait, wait_out
from station.net.sync.claims import HubClaims
from station.net.sync.ended import SessionEnded, classify, first_cause
from station.net.sync.follower import Follower
from station.net.sync.hub_tls import (
    connect_hub,
    no_tls_sentence,
    tls_options,
    untrusted_sentence,
)
from station.net.sync.offload import finish_in_thread
from station.net.sync.prepare import Preparer
from station.net.sync.progress import SyncProgress
from station.net.sync.publisher import Publisher, Waker
from station.net.sync.resign import resign_once
from station.net.sync.sync_settings import SyncSettings
from station.net.sync.url import SyncTarget
from station.services.context import Context
from station.services.sync_apply import RemoteEventService
from station.store.sync import SyncLedger

log = logging.getLogger(__name__)

REFUSED = "The hub refused this station's credentials"
REFUSED_ERROR = REFUSED + ": check the sync URL (user and password) given to --sync."


@dataclass(frozen=True, slots=True)
class SessionParts:
    """What outlives a session: the SyncClient's, lent to each session in turn."""

    ctx: Context
    remote: RemoteEventService
    ledger: SyncLedger
    settings: SyncSettings
    progress: SyncProgress
    claims: HubClaims
    writer: BatchWriter
    preparer: Preparer
    waker: Waker
    known_origins: set[str]  # stations whose keys are here (see Announcer)
    origins: Callable[[], list[str]]  # the ids this station has recorded under


class HubSession:
    def __init__(self, target: SyncTarget, parts: SessionParts) -> None:
        self.target = target
        self._parts = parts
        self._nc: NATS | None = None
        self.follower: Follower | None = None

    async def run(self) -> NoReturn:
        try:
            await self._run()
            raise RuntimeError("the session's tasks returned")  # they loop until they fail
        except SessionEnded:
            raise
        except BaseExceptionGroup as group:  # from _together: what ended it, not the rest
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                # Stopping, and a part failed while it wound down: still a stop, not a retry.
                raise asyncio.CancelledError from group
            cause = first_cause(group)
            raise classify(cause) from cause
        except Exception as exc:
            raise classify(exc) from exc
        finally:
            self.follower = None
            self._parts.progress.set_connected(False)
            self._parts.claims.handles = None
            nc, self._nc = self._nc, None
            if nc is not None:
                # Closed whole even if cancelled again meanwhile (SyncClient cancels until the
                # session has ended): a close cut short can leave the socket open to the hub.
                closing = asyncio.ensure_future(_close(nc))
                await wait_out(closing)
                closing.result()

    async def _run(self) -> None:
        parts, target = self._parts, self.target
        settings, progress, store = parts.settings, parts.progress, parts.ctx.store
        # Over TLS only, and to the hub the join URL pins, checked before any credential is
        # sent (hub_tls.py).
        self._nc = nc = await connect_hub(
            target, await self._tls_options(), name=f"station {parts.ctx.station_id}",
            allow_reconnect=True, max_reconnect_attempts=-1,
            reconnect_time_wait=settings.reconnect_wait_s, connect_timeout=2,
            error_cb=self._on_error, disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )
        # Before counting as connected (done once the organisation is checked): an unusable hub
        # is reported as such, and claims keep deciding offline.
        await jetstream.check_server(nc, target.hub, settings.publish_timeout_s)
        js = nc.jetstream(timeout=settings.publish_timeout_s)
        # An empty hub (new, or wiped) takes the organisation this station has joined, else
        # the one it was created with; a hub of another organisation is refused right here,
        # before anything of ours is written to it or anything of its is read.
        joined = await asyncio.to_thread(membership.joined_org, store)
        hub_org = await jetstream.join_org(js, joined or str(store.setting("org_id") or "org"))
        await finish_in_thread(membership.join, store, target.hub, hub_org)
        progress.refusal = None
        progress.set_connected(True)
        handles = await jetstream.open_space(js, hub_org)
        space = handles.space
        progress.org = space.org
        hub_key = membership.hub_key(target.hub, space.org, handles.stream_created)
        progress.hub_key = hub_key
        await finish_in_thread(parts.ledger.carry_over, hub_key,
                               membership.same_stream(space.org, handles.stream_created))
        parts.claims.handles = handles
        # Events stored before the first station that signs came are accepted unsigned (kept
        # per stream: a hub wiped and started again is another stream).
        stream_id = membership.same_stream(space.org, handles.stream_created)
        trust = parts.remote.trust
        await asyncio.to_thread(trust.learn_unsigned_until, stream_id,
                                await jetstream.unsigned_until(js, space))
        switched_at = (await asyncio.to_thread(trust.snapshot, stream_id)).unsigned_until
        announcer = Announcer(parts.ctx, parts.remote, handles, head_of=parts.ledger.head_of,
                              known_origins=parts.known_origins,
                              interval_s=settings.announce_interval_s, clock=progress.clock)
        await announcer.exchange()
        await parts.claims.release_pending()
        publisher = Publisher(js, space, parts.ledger, hub_key, parts.origins(),
                              progress=progress, settings=settings, waker=parts.waker,
                              sign=parts.remote.trust.sign)
        self.follower = follower = Follower(
            js, space, parts.ctx.station_id, position=lambda: parts.ledger.stream_seq(hub_key),
            apply=parts.writer.for_hub(hub_key), progress=progress, settings=settings,
            preparer=parts.preparer, meet=announcer.meet, is_connected=lambda: nc.is_connected,
            trust=lambda: trust.snapshot(stream_id))
        tasks = [asyncio.create_task(publisher.run(), name="sync-publish"),
                 asyncio.create_task(follower.run(), name="sync-follow"),
                 asyncio.create_task(announcer.run(), name="sync-announce")]
        if switched_at is not None:  # once per stream: see resign.py
            tasks.append(asyncio.create_task(resign_once(
                js, space, parts.origins(), switched_at,
                done=lambda: trust.resigned(stream_id),
                mark_done=lambda: trust.mark_resigned(stream_id),
                events_by_ids=parts.ledger.events_by_ids, sign=trust.sign_each),
                name="sync-resign"))
        await _together(tasks)

    def _unreachable(self) -> str:
        return f"The hub at {self.target.hub} is unreachable; scanning goes on offline."

    async def _tls_options(self) -> dict[str, Any]:
        """hub_tls.tls_options, tried again quietly while the hub cannot be reached (as nats-py
        does itself once connected): an absent hub is a status, not a session that ended."""
        progress, wait_s = self._parts.progress, self._parts.settings.reconnect_wait_s
        while True:
            try:
                return await tls_options(self.target)
            except ssl.SSLError as exc:
                progress.error = no_tls_sentence(self.target)
                log.debug("TLS handshake with %s failed: %s", self.target.hub, exc)
            except (OSError, asyncio.TimeoutError) as exc:
                progress.error = self._unreachable()
                log.debug("hub %s unreachable: %s", self.target.hub, exc)
            await asyncio.sleep(wait_s)

    # --- nats-py's callbacks (on the loop) ---------------------------------------------------------
    async def _on_error(self, exc: Exception) -> None:
        progress = self._parts.progress
        if isinstance(exc, nats.errors.SlowConsumerError):
            # nats-py gives the ordered consumer a new sid at each reset and keeps it in `_id`.
            follower = self.follower
            inbox = follower.inbox if follower is not None else None
            if inbox is not None and exc.sid == getattr(inbox.subscription, "_id", None):
                # nats-py dropped one of our deliveries: follow again from what is stored.
                inbox.follow_again("a delivery was dropped")
            return
        text = str(exc)
        if is_auth_refusal(exc):
            progress.error = REFUSED_ERROR
        elif isinstance(exc, ssl.SSLCertVerificationError):
            progress.error = untrusted_sentence(self.target, exc)
        elif isinstance(exc, (OSError, nats.errors.NoServersError, asyncio.TimeoutError)):
            if progress.error is not None and progress.error.startswith(REFUSED):
                return  # the refusal is the reason; the failed reconnect that follows is not
            progress.error = self._unreachable()
        else:
            progress.error = f"Sync error: {text[:200]}"
        log.debug("nats: %s", text)

    async def _on_disconnected(self) -> None:
        self._parts.progress.set_connected(False)

    async def _on_reconnected(self) -> None:
        self._parts.progress.set_connected(True)
        if self.follower is not None:
            # Deliveries sent while we were away are lost, and a restarted hub has forgotten
            # the (in-memory) consumer: follow again from the stored position at once rather
            # than after nats-py notices missed heartbeats.
            self.follower.follow_again("reconnected")


async def _together(tasks: list[asyncio.Task[None]]) -> None:
    """Run the session's parts until one of them fails (one may return: sync-resign), then end
    them all; raise what failed first (in a BaseExceptionGroup, as asyncio.TaskGroup does).

    Not a TaskGroup: that cancels each part once, and a part that lost that cancellation
    (cancelling.py: Python 3.11's wait_for) kept the group, the session and its connection alive
    for good. `cancel_and_wait` cancels again until every part has ended."""
    done: set[asyncio.Task[None]] = set()
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        await cancel_and_wait(tasks)
    ended = [t for t in tasks if t in done] + [t for t in tasks if t not in done]
    errors = [exc for t in ended if not t.cancelled() and (exc := t.exception()) is not None]
    if errors:
        raise BaseExceptionGroup("the sync session's parts", errors)


async def _close(nc: NATS) -> None:
    try:
        await asyncio.wait_for(nc.close(), 5)
    except (asyncio.TimeoutError, nats.errors.Error, OSError, AttributeError):
        # AttributeError: nats-py flushing into a TLS transport asyncio has already torn down
        # (the hub went away first); the connection is gone either way.
        pass
