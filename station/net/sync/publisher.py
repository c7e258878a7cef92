"""Publishing this station's log to the hub: the SQLite log is the outbox.

A door records first and publishes when it can. Each event goes out with its id as
`Nats-Msg-Id`: a publish that timed out may have been stored, so it is retried with the same id
(the stream drops duplicates inside its window, every consumer after it by event id).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import nats.errors

from station.domain.events import Event
from station.domain.times import to_iso
from station.net.sync import wire
from station.net.sync.jetstream import OrgSpace
from station.net.sync.offload import finish_in_thread
from station.net.sync.progress import SyncProgress
from station.net.sync.sync_settings import SyncSettings

log = logging.getLogger(__name__)

Round = tuple[int, Event, str]  # local seq, the event (signed), its data's text as stored


class PublishLedger(Protocol):
    """What the publisher reads and writes of the store (store/sync.py SyncLedger)."""

    def unsent_texts(self, origins: Sequence[str], after_seq: int, limit: int = ...
                     ) -> list[tuple[int, Event, str]]: ...

    def published_seq(self, hub: str) -> int: ...

    def mark_published(self, hub: str, seq: int, at: str) -> None: ...


class Waker:
    """Wakes the publisher when this station records an event, from whichever thread did."""

    def __init__(self) -> None:
        self.event = asyncio.Event()  # made on the loop, set only there
        # Set by the recording thread once it has asked the loop to wake the publisher, so a
        # burst of scans costs one cross-thread wake-up, not one per event.
        self.asked = False

    def ask(self, call_soon: Callable[[Callable[[], Any]], Any]) -> None:
        """From any thread: `call_soon` runs a callable on the loop (AsyncRuntime.call_soon)."""
        if self.asked:
            return
        self.asked = True
        try:
            call_soon(self.event.set)
        except RuntimeError:  # the loop is already closed (shutting down)
            pass

    def reset(self) -> None:
        """Cleared before the log is read, so an event committed meanwhile still wakes us."""
        self.asked = False
        self.event.clear()


class Publisher:
    def __init__(self, js: Any, space: OrgSpace, ledger: PublishLedger, hub_key: str,
                 origins: Sequence[str], *, progress: SyncProgress, settings: SyncSettings,
                 waker: Waker, sign: Callable[[Sequence[Event], Sequence[str]], list[Event]]
                 ) -> None:
        """`sign`: a round's events (and their data texts) with their origin signature
        (services/event_trust.py)."""
        self._js = js
        self._space = space
        self._ledger = ledger
        self._hub_key = hub_key
        self._origins = list(origins)
        self._progress = progress
        self._settings = settings
        self._waker = waker
        self._sign = sign

    def published_seq(self) -> int:
        """In a thread: the last local seq the hub acknowledged (memory or checkpoint)."""
        return max(self._progress.published.get(self._hub_key, 0),
                   self._ledger.published_seq(self._hub_key))

    async def run(self) -> None:
        settings, waker, monotonic = self._settings, self._waker, self._progress.clock.monotonic
        published = await asyncio.to_thread(self.published_seq)
        saved = published
        saved_at = last_round = monotonic()
        # The next round, read and signed in a thread while this one's acknowledgements come
        # back (a full round: more is likely waiting).
        ahead: asyncio.Future[list[Round]] | None = None
        try:
            while True:
                waker.reset()
                if ahead is not None:
                    batch, ahead = await ahead, None
                    if not batch:
                        continue  # read before the reset above: read again, don't wait
                else:
                    batch = await asyncio.to_thread(self._unsent, published)
                if not batch:
                    timeout = settings.publish_idle_s
                    if published > saved:  # quiet now: checkpoint once the interval is up
                        timeout = saved_at + settings.checkpoint_interval_s - monotonic()
                        if timeout <= 0:
                            await self._checkpoint(published)
                            saved, saved_at = published, monotonic()
                            timeout = settings.publish_idle_s
                    try:
                        await asyncio.wait_for(waker.event.wait(), timeout)
                    except asyncio.TimeoutError:
                        continue
                    # At most one publishing round per `publish_linger_s`: an event after a
                    # quiet spell goes out at once, a burst of scans goes out in batches (one
                    # wake-up, one read, one round of acks each) instead of one round per scan,
                    # which fought the scanning thread for the GIL and halved its rate.
                    await asyncio.sleep(max(0.0, last_round + settings.publish_linger_s
                                            - monotonic()))
                    continue
                last_round = monotonic()
                if len(batch) >= settings.publish_batch:
                    ahead = asyncio.ensure_future(asyncio.to_thread(self._unsent, batch[-1][0]))
                if not await self._publish(batch):
                    if ahead is not None:  # read past what failed: read it again later
                        ahead.cancel()
                        ahead = None
                    await asyncio.sleep(0.5)
                    continue
                published = batch[-1][0]
                self._progress.published[self._hub_key] = published
                self._progress.synced()
                if monotonic() - saved_at >= settings.checkpoint_interval_s:
                    await self._checkpoint(published)
                    saved, saved_at = published, monotonic()
        finally:
            if ahead is not None:
                ahead.cancel()
            if published > saved:  # stopping or reconnecting: keep what the hub acknowledged
                await self._checkpoint(published)

    def _unsent(self, published: int) -> list[Round]:
        """In a thread: the next round to publish, signed (signing costs as much as reading)."""
        batch = self._ledger.unsent_texts(self._origins, published, self._settings.publish_batch)
        signed = self._sign([event for _, event, _ in batch], [text for _, _, text in batch])
        return [(seq, event, text) for (seq, _, text), event in zip(batch, signed, strict=True)]

    async def _publish(self, batch: list[Round]) -> bool:
        try:
            await asyncio.gather(*[
                self._js.publish(self._space.events_of(event.origin), wire.encode(event, text),
                                 headers={"Nats-Msg-Id": event.id})
                for _, event, text in batch
            ])
            return True
        except (nats.errors.Error, asyncio.TimeoutError, OSError) as exc:
            # A timed-out publish may still have been stored: retry the same ids (the stream
            # drops duplicates inside its window, every consumer after it).
            log.info("publishing %d events failed (%s); retrying", len(batch), exc)
            return False

    async def _checkpoint(self, published: int) -> None:
        at = to_iso(self._progress.last_sync or self._progress.clock.now())
        try:
            await finish_in_thread(self._ledger.mark_published, self._hub_key, published, at)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed checkpoint only means re-publishing (de-duplicated) later
            log.exception("saving the publish progress failed")
