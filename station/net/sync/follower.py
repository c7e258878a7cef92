"""Following the organisation's stream from where this station's log says it got to.

The position (the stream sequence of the last message applied) commits in the same SQLite
transaction as the events, so it can never run ahead of what is stored: the consumer needs no
acks, and after a crash, a reconnect or a lost delivery it is simply followed again from that
position.

The stream is read through an ordered push consumer (nats-py checks each delivery's sequence
and re-creates the consumer after a gap; the server paces it with flow control). A pull
`fetch()` cost ~30 µs of Python per message in nats-py (a uuid, a task and a wait_for each), as
much as the whole bare consume loop; the push callback (inbox.py) only appends, and the messages
are decoded and applied in batches in a thread while the next ones arrive.

How a batch is written is not the follower's business: it is given an `apply` coroutine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import nats.errors
import nats.js.errors
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from station.domain.event_signature import EventTrust
from station.domain.events import Event
from station.net.sync import prepare
from station.net.sync.cancelling import wait_out
from station.net.sync.collector import FullPassesPause
from station.net.sync.inbox import Inbox
from station.net.sync.jetstream import OrgSpace
from station.net.sync.progress import SyncProgress
from station.net.sync.round_tops import HeldBack
from station.net.sync.sync_settings import SyncSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    events: list[Event]  # decoded, our own echoes left out
    texts: dict[str, str]  # event id -> its data encoded as the log stores it
    checked: bool  # the events passed check_event already (in the worker)
    folded: dict[str, tuple[Any, ...] | None]  # pass id -> row folded from this batch (prepare.py)
    signatures_checked: bool  # in the worker (what it refused: `refused`)
    before_switch: frozenset[str]  # ids of events the hub stored before signing was switched on
    refused: prepare.RefusedCounts
    own_subject: frozenset[str]  # ids of events that arrived on their origin's own subject
    stream_seq: int  # the position to store with it: its last message's stream sequence, or
    # the one before the first message held back (round_tops.py), so a restart delivers it again
    seen_seq: int  # stream sequence of the last message taken (held back ones included)
    count: int  # messages in the batch, echoes included
    echo_only: bool
    # The keys it was screened against in the worker, or is to be screened against when it is
    # applied (taken once per batch: another snapshot there read the same settings again).
    trust: EventTrust | None = None


# Writes a batch and its stream position in one transaction (downloading: the history).
Apply = Callable[[PreparedBatch, int, bool], Awaitable[None]]


def _before_switch(msgs: list[Msg], trust: EventTrust) -> prepare.BeforeSwitch:
    """Which messages the hub stored before signed events were switched on. Stream sequences
    rise through a batch, so only the one batch that straddles the switch is asked message by
    message (reading a message's metadata costs the loop thread a few µs)."""
    if trust.unsigned_until is None:
        return False
    if not trust.before_switch(msgs[0].metadata.sequence.stream):
        return False
    if trust.before_switch(msgs[-1].metadata.sequence.stream):
        return True
    return [trust.before_switch(m.metadata.sequence.stream) for m in msgs]


@dataclass
class _Cursor:
    stream: int  # stream sequence of the last message handled (applied, skipped or refused)
    saved_at: float = float("-inf")


class Follower:
    """One station's subscription to the organisation's stream, made again as often as needed."""

    def __init__(self, js: Any, space: OrgSpace, station_id: str, *,
                 position: Callable[[], int], apply: Apply, progress: SyncProgress,
                 settings: SyncSettings, preparer: prepare.Preparer,
                 meet: Callable[[set[str]], Awaitable[None]],
                 is_connected: Callable[[], bool], trust: Callable[[], EventTrust]) -> None:
        """`position`: the stored stream sequence (a blocking read, run in a thread); `meet`:
        called with the origins of a batch before it is decoded (to fetch a newcomer's keys);
        `trust`: what origin signatures are checked against (a blocking read)."""
        self._js = js
        self._space = space
        self._station_id = station_id
        self._position = position
        self._apply = apply
        self._progress = progress
        self._settings = settings
        self._preparer = preparer
        self._meet = meet
        self._is_connected = is_connected
        self._trust = trust
        self.inbox: Inbox | None = None  # the current subscription's (None between two)
        self.applying = False
        # No full collector passes while the history downloads (collector.py).
        self.full_passes = FullPassesPause()

    async def run(self) -> None:
        await self._drop_legacy_consumers()
        while True:
            await self.follow()

    def follow_again(self, why: str) -> None:
        """A delivery was lost or the connection came back: start again from the stored position."""
        inbox = self.inbox
        if inbox is not None:
            inbox.follow_again(why)

    async def _drop_legacy_consumers(self) -> None:
        # Earlier versions kept a durable pull consumer per station (explicit-ack, then no-ack);
        # the hub would keep them, and the messages they held, for nothing.
        for name in (f"station_{self._station_id}", f"sync_{self._station_id}"):
            try:
                await self._js.delete_consumer(self._space.stream, name)
            except (nats.js.errors.NotFoundError, nats.errors.Error, asyncio.TimeoutError):
                pass

    async def follow(self) -> None:
        """One subscription from the stored position; returns when it must be made again."""
        position = await asyncio.to_thread(self._position)
        inbox = Inbox(self._settings.inbox_limit)
        sub = await self._js.subscribe(
            self._space.all_events, stream=self._space.stream, cb=inbox.on_msg,
            ordered_consumer=True, idle_heartbeat=self._settings.heartbeat_s,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                  opt_start_seq=position + 1),
        )
        self.inbox = inbox
        inbox.subscription = sub
        try:
            await self._drain(inbox, position)
            log.info("following the hub's stream again from the stored position (%s)",
                     inbox.refollow)
        finally:
            if self.inbox is inbox:
                self.inbox = None
            inbox.close()
            self.full_passes.release()
            try:
                await sub.unsubscribe()
            except (nats.errors.Error, ValueError):
                pass

    async def _stream_head(self, position: int) -> int | None:
        """The history is what the stream held when we subscribed: in sync once everything up
        to its last sequence is applied (or after a quiet spell). A delivery's num_pending
        cannot say it: messages already pushed to us but still in flight no longer count."""
        progress = self._progress
        try:
            info = await self._js.stream_info(self._space.stream)
        except (nats.errors.Error, asyncio.TimeoutError):
            return None
        head = int(info.state.last_seq or 0)
        progress.remaining = max(0, head - position)
        if progress.remaining >= self._settings.worker_min_batch and not progress.caught_up:
            self._preparer.warm()
        return head

    async def _drain(self, inbox: Inbox, position: int) -> None:
        head = await self._stream_head(position)
        cursor = _Cursor(position)
        # A two-stage pipeline: while one batch is applied (in the writer thread, where SQLite's
        # C work runs without the GIL), the next is decoded in another thread and more messages
        # arrive on the loop. Batches are applied strictly in order.
        decoded: PreparedBatch | None = None
        held = HeldBack(self._settings.round_top_wait_s, self._space.events_of(self._station_id))
        while not inbox.refollow:
            if decoded is None:
                if not inbox.msgs:
                    inbox.arrived.clear()
                    try:
                        await asyncio.wait_for(inbox.arrived.wait(),
                                               self._settings.quiet_caught_up_s)
                    except asyncio.TimeoutError:
                        # Nothing for a while when connected: what the hub holds is here.
                        if self._is_connected():
                            self._mark_caught_up()
                        if held.expired(self._progress.clock.monotonic()):
                            decoded = await self._decode_next(inbox, held)
                    continue
                decoded = await self._decode_next(inbox, held)
                continue  # the inbox may have been dropped meanwhile (refollow)
            self.applying = True
            applying = asyncio.ensure_future(self._apply_batch(decoded, cursor))
            try:
                following = None
                if inbox.msgs:
                    following = await self._decode_next(inbox, held)
                await applying
            except BaseException:
                applying.cancel()  # the writer lets a started transaction finish first
                await wait_out(applying)
                raise
            finally:
                self.applying = False
            decoded = following
            done = cursor.stream >= head if head is not None else self._progress.remaining == 0
            if done and decoded is None and not inbox.msgs:
                self._mark_caught_up()

    def _mark_caught_up(self) -> None:
        progress = self._progress
        progress.remaining = 0
        progress.caught_up = True
        progress.synced()
        self._preparer.close()  # live batches are small: prepared in this process
        self.full_passes.release()

    def _batch_limit(self) -> int:
        # Downloading the history: up to `catch_up_batch` in one transaction (fewer fsyncs).
        # Once in sync, smaller batches so the door never waits long behind one.
        settings = self._settings
        return settings.fetch_batch if self._progress.caught_up else settings.catch_up_batch

    async def _decode_next(self, inbox: Inbox, held: HeldBack) -> PreparedBatch | None:
        """The next batch: what the inbox holds, less the events whose round's signed top has
        not arrived yet (held back for the next batch; round_tops.py). None: all held back."""
        msgs = held.take(inbox.take(self._batch_limit()), self._progress.clock.monotonic())
        if not msgs:
            return None
        return await self._decode(msgs, held.first_held(), held.last_seen)

    async def _decode(self, msgs: list[Msg], held_from: int | None = None,
                      seen: int = 0) -> PreparedBatch:
        """`held_from`: the stream sequence of the first message held back (the position stays
        before it); `seen`: the last sequence taken."""
        own_subject = self._space.events_of(self._station_id)
        prefix_len = len(self._space.events_of(""))
        # The subject names the publishing station: enough to notice a station we have not
        # heard of without decoding anything on the loop thread.
        await self._meet({m.subject[prefix_len:] for m in msgs})
        last = msgs[-1].metadata
        try:
            self._progress.remaining = int(last.num_pending or 0)
        except (ValueError, TypeError):
            pass
        # Our own events come back through the shared stream: they are in our log already (they
        # were published from it), so applying them would only take the writer away from
        # the door for nothing.
        kept = [m for m in msgs if m.subject != own_subject]
        trust: EventTrust | None = None
        if kept:
            trust, prepared = await self._prepare(kept, [m.subject[prefix_len:] for m in kept])
        else:
            prepared = prepare.Prepared([], {}, True, {}, signatures_checked=True)
        position = last.sequence.stream
        if held_from is not None:
            position = min(position, held_from - 1)
        return PreparedBatch(prepared.events, prepared.texts, prepared.checked, prepared.folded,
                             prepared.signatures_checked, prepared.before_switch,
                             prepared.refused, prepared.own_subject, position,
                             max(seen, last.sequence.stream), len(msgs),
                             echo_only=not kept, trust=trust)

    async def _prepare(self, kept: list[Msg], senders: list[str],
                       ) -> tuple[EventTrust, prepare.Prepared]:
        """The batch's trust snapshot (a blocking read), and its events decoded: in the worker
        process while the history downloads (see prepare.py), else in a thread: Python work
        done away from the writer thread, which the door shares. A live batch (every event
        another door records) takes one thread hop for both: each hop wakes the loop and a
        thread, whose GIL a scanning door then waits for."""
        data = [m.data for m in kept]
        preparer = self._preparer
        if not self._progress.caught_up and len(data) >= self._settings.worker_min_batch \
                and not preparer.broken:
            trust = await asyncio.to_thread(self._trust)
            before_switch = _before_switch(kept, trust)
            try:
                result = await asyncio.wrap_future(preparer.submit(data, before_switch, trust,
                                                                    senders))
                preparer.batches += 1
                return trust, await asyncio.to_thread(prepare.unpack, *result)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # no worker here (broken pool, no fork/exec): do it here
                log.warning("preparing synced events in a worker failed (%r); "
                            "preparing them in this process", exc)
                preparer.broken = True
                preparer.close()
            return trust, await asyncio.to_thread(prepare.prepare_here, data, before_switch,
                                                  senders)

        def here() -> tuple[EventTrust, prepare.Prepared]:
            trust = self._trust()
            return trust, prepare.prepare_here(data, _before_switch(kept, trust), senders)
        return await asyncio.to_thread(here)

    async def _apply_batch(self, batch: PreparedBatch, cursor: _Cursor) -> None:
        progress = self._progress
        monotonic = progress.clock.monotonic
        cursor.stream = batch.seen_seq
        if not progress.caught_up:
            self.full_passes.hold()
        if not batch.echo_only or (monotonic() - cursor.saved_at
                                   >= self._settings.checkpoint_interval_s):
            # Echo-only batches move the position at most once per checkpoint interval (a
            # restart then re-reads at most that many echoes, and skips them).
            await self._apply(batch, batch.stream_seq, not progress.caught_up)
            cursor.saved_at = monotonic()
        progress.applied += batch.count
        progress.synced()
