"""The station side of sync: publish our log, apply everybody else's, claim single-use passes.

`SyncClient` is the part the app wires: it starts and stops sync, retargets it to another hub,
reports its status and is the claims facade. Each connection to the hub is a `HubSession`
(session.py), whose publisher, follower and announcer run together until the session ends with
a typed `SessionEnded` (ended.py); this module decides what each ending means.

Runs as tasks on the station's AsyncRuntime. Nothing here ever holds up a verdict: the SQLite
log is the outbox (a door records first and publishes when it can), and the only call a scan
makes into this module, `claim()`, returns OFFLINE after a short timeout.

Traps this code is written around (measured, see docs/measured-facts.md): `fetch()` can raise
a plain `asyncio.TimeoutError`; the stream de-duplicates by `Nats-Msg-Id` only inside its duplicate
window, so the consumer de-duplicates by event id too (insert-or-ignore); a publish that timed
out may have been stored, so it is retried with the same id; after a server kill the consumer
gets redeliveries, which the insert-or-ignore absorbs; on Python 3.11 one cancellation of a task
can be lost, so a session is cancelled again until it has ended (cancelling.py).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
import time
from collections.abc import Callable

import nats.errors

from station.domain.events import Event
from station.domain.sync_status import CatchUp, PeerStatus, SyncStatus
from station.domain.times import parse_iso, to_iso
from station.net.runtime import AsyncRuntime
from station.net.sync import prepare
from station.net.sync.batch_writer import BatchWriter
from station.net.sync.cancelling import cancel_and_wait
from station.net.sync.claims import HubClaims
from station.net.sync.hub_admin import HubAdmin
from station.net.sync.enrol import EnrolRefused, enrol, enrolled_as_another, is_join_url
from station.net.sync.ended import (
    AuthRefused,
    HubNotTrusted,
    HubUnsuitable,
    PlaintextRefused,
    SessionLost,
    WrongOrganisation,
)
from station.net.sync.progress import SyncProgress
from station.net.sync.publisher import Waker
from station.net.sync.session import REFUSED_ERROR, HubSession, SessionParts
from station.net.sync.sync_settings import SyncSettings
from station.net.sync.url import SyncTarget
from station.services.claims import Claim, ClaimState
from station.services.context import Context
from station.services.key_trust import KeyTrust
from station.services.sync_apply import RemoteEventService
from station.store.secrets import SecretStore
from station.store.sync import SyncLedger

log = logging.getLogger(__name__)

__all__ = ["SyncClient", "SyncSettings"]

UNREACHABLE_RED_S = 60.0  # the status bar turns red after this long without the hub
INACTIVE_CONSUMER_S = 300.0  # the hub forgets a station's consumer after this long unused
UNSUITABLE_RETRY_S = 10.0  # a hub too old or without JetStream is asked again this often
END_WAIT_S = 10.0  # stop() and retarget() wait this long for the session to end


class SyncClient:
    """A Part (start/stop) that keeps one station in sync through a NATS JetStream hub."""

    def __init__(self, ctx: Context, remote: RemoteEventService, runtime: AsyncRuntime,
                 target: SyncTarget | None, settings: SyncSettings | None = None,
                 secrets: SecretStore | None = None) -> None:
        """`target` None: no hub chosen yet (--sync auto looks for one; see retarget()).
        `secrets`: where the credential an enrolment brings is kept (a join URL as target)."""
        self._ctx = ctx
        self._secrets = secrets
        # The hosting station's hub's join URL and its enrolled doors (app.py sets them when
        # this station hosts the hub).
        self.hub_join_url: Callable[[], str | None] | None = None
        self.hub_admin: HubAdmin | None = None
        self._runtime = runtime
        self.target = target
        self.settings = settings or SyncSettings()
        self._ledger = SyncLedger(ctx.store)
        self._progress = SyncProgress()
        self._preparer = prepare.Preparer()
        self._claims = HubClaims(ctx, self._origins)
        self._writer = BatchWriter(remote)
        self._remote = remote
        self._known_origins: set[str] = {ctx.station_id}  # kept across sessions
        self._waker: Waker | None = None  # made on the loop by _main
        self._future: concurrent.futures.Future[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._retarget_lock = threading.Lock()
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
            self._progress.error = None
            self._future = self._runtime.submit(self._main())

    def report(self, error: str | None) -> None:
        """A problem found while looking for the hub (--sync auto), shown while not connected."""
        if not self._progress.connected:
            self._progress.error = error

    def _end_main(self) -> None:
        future, self._future = self._future, None
        if future is not None and not future.done():
            # Cancelled and awaited on the loop: cancelling `future` itself returns at once,
            # before the task has saved the publisher's progress, and the runtime's shutdown
            # then cancelled that write too (lost on a slow disk: everything sent again).
            try:
                self._runtime.submit(self._cancel_main(future)).result(timeout=END_WAIT_S)
            except concurrent.futures.TimeoutError:
                # _cancel_main goes on cancelling it on the loop, and a session started after
                # this one waits for it to end first (_main): never two at once.
                log.error("the sync session did not end within %.0f s; still ending it",
                          END_WAIT_S)
            except (concurrent.futures.CancelledError, RuntimeError):
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
            # Cancelled again until it has ended: one cancellation can be lost (a part that
            # lost it kept the session, and its connection, alive after a retarget), see
            # cancelling.py.
            await cancel_and_wait({task})

    def _on_local_event(self, event: Event) -> None:
        # On the publishing (scanning) thread: only wake the publisher and return. The event is
        # committed before this runs, and the publisher resets the waker before it reads the
        # log, so skipping the call while a wake-up is outstanding never leaves an event behind.
        waker = self._waker
        if waker is not None and event.origin == self._ctx.station_id:
            waker.ask(self._runtime.call_soon)

    def join_url(self) -> str | None:
        """The URL another door joins with: the hosted hub's join URL, or the join URL this
        station was given while it has not enrolled yet. None once enrolled elsewhere: its
        target is its own credential, which must never be handed on."""
        if self.hub_join_url is not None:
            return self.hub_join_url()
        target = self.target
        if target is not None and is_join_url(target) and target.password:
            return target.full_url()
        return None

    # --- status ------------------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return self._progress.connected

    def catch_up(self) -> CatchUp:
        return CatchUp(self._progress.applied, self._progress.remaining)

    @property
    def worker_batches(self) -> int:
        """History batches prepared in the worker process since this station started."""
        return self._preparer.batches

    def in_sync(self) -> bool:
        """Connected, the history downloaded, and nothing of ours left to send."""
        progress = self._progress
        return progress.connected and progress.caught_up and self.pending() == 0

    def pending(self) -> int:
        hub_key = self._progress.hub_key
        published = 0
        if hub_key:
            published = max(self._progress.published.get(hub_key, 0),
                            self._ledger.published_seq(hub_key))
        return self._ledger.count_unsent(self._origins(), published)

    def status(self) -> SyncStatus:
        """What the status bar, the Integrations page and GET /api/v1/sync/status show.

        Cheap at any size (the GUI asks every 2 s): the state digest is `state_digest()`."""
        progress = self._progress
        now = progress.clock.now()
        last = progress.last_sync
        hub_key = progress.hub_key
        if last is None and hub_key:
            stored = self._ledger.last_sync_at(hub_key)
            last = parse_iso(stored) if stored else None
        connected, since = progress.connected, progress.unreachable_since
        unreachable_s = None if connected or since is None else progress.clock.monotonic() - since
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
            organisation=progress.org,
            connected=connected,
            in_sync=self.in_sync(),
            pending=self.pending(),
            last_sync_at=to_iso(last) if last else None,
            last_sync_ago_s=round((now - last).total_seconds(), 1) if last else None,
            unreachable_for_s=round(unreachable_s, 1) if unreachable_s is not None else None,
            alarm=unreachable_s is not None and unreachable_s > UNREACHABLE_RED_S,
            error=progress.refusal or progress.error,
            refused=progress.refusal is not None,
            catch_up=self.catch_up(),
            peers=peers,
            trust_note=self._trust_note(target),
        )

    def _trust_note(self, target: SyncTarget | None) -> str | None:
        """The migration note, read from what this station trusts now. Never a copy kept from
        a session's start: after a retarget the old session may still count as connected while
        the new one has already enrolled (a stale note showed on an enrolled door)."""
        if target is None or is_join_url(target):
            return None  # no hub chosen yet, or enrolling: nothing is trusted from it yet
        return KeyTrust(self._ctx).migration_note()

    def state_digest(self) -> str:
        """Hash of the folded pass state (equal on stations holding the same events).

        Reads every pass row: asked for only where it is shown, never by the status bar."""
        return self._ledger.state_digest()

    # --- strict single use -------------------------------------------------------------------------
    def claim(self, pass_id: str) -> Claim:
        """Claim a single-use pass for this door; OFFLINE when the hub does not answer in time."""
        handles = self._claims.handles
        if not self._progress.connected or handles is None:
            return Claim(ClaimState.OFFLINE)
        if self._runtime.in_loop():
            # Waiting here would block the very loop that must answer: decide offline.
            log.warning("claim() called on the sync loop; deciding offline")
            return Claim(ClaimState.OFFLINE)
        try:
            name = self._ctx.station_name  # here, not on the loop (HubClaims.claim)
            future = self._runtime.submit(self._claims.claim(handles, pass_id, name))
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
        if self._progress.connected and self._claims.handles is not None:
            try:
                self._runtime.submit(self._claims.release_pending())
            except RuntimeError:  # the loop is closed (shutting down)
                pass

    def unclaim(self, pass_id: str, claimed_at: str) -> None:
        """Give back a claim this door made for a scan it then could not record (nothing was
        admitted). Returns at once; best effort: with the hub unreachable the claim stays, as
        the disk that failed cannot hold a note to retry."""
        handles = self._claims.handles
        if self._progress.connected and handles is not None:
            try:
                self._runtime.submit(self._claims.unclaim(handles, pass_id, claimed_at))
            except RuntimeError:  # the loop is closed (shutting down)
                pass

    # --- the sessions ----------------------------------------------------------------------------------
    def _origins(self) -> list[str]:
        previous = self._ctx.store.setting("previous_station_ids") or []
        return [self._ctx.station_id, *[str(p) for p in previous]]

    async def _main(self) -> None:
        previous, self._task = self._task, asyncio.current_task()
        if previous is not None and not previous.done():
            # _end_main gave up waiting for the last session (logged), which is still being
            # ended: this one starts after it, so it never shares the progress with a live one.
            await asyncio.wait({previous})
        self._waker = Waker()
        await self._sessions()

    async def _enrolled(self, target: SyncTarget) -> SyncTarget | None:
        """This station's own target, enrolling first when `target` is a join URL (retried
        while the hub cannot be reached); None when the hub refused (final for this run)."""
        progress = self._progress
        copied = await asyncio.to_thread(enrolled_as_another, self._ctx, target)
        if copied:
            log.warning("%s", copied)
            progress.error = copied
            return None
        while is_join_url(target) and self._secrets is not None:
            try:
                own = await enrol(target, self._ctx, self._secrets)
                self.target = own
                return own
            except EnrolRefused as exc:
                log.warning("%s", exc)
                progress.error = str(exc)
                return None
            except (HubNotTrusted, HubUnsuitable) as exc:
                log.warning("%s", exc)
                progress.error = str(exc)
            except (OSError, asyncio.TimeoutError, nats.errors.Error) as exc:
                log.info("enrolling with %s failed (%s); retrying", target.hub, exc)
                progress.error = (f"The hub at {target.hub} is unreachable; this station enrols "
                                  "when it answers, scanning goes on offline.")
            await asyncio.sleep(UNSUITABLE_RETRY_S)
        return target

    async def _sessions(self) -> None:
        assert self.target is not None and self._waker is not None  # started once chosen
        target = await self._enrolled(self.target)
        if target is None:
            return
        note = await asyncio.to_thread(KeyTrust(self._ctx).migration_note)
        if note:
            log.info("%s", note)  # the window's Sync section says it too (status())
        parts = SessionParts(self._ctx, self._remote, self._ledger, self.settings,
                             self._progress, self._claims, self._writer, self._preparer,
                             self._waker, self._known_origins, self._origins)
        progress = self._progress
        while True:
            retry_s = self.settings.reconnect_wait_s
            try:
                await HubSession(target, parts).run()
            except WrongOrganisation as exc:
                # Final for this run: the hub's organisation does not change, and retrying could
                # only seed that hub with ours if its operator wipes it to start again.
                log.warning("%s", exc)
                progress.refusal = str(exc)
                return
            except PlaintextRefused as exc:
                # Final for this run: a person has to paste the hub's current join URL.
                log.warning("%s", exc)
                progress.error = str(exc)
                return
            except (HubUnsuitable, HubNotTrusted) as exc:
                log.warning("%s", exc)
                progress.error = str(exc)
                retry_s = UNSUITABLE_RETRY_S
            except AuthRefused as exc:
                log.warning("sync session ended (%s); reconnecting", exc)
                progress.error = REFUSED_ERROR
            except SessionLost as exc:  # errors a session cannot ride out: start again
                log.warning("sync session ended (%s); reconnecting", exc)
                progress.error = f"Sync stopped: {exc}. Retrying."
            await asyncio.sleep(retry_s)

    # --- for the CLI and tests -----------------------------------------------------------------------------
    def wait_in_sync(self, timeout: float, on_progress: Callable[[CatchUp], None] | None = None
                     ) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._progress.refusal is None:
            if on_progress is not None:
                on_progress(self.catch_up())
            if self.in_sync():
                return True
            time.sleep(0.05)
        return False
