"""The station side of sync: publish our log, apply everybody else's, claim single-use passes.

Runs as tasks on the station's AsyncRuntime. Nothing here ever holds up a verdict: the SQLite
log is the outbox (a door records first and publishes when it can), and the only call a scan
makes into this module, `claim()`, returns OFFLINE after a short timeout.

Traps this code is written around (measured, see docs/measured-facts.md): `fetch()` can raise
a plain `asyncio.TimeoutError`; the stream de-duplicates by `Nats-Msg-Id` only inside its duplicate
window, so the consumer de-duplicates by event id too (insert-or-ignore); a publish that timed
out may have been stored, so it is retried with the same id; after a server kill the consumer
gets redeliveries, which the insert-or-ignore absorbs.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from station.domain import tokens
from station.domain.errors import InvalidInput, StationError
from station.domain.events import Event
from station.domain.sync_status import CatchUp, PeerStatus, SyncStatus
from station.domain.times import parse_iso, to_iso
from station.net.runtime import AsyncRuntime
from station.net.sync import jetstream, membership, prepare, wire
from station.net.sync.auth import is_auth_refusal
from station.net.sync.url import SyncTarget
from station.services.claims import Claim, ClaimState
from station.services.context import Context
from station.services.sync_apply import ApplyMode, RemoteBatch, RemoteEventService
from station.store import releases as releases_store
from station.store import sync as sync_store
from station.store.db import Tx
from station.store.sync import Peer, SyncLedger

log = logging.getLogger(__name__)

_REFUSED = "The hub refused this station's credentials"
UNREACHABLE_RED_S = 60.0  # the status bar turns red after this long without the hub
INACTIVE_CONSUMER_S = 300.0  # the hub forgets a station's consumer after this long unused
UNSUITABLE_RETRY_S = 10.0  # a hub too old or without JetStream is asked again this often


class _Inbox:
    """What the push subscription has delivered and the applier has not taken yet.

    Everything here runs on the loop thread. The callback only appends (the per-message Python
    cost is what bounds a catch-up); when `limit` messages wait, it waits for room, which holds
    back nats-py's delivery task and so the server's flow control: memory stays bounded."""

    def __init__(self, limit: int) -> None:
        self.msgs: list[Msg] = []
        self.limit = limit
        self.arrived = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.subscription: Any = None  # to tell our slow-consumer errors from others'
        # Why this subscription must be made again from the stored position (None: it need not).
        self.refollow: str | None = None

    async def on_msg(self, msg: Msg) -> None:
        self.msgs.append(msg)
        self.arrived.set()
        if len(self.msgs) >= self.limit:
            self._room.clear()
            await self._room.wait()

    def take(self, n: int) -> list[Msg]:
        taken = self.msgs[:n]
        del self.msgs[:n]
        if len(self.msgs) < self.limit:
            self._room.set()
        return taken

    def follow_again(self, why: str) -> None:
        """Drop what is buffered and start again from the stored position (a delivery may have
        been lost: nothing after it may be applied)."""
        self.refollow = why
        self.msgs.clear()
        self.arrived.set()
        self._room.set()

    def close(self) -> None:
        self.refollow = self.refollow or "closed"
        self.msgs.clear()
        self._room.set()


@dataclass(frozen=True, slots=True)
class _Batch:
    events: list[Event]  # decoded, our own echoes left out
    texts: dict[str, str]  # event id -> its data encoded as the log stores it
    checked: bool  # the events passed check_event already (in the worker)
    folded: dict[str, tuple[Any, ...] | None]  # pass id -> row folded from this batch (prepare.py)
    stream_seq: int  # stream sequence of the batch's last message
    count: int  # messages in the batch, echoes included
    echo_only: bool


@dataclass
class _Cursor:
    stream: int  # stream sequence of the last message handled (applied, skipped or refused)
    saved_at: float = 0.0


@dataclass(frozen=True, slots=True)
class SyncSettings:
    claim_timeout_s: float = 0.15
    publish_batch: int = 500
    fetch_batch: int = 500  # events per transaction once in sync
    # While downloading the history, what has already arrived is applied as one batch of up
    # to this many events (fewer worker round trips); services.sync_apply writes it in steps
    # that let the door's scans in between.
    catch_up_batch: int = 10000
    # A history batch at least this big is prepared in a worker process (prepare.py): below
    # it, starting the worker costs more than it saves.
    worker_min_batch: int = 1000
    # Messages delivered but not applied yet; beyond this the delivery waits (flow control).
    inbox_limit: int = 20000
    heartbeat_s: float = 5.0  # the ordered consumer's idle heartbeat (a silent hub is noticed)
    announce_interval_s: float = 2.0
    reconnect_wait_s: float = 1.0
    publish_timeout_s: float = 5.0
    # How often the publisher's progress is written to SQLite. Between two checkpoints it is
    # kept in memory only: a crash re-publishes at most this much, which is harmless (same
    # Nats-Msg-Id, and every consumer inserts-or-ignores by event id), while writing it after
    # every acknowledged batch cost the door one extra fsync'd transaction per scan.
    checkpoint_interval_s: float = 1.0
    publish_linger_s: float = 0.02


async def _finish_in_thread(func: Callable[..., Any], *args: Any) -> Any:
    """Run a store write in a thread; on cancellation let it finish (it commits or rolls back)
    before giving up, so stopping never leaves a thread calling into a closed loop."""
    future = asyncio.ensure_future(asyncio.to_thread(func, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait({future})
        raise


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SyncClient:
    """A Part (start/stop) that keeps one station in sync through a NATS JetStream hub."""

    def __init__(self, ctx: Context, remote: RemoteEventService, runtime: AsyncRuntime,
                 target: SyncTarget | None, settings: SyncSettings | None = None) -> None:
        """`target` None: no hub chosen yet (--sync auto looks for one; see retarget())."""
        self._ctx = ctx
        self._remote = remote
        self._runtime = runtime
        self.target = target
        self.settings = settings or SyncSettings()
        self._ledger = SyncLedger(ctx.store)
        self._future: concurrent.futures.Future[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._wake: asyncio.Event | None = None
        self._nc: NATS | None = None
        self._handles: jetstream.Handles | None = None
        self._hub_key: str | None = None
        self._lock = threading.Lock()
        self._retarget_lock = threading.Lock()
        # What status() reports; written on the loop thread, read from any thread.
        self._connected = False
        self._caught_up = False
        self._error: str | None = None
        self._applied = 0
        self._remaining = 0
        self._last_sync: datetime | None = None
        self._unreachable_since: float | None = time.monotonic()
        self._org: str | None = None
        self._keys_put: set[str] = set()
        self._known_origins: set[str] = {ctx.station_id}
        self._applying = False
        self._inbox: _Inbox | None = None
        self._preparer = prepare.Preparer()
        # The publisher's progress (local seq acknowledged by the hub), ahead of its checkpoint.
        self._published: dict[str, int] = {}
        # Set by the scanning thread when it has already asked the loop to wake the publisher,
        # so a burst of scans costs one cross-thread wake-up, not one per event.
        self._wake_asked = False
        # One round of giving back claims at a time (the undos' rows in store/releases.py).
        self._releasing: asyncio.Lock | None = None
        # Why this station will not sync with the hub it was given (another organisation's):
        # shown as the error until the station is restarted with another hub or data directory.
        self._refusal: str | None = None
        self._task: asyncio.Task[None] | None = None  # _main, on the loop

    # --- Part ------------------------------------------------------------------------------------
    def start(self) -> None:
        self._unsubscribe = self._ctx.bus.subscribe(self._on_local_event)
        if self.target is not None:
            self._future = self._runtime.submit(self._main())

    def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        with self._retarget_lock:
            self._end_main()
        self._preparer.close(wait=True)

    def retarget(self, target: SyncTarget) -> None:
        """Sync through `target` from now on: the hub found on the LAN, or found again at a new
        address. Called from a thread other than the loop's (it waits for the old session to
        end, as stop() does); what the old session had acknowledged is kept."""
        with self._retarget_lock:
            if self._unsubscribe is None:  # not started, or stopped meanwhile
                self.target = target
                return
            self._end_main()
            self.target = target
            self._error = None
            self._future = self._runtime.submit(self._main())

    def report(self, error: str | None) -> None:
        """A problem found while looking for the hub (--sync auto), shown while not connected."""
        if not self._connected:
            self._error = error

    def _end_main(self) -> None:
        future, self._future = self._future, None
        if future is not None and not future.done():
            # Cancelled and awaited on the loop: cancelling `future` itself returns at once,
            # before the task has saved the publisher's progress, and the runtime's shutdown
            # then cancelled that write too (lost on a slow disk: everything sent again).
            try:
                self._runtime.submit(self._cancel_main(future)).result(timeout=10)
            except (concurrent.futures.CancelledError, concurrent.futures.TimeoutError,
                    RuntimeError):
                pass
            try:
                future.result(timeout=0)
            except (concurrent.futures.CancelledError, concurrent.futures.TimeoutError):
                pass
            except Exception:
                log.exception("sync stopped with an error")

    async def _cancel_main(self, future: concurrent.futures.Future[None]) -> None:
        task = self._task
        if task is None:  # _main has not run yet: nothing to save
            future.cancel()
        elif not task.done():
            task.cancel()
            await asyncio.wait({task})

    def _on_local_event(self, event: Event) -> None:
        # On the publishing (scanning) thread: only wake the publisher and return. The event is
        # committed before this runs, and the publisher clears `_wake_asked` before it reads the
        # log, so skipping the call while a wake-up is outstanding never leaves an event behind.
        wake = self._wake
        if wake is None or self._wake_asked or event.origin != self._ctx.station_id:
            return
        self._wake_asked = True
        try:
            self._runtime.call_soon(wake.set)
        except RuntimeError:  # the loop is already closed (shutting down)
            pass

    # --- status ------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._connected

    def catch_up(self) -> CatchUp:
        return CatchUp(self._applied, self._remaining)

    @property
    def worker_batches(self) -> int:
        """History batches prepared in the worker process since this station started."""
        return self._preparer.batches

    def in_sync(self) -> bool:
        """Connected, the history downloaded, and nothing of ours left to send."""
        return self._connected and self._caught_up and self.pending() == 0

    def pending(self) -> int:
        hub_key = self._hub_key
        published = self._published_seq(hub_key) if hub_key else 0
        return self._ledger.count_unsent(self._origins(), published)

    def _published_seq(self, hub_key: str) -> int:
        return max(self._published.get(hub_key, 0), self._ledger.published_seq(hub_key))

    def status(self) -> SyncStatus:
        """What the status bar, the Integrations page and GET /api/v1/sync/status show.

        Cheap at any size (the GUI asks every 2 s): the state digest is `state_digest()`."""
        now = _utcnow()
        last = self._last_sync
        if last is None and self._hub_key:
            stored = self._ledger.last_sync_at(self._hub_key)
            last = parse_iso(stored) if stored else None
        since = self._unreachable_since
        unreachable_s = None if self._connected or since is None else time.monotonic() - since
        # One index probe per peer (head_of), not heads(): that groups the whole log, about
        # 100 ms at 1M events, and the status bar asks every 2 s.
        peers = tuple(
            PeerStatus(p.station_id, p.name, p.seen_at,
                       max(p.head_seq - self._ledger.head_of(p.station_id), 0))
            for p in self._ledger.peers()
        )
        target = self.target
        return SyncStatus(
            # None while --sync auto is still looking for the hub on the LAN.
            hub=target.hub if target is not None else None,
            url=target.public_url() if target is not None else None,
            organisation=self._org,
            connected=self._connected,
            in_sync=self.in_sync(),
            pending=self.pending(),
            last_sync_at=to_iso(last) if last else None,
            last_sync_ago_s=round((now - last).total_seconds(), 1) if last else None,
            unreachable_for_s=round(unreachable_s, 1) if unreachable_s is not None else None,
            alarm=unreachable_s is not None and unreachable_s > UNREACHABLE_RED_S,
            error=self._refusal or self._error,
            refused=self._refusal is not None,
            catch_up=self.catch_up(),
            peers=peers,
        )

    def state_digest(self) -> str:
        """Hash of the folded pass state (equal on stations holding the same events).

        Reads every pass row: asked for only where it is shown, never by the status bar."""
        return self._ledger.state_digest()

    # --- strict single use -------------------------------------------------------------------------
    def claim(self, pass_id: str) -> Claim:
        """Claim a single-use pass for this door; OFFLINE when the hub does not answer in time."""
        handles = self._handles
        if not self._connected or handles is None:
            return Claim(ClaimState.OFFLINE)
        if self._runtime.in_loop():
            # Waiting here would block the very loop that must answer: decide offline.
            log.warning("claim() called on the sync loop; deciding offline")
            return Claim(ClaimState.OFFLINE)
        future = self._runtime.submit(self._claim(handles, pass_id))
        try:
            return future.result(timeout=self.settings.claim_timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            return Claim(ClaimState.OFFLINE)
        except Exception:
            log.exception("claiming %s failed; deciding offline", pass_id)
            return Claim(ClaimState.OFFLINE)

    def release(self) -> None:
        """Give back this door's claims on single-use passes whose admissions were undone.

        Returns at once (the scanning thread never waits on the network). Each undo's own
        transaction recorded its release (store/releases.py): those rows, not arguments, say
        what to give back; the hub is told in the background now, or when this station next
        connects, even after a restart."""
        if self._connected and self._handles is not None:
            try:
                self._runtime.submit(self._release_pending())
            except RuntimeError:  # the loop is closed (shutting down)
                pass

    def unclaim(self, pass_id: str, claimed_at: str) -> None:
        """Give back a claim this door made for a scan it then could not record (nothing was
        admitted). Returns at once; best effort: with the hub unreachable the claim stays, as
        the disk that failed cannot hold a note to retry."""
        if self._connected and self._handles is not None:
            try:
                self._runtime.submit(self._unclaim(self._handles, pass_id, claimed_at))
            except RuntimeError:  # the loop is closed (shutting down)
                pass

    async def _unclaim(self, handles: jetstream.Handles, pass_id: str, claimed_at: str) -> None:
        try:
            await self._release(handles, pass_id, claimed_at)
        except (nats.errors.Error, asyncio.TimeoutError, OSError) as exc:
            log.info("giving back the claim on %s failed (%s)", pass_id, exc)

    async def _release_pending(self) -> None:
        """Give back every recorded claim; each row goes once the hub has been told."""
        if self._releasing is None:
            self._releasing = asyncio.Lock()
        async with self._releasing:
            handles = self._handles
            if handles is None:
                return
            pending = await asyncio.to_thread(releases_store.pending_releases, self._ctx.store)
            for pass_id, admitted_at in pending:
                try:
                    await self._release(handles, pass_id, admitted_at)
                except (nats.errors.Error, asyncio.TimeoutError, OSError) as exc:
                    log.info("giving back the claim on %s failed (%s); will retry", pass_id, exc)
                    return
                await _finish_in_thread(releases_store.release_done, self._ctx.store, pass_id,
                                        admitted_at)

    async def _release(self, handles: jetstream.Handles, pass_id: str, admitted_at: str) -> None:
        try:
            entry = await handles.claims.get(pass_id)
        except nats.js.errors.KeyNotFoundError:  # also a deleted key
            return
        holder = jetstream.json_or_none(entry.value or b"") or {}
        if str(holder.get("stationId") or "") not in self._origins():
            return  # another door holds it: its admission stands
        if str(holder.get("at") or "") > admitted_at:
            return  # this door admitted the guest again since: that claim stands
        try:
            await handles.claims.delete(pass_id, last=entry.revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            pass  # claimed again meanwhile

    async def _claim(self, handles: jetstream.Handles, pass_id: str) -> Claim:
        own = self._ctx.station_id
        at = to_iso(self._ctx.now())
        body = json.dumps({"stationId": own, "name": self._ctx.station_name, "at": at}).encode()
        try:
            await handles.claims.create(pass_id, body)
            return Claim(ClaimState.CLAIMED, own, self._ctx.station_name, at, fresh=True)
        except nats.js.errors.KeyWrongLastSequenceError:
            pass
        except (nats.errors.Error, asyncio.TimeoutError, OSError):
            return Claim(ClaimState.OFFLINE)
        try:
            entry = await handles.claims.get(pass_id)
        except (nats.errors.Error, asyncio.TimeoutError, OSError):
            return Claim(ClaimState.TAKEN)
        holder = jetstream.json_or_none(entry.value or b"") or {}
        holder_id = str(holder.get("stationId") or "")
        if holder_id == own:
            return Claim(ClaimState.CLAIMED, own, self._ctx.station_name)
        return Claim(ClaimState.TAKEN, holder_id or None, str(holder.get("name") or "") or None,
                     str(holder.get("at") or "") or None)

    # --- the connection ------------------------------------------------------------------------------
    def _origins(self) -> list[str]:
        previous = self._ctx.store.setting("previous_station_ids") or []
        return [self._ctx.station_id, *[str(p) for p in previous]]

    async def _main(self) -> None:
        self._task = asyncio.current_task()
        self._wake = asyncio.Event()
        await self._sessions()

    async def _sessions(self) -> None:
        target = self.target
        assert target is not None  # started only once a hub is chosen
        while True:
            nc: NATS | None = None
            retry_s = self.settings.reconnect_wait_s
            try:
                nc = await nats.connect(
                    servers=[target.server_url()],
                    user=target.user, password=target.password,
                    name=f"station {self._ctx.station_id}",
                    allow_reconnect=True, max_reconnect_attempts=-1,
                    reconnect_time_wait=self.settings.reconnect_wait_s, connect_timeout=2,
                    error_cb=self._on_error, disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
                self._nc = nc
                # Before counting as connected (the session does that once the organisation
                # is checked): an unusable hub is reported as such, and claims keep deciding
                # offline.
                await jetstream.check_server(nc, target.hub, self.settings.publish_timeout_s)
                await self._session(nc, target)
            except asyncio.CancelledError:
                raise
            except membership.OtherOrganisation as exc:
                # Final for this run: the hub's organisation does not change, and retrying could
                # only seed that hub with ours if its operator wipes it to start again.
                log.warning("%s", exc)
                self._refusal = str(exc)
                return
            except jetstream.HubUnsuitable as exc:
                log.warning("%s", exc)
                self._error = str(exc)
                retry_s = UNSUITABLE_RETRY_S
            except Exception as exc:  # a session ends on errors it cannot ride out: start again
                log.warning("sync session ended (%s); reconnecting", exc)
                self._error = f"Sync stopped: {exc}. Retrying."
            finally:
                self._set_connected(False)
                self._handles = None
                self._nc = None
                if nc is not None:
                    try:
                        await asyncio.wait_for(nc.close(), 5)
                    except (asyncio.TimeoutError, nats.errors.Error, OSError):
                        pass
            await asyncio.sleep(retry_s)

    async def _on_error(self, exc: Exception) -> None:
        inbox = self._inbox
        if isinstance(exc, nats.errors.SlowConsumerError):
            # nats-py gives the ordered consumer a new sid at each reset and keeps it in `_id`.
            if inbox is not None and exc.sid == getattr(inbox.subscription, "_id", None):
                # nats-py dropped one of our deliveries: follow again from what is stored.
                inbox.follow_again("a delivery was dropped")
            return
        text = str(exc)
        if is_auth_refusal(exc):
            self._error = (_REFUSED + ": check the sync URL "
                           "(user and password) given to --sync.")
        elif isinstance(exc, (OSError, nats.errors.NoServersError, asyncio.TimeoutError)):
            if self._error is not None and self._error.startswith(_REFUSED):
                return  # the refusal is the reason; the failed reconnect that follows is not
            hub = self.target.hub if self.target is not None else "?"
            self._error = f"The hub at {hub} is unreachable; scanning goes on offline."
        else:
            self._error = f"Sync error: {text[:200]}"
        log.debug("nats: %s", text)

    async def _on_disconnected(self) -> None:
        self._set_connected(False)

    async def _on_reconnected(self) -> None:
        self._set_connected(True)
        inbox = self._inbox
        if inbox is not None:
            # Deliveries sent while we were away are lost, and a restarted hub has forgotten
            # the (in-memory) consumer: follow again from the stored position at once rather
            # than after nats-py notices missed heartbeats.
            inbox.follow_again("reconnected")

    def _set_connected(self, connected: bool) -> None:
        with self._lock:
            if connected and not self._connected:
                self._unreachable_since = None
                self._error = None
            elif not connected and self._connected:
                self._unreachable_since = time.monotonic()
                self._caught_up = False
            self._connected = connected

    async def _session(self, nc: NATS, target: SyncTarget) -> None:
        js = nc.jetstream(timeout=self.settings.publish_timeout_s)
        store = self._ctx.store
        # An empty hub (new, or wiped) takes the organisation this station has joined, else
        # the one it was created with; a hub of another organisation is refused right here,
        # before anything of ours is written to it or anything of its is read.
        joined = await asyncio.to_thread(membership.joined_org, store)
        hub_org = await jetstream.join_org(js, joined or str(store.setting("org_id") or "org"))
        await _finish_in_thread(membership.join, store, target.hub, hub_org)
        self._refusal = None
        self._set_connected(True)
        handles = await jetstream.open_space(js, hub_org)
        self._org = handles.space.org
        self._hub_key = membership.hub_key(target.hub, handles.space.org, handles.stream_created)
        await _finish_in_thread(self._ledger.carry_over, self._hub_key,
                                membership.same_stream(handles.space.org, handles.stream_created))
        self._handles = handles
        self._keys_put = set()
        await self._exchange_org_info(handles)
        await self._release_pending()
        tasks = [
            asyncio.create_task(self._publish_loop(js, handles), name="sync-publish"),
            asyncio.create_task(self._consume_loop(js, handles), name="sync-consume"),
            asyncio.create_task(self._announce_loop(handles), name="sync-announce"),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # re-raise what ended the session
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- publishing our log --------------------------------------------------------------------------
    async def _publish_loop(self, js: JetStreamContext, handles: jetstream.Handles) -> None:
        assert self._wake is not None and self._hub_key is not None
        hub_key = self._hub_key
        origins = self._origins()
        published = await asyncio.to_thread(self._published_seq, hub_key)
        saved = published
        saved_at = last_round = time.monotonic()
        try:
            while True:
                # Cleared before reading, so an event committed meanwhile still wakes us at once.
                self._wake_asked = False
                self._wake.clear()
                batch = await asyncio.to_thread(self._ledger.unsent, origins, published,
                                                self.settings.publish_batch)
                if not batch:
                    timeout = 1.0
                    if published > saved:  # quiet now: checkpoint once the interval is up
                        timeout = saved_at + self.settings.checkpoint_interval_s - time.monotonic()
                        if timeout <= 0:
                            await self._checkpoint(hub_key, published)
                            saved, saved_at, timeout = published, time.monotonic(), 1.0
                    try:
                        await asyncio.wait_for(self._wake.wait(), timeout)
                    except asyncio.TimeoutError:
                        continue
                    # At most one publishing round per `publish_linger_s`: an event after a
                    # quiet spell goes out at once, a burst of scans goes out in batches (one
                    # wake-up, one read, one round of acks each) instead of one round per scan,
                    # which fought the scanning thread for the GIL and halved its rate.
                    await asyncio.sleep(max(0.0, last_round + self.settings.publish_linger_s
                                            - time.monotonic()))
                    continue
                last_round = time.monotonic()
                try:
                    await asyncio.gather(*[
                        js.publish(handles.space.events_of(event.origin), wire.encode(event),
                                   headers={"Nats-Msg-Id": event.id})
                        for _, event in batch
                    ])
                except (nats.errors.Error, asyncio.TimeoutError, OSError) as exc:
                    # A timed-out publish may still have been stored: retry the same ids (the
                    # stream drops duplicates inside its window, every consumer after it).
                    log.info("publishing %d events failed (%s); retrying", len(batch), exc)
                    await asyncio.sleep(0.5)
                    continue
                published = batch[-1][0]
                self._published[hub_key] = published
                self._last_sync = _utcnow()
                if time.monotonic() - saved_at >= self.settings.checkpoint_interval_s:
                    await self._checkpoint(hub_key, published)
                    saved, saved_at = published, time.monotonic()
        finally:
            if published > saved:  # stopping or reconnecting: keep what the hub acknowledged
                await self._checkpoint(hub_key, published)

    async def _checkpoint(self, hub_key: str, published: int) -> None:
        at = to_iso(self._last_sync or _utcnow())
        try:
            await _finish_in_thread(self._ledger.mark_published, hub_key, published, at)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed checkpoint only means re-publishing (de-duplicated) later
            log.exception("saving the publish progress failed")

    # --- applying everybody else's -------------------------------------------------------------------
    async def _consume_loop(self, js: JetStreamContext, handles: jetstream.Handles) -> None:
        """Follow the organisation's stream from where this station's log says it got to.

        The position (the stream sequence of the last message applied) commits in the same
        SQLite transaction as the events, so it can never run ahead of what is stored: the
        consumer needs no acks, and after a crash, a reconnect or a lost delivery it is simply
        followed again from that position.

        The stream is read through an ordered push consumer (nats-py checks each delivery's
        sequence and re-creates the consumer after a gap; the server paces it with flow
        control). A pull `fetch()` cost ~30 µs of Python per message in nats-py (a uuid, a
        task and a wait_for each), as much as the whole bare consume loop; the push callback
        below only appends, and the messages are decoded and applied in batches in a thread
        while the next ones arrive."""
        assert self._hub_key is not None
        hub_key = self._hub_key
        await self._drop_legacy_consumers(js, handles)
        while True:
            await self._follow(js, handles, hub_key)

    async def _drop_legacy_consumers(self, js: JetStreamContext, handles: jetstream.Handles
                                     ) -> None:
        # Earlier versions kept a durable pull consumer per station (explicit-ack, then no-ack);
        # the hub would keep them, and the messages they held, for nothing.
        for name in (f"station_{self._ctx.station_id}", f"sync_{self._ctx.station_id}"):
            try:
                await js.delete_consumer(handles.space.stream, name)
            except (nats.js.errors.NotFoundError, nats.errors.Error, asyncio.TimeoutError):
                pass

    async def _follow(self, js: JetStreamContext, handles: jetstream.Handles, hub_key: str) -> None:
        """One subscription from the stored position; returns when it must be made again."""
        position = await asyncio.to_thread(self._ledger.stream_seq, hub_key)
        inbox = _Inbox(self.settings.inbox_limit)
        sub = await js.subscribe(
            handles.space.all_events, stream=handles.space.stream, cb=inbox.on_msg,
            ordered_consumer=True, idle_heartbeat=self.settings.heartbeat_s,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                  opt_start_seq=position + 1),
        )
        self._inbox = inbox
        inbox.subscription = sub
        try:
            # The history is what the stream held when we subscribed: in sync once everything
            # up to its last sequence is applied (or after a second without deliveries). A
            # delivery's num_pending cannot say it: messages already pushed to us but still
            # in flight no longer count as pending.
            head: int | None = None
            try:
                info = await js.stream_info(handles.space.stream)
                head = int(info.state.last_seq or 0)
                self._remaining = max(0, head - position)
                if self._remaining >= self.settings.worker_min_batch and not self._caught_up:
                    self._preparer.warm()
            except (nats.errors.Error, asyncio.TimeoutError):
                pass
            cursor = _Cursor(position)
            # A two-stage pipeline: while one batch is applied (in the writer thread, where
            # SQLite's C work runs without the GIL), the next is decoded in another thread and
            # more messages arrive on the loop. Batches are applied strictly in order.
            decoded: _Batch | None = None
            while not inbox.refollow:
                if decoded is None:
                    if not inbox.msgs:
                        inbox.arrived.clear()
                        try:
                            await asyncio.wait_for(inbox.arrived.wait(), 1.0)
                        except asyncio.TimeoutError:
                            # Nothing for a second while connected: what the hub holds is here.
                            if self._nc is not None and self._nc.is_connected:
                                self._mark_caught_up()
                        continue
                    decoded = await self._decode(inbox.take(self._batch_limit()), handles)
                    continue  # the inbox may have been dropped meanwhile (refollow)
                self._applying = True
                applying = asyncio.ensure_future(self._apply_batch(decoded, hub_key, cursor))
                try:
                    following = None
                    if inbox.msgs:
                        following = await self._decode(inbox.take(self._batch_limit()), handles)
                    await applying
                except BaseException:
                    applying.cancel()  # _apply lets a started transaction finish first
                    await asyncio.wait({applying})
                    raise
                finally:
                    self._applying = False
                decoded = following
                done = cursor.stream >= head if head is not None else self._remaining == 0
                if done and decoded is None and not inbox.msgs:
                    self._mark_caught_up()
            log.info("following the hub's stream again from the stored position (%s)",
                     inbox.refollow)
        finally:
            if self._inbox is inbox:
                self._inbox = None
            inbox.close()
            try:
                await sub.unsubscribe()
            except (nats.errors.Error, ValueError):
                pass

    def _mark_caught_up(self) -> None:
        self._remaining = 0
        self._caught_up = True
        self._last_sync = _utcnow()
        self._preparer.close()  # live batches are small: prepared in this process

    def _batch_limit(self) -> int:
        # Downloading the history: up to `catch_up_batch` in one transaction (fewer fsyncs).
        # Once in sync, smaller batches so the door never waits long for the writer lock.
        return self.settings.fetch_batch if self._caught_up else self.settings.catch_up_batch

    async def _decode(self, msgs: list[Msg], handles: jetstream.Handles) -> _Batch:
        own_subject = handles.space.events_of(self._ctx.station_id)
        prefix_len = len(handles.space.events_of(""))
        # The subject names the publishing station: enough to notice a station we have not
        # heard of without decoding anything on the loop thread.
        origins = {m.subject[prefix_len:] for m in msgs}
        if origins - self._known_origins:
            # Fetch its public keys before its passes arrive, so its tokens verify here at once
            # (it put them before publishing).
            try:
                await self._exchange_org_info(handles)
            except (nats.errors.Error, asyncio.TimeoutError, OSError) as exc:
                log.debug("fetching keys failed (%s)", exc)
            self._known_origins |= origins
        last = msgs[-1].metadata
        try:
            self._remaining = int(last.num_pending or 0)
        except (ValueError, TypeError):
            pass
        # Our own events come back through the shared stream: they are in our log already (they
        # were published from it), so applying them would only take the writer lock away from
        # the door for nothing.
        data = [m.data for m in msgs if m.subject != own_subject]
        prepared = await self._prepare(data) if data else prepare.Prepared([], {}, True, {})
        return _Batch(prepared.events, prepared.texts, prepared.checked, prepared.folded,
                      last.sequence.stream, len(msgs), echo_only=not data)

    async def _prepare(self, data: list[bytes]) -> prepare.Prepared:
        """Decoded, in the worker process while the history downloads (see prepare.py), else
        in a thread: Python work done away from the writer, which holds the writer lock."""
        if not self._caught_up and len(data) >= self.settings.worker_min_batch \
                and not self._preparer.broken:
            try:
                result = await asyncio.wrap_future(self._preparer.submit(data))
                self._preparer.batches += 1
                return await asyncio.to_thread(prepare.unpack, *result)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # no worker here (broken pool, no fork/exec): do it here
                log.warning("preparing synced events in a worker failed (%r); "
                            "preparing them in this process", exc)
                self._preparer.broken = True
                self._preparer.close()
        return await asyncio.to_thread(prepare.prepare_here, data)

    async def _apply_batch(self, batch: _Batch, hub_key: str, cursor: _Cursor) -> None:
        cursor.stream = batch.stream_seq
        if not batch.echo_only or (time.monotonic() - cursor.saved_at
                                   >= self.settings.checkpoint_interval_s):
            # Echo-only batches move the position at most once per checkpoint interval (a
            # restart then re-reads at most that many echoes, and skips them).
            await self._apply(batch, hub_key)
            cursor.saved_at = time.monotonic()
        self._applied += batch.count
        self._last_sync = _utcnow()

    async def _apply(self, batch: _Batch, hub_key: str) -> None:
        while True:
            try:
                await _finish_in_thread(self._apply_events, batch, hub_key, not self._caught_up)
                return
            except StationError:
                raise
            except Exception:  # disk full, database locked: keep the batch and try again
                log.exception("applying %d synced events failed; retrying", len(batch.events))
                await asyncio.sleep(1.0)

    def _apply_events(self, batch: _Batch, hub_key: str, downloading: bool) -> None:
        """The batch and the stream position, as writer jobs (services.sync_apply decides the
        steps: while the history downloads, commits do not wait for the disk, and a power cut
        can only lose whole steps together with their position, downloaded again then)."""
        def record_position(tx: Tx) -> None:
            sync_store.set_stream_seq(tx, hub_key, batch.stream_seq)

        mode = ApplyMode.DOWNLOAD if downloading else ApplyMode.LIVE
        remote = RemoteBatch(batch.events, batch.texts, batch.checked, batch.folded)
        self._remote.apply_batch(remote, record_position, mode).result()

    # --- names and keys ---------------------------------------------------------------------------------
    async def _announce_loop(self, handles: jetstream.Handles) -> None:
        while True:
            await asyncio.sleep(self.settings.announce_interval_s)
            try:
                await self._exchange_org_info(handles)
            except (nats.errors.Error, asyncio.TimeoutError, OSError) as exc:
                log.debug("announcing failed (%s)", exc)

    async def _exchange_org_info(self, handles: jetstream.Handles) -> None:
        """Tell the hub our name, log head and public keys; learn everybody else's.

        Order matters, so that a station counted as known always has its keys here: keys are
        put before our entry in `stations`, `stations` is read before the keys, and origins
        count as known only once the keys read with them are trusted."""
        own = self._ctx.station_id
        for key in self._ctx.keys.trusted:
            kid = tokens.key_id(key)
            if kid not in self._keys_put:
                b64 = base64.b64encode(tokens.public_key_bytes(key)).decode()
                await handles.keys.put(kid, b64.encode())
                self._keys_put.add(kid)
        head = await asyncio.to_thread(self._ledger.head_of, own)
        me = {"name": self._ctx.station_name, "headSeq": head, "at": to_iso(_utcnow())}
        await handles.stations.put(own, json.dumps(me).encode())
        stations = await jetstream.read_bucket(handles.stations)
        keys = await jetstream.read_bucket(handles.keys)
        peers = []
        for station_id, raw in stations.items():
            info = jetstream.json_or_none(raw)
            if info is None or station_id == own:
                continue
            try:
                peers.append(Peer(station_id, str(info.get("name") or station_id),
                                  int(info.get("headSeq") or 0), str(info.get("at") or "")))
            except (TypeError, ValueError):
                continue
        await asyncio.to_thread(self._remote.learn_keys, [v.decode() for v in keys.values()])
        self._known_origins |= set(stations)
        await asyncio.to_thread(self._remote.learn_stations, peers)

    # --- for the CLI and tests -----------------------------------------------------------------------------
    def wait_in_sync(self, timeout: float, on_progress: Callable[[CatchUp], None] | None = None
                     ) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._refusal is None:
            if on_progress is not None:
                on_progress(self.catch_up())
            if self.in_sync():
                return True
            time.sleep(0.05)
        return False
