"""The sync client's parts on their own: publisher, follower, inbox and how a session ends.

No nats-server here: a fake JetStream (tests/sync/fake_jetstream.py) records publishes and
delivers messages when the test says, and time moves only when the test moves it. The
end-to-end tests beside this file run the same parts against a real nats-server."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from types import SimpleNamespace
from typing import Any

import nats
import nats.errors
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.domain.event_signature import EventTrust, sign_event, verifies
from station.domain.events import Event
from station.net.sync import collector, prepare, wire
from station.net.sync.claims import HubClaims
from station.net.sync.ended import (AuthRefused, HubNotTrusted, HubUnsuitable, SessionLost,
                                    WrongOrganisation, classify, first_cause)
from station.net.sync.follower import Follower, PreparedBatch
from station.net.sync.inbox import Inbox
from station.net.sync.membership import OtherOrganisation
from station.net.sync.progress import SyncProgress
from station.net.sync.publisher import Publisher, Waker
from station.net.sync import session as session_module
from station.net.sync.session import HubSession, SessionParts
from station.net.sync.sync_settings import SyncSettings
from station.net.sync.url import SyncTarget
from tests.sync.fake_jetstream import (SPACE, FakeJetStream, FakeLedger, ManualTime, event,
                                       eventually, manual_clock, message)

HUB = "hub|org|created"
ME, OTHER = "me", "other"


def run(coro: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(coro())


async def stopped(task: asyncio.Task[Any]) -> None:
    task.cancel()
    await asyncio.wait({task})


# --- publisher ------------------------------------------------------------------------------------
def _publisher(js: FakeJetStream, ledger: FakeLedger, **settings: Any
               ) -> tuple[Publisher, Waker, SyncProgress, ManualTime]:
    clock, mono = manual_clock()
    progress = SyncProgress(clock)
    waker = Waker()
    # publish_idle_s: the log is read again only when woken (the tests wake it, or not).
    publisher = Publisher(js, SPACE, ledger, HUB, [ME], progress=progress, waker=waker,
                          settings=SyncSettings(**{"publish_idle_s": 3600.0, **settings}),
                          sign=_sign)
    return publisher, waker, progress, mono


KEY = Ed25519PrivateKey.generate()


def _sign(events: Sequence[Event], texts: Sequence[str] | None = None) -> list[Event]:
    return [dataclasses.replace(e, sig=sign_event(KEY, e)) for e in events]


def test_the_publisher_sends_unsent_events_in_order_with_their_ids() -> None:
    async def main() -> None:
        js = FakeJetStream()
        ledger = FakeLedger([event(ME, 1), event(OTHER, 1), event(ME, 2), event(ME, 3)])
        ledger.saved[HUB] = 0
        publisher, _, progress, _ = _publisher(js, ledger)
        task = asyncio.create_task(publisher.run())
        await eventually(lambda: len(js.stored) == 3, "three events published")
        assert [msg_id for _, _, msg_id in js.stored] == ["me-1", "me-2", "me-3"]
        assert {subject for subject, _, _ in js.stored} == {SPACE.events_of(ME)}
        # Each carries the station's signature over the event as it was recorded.
        sent = [wire.decode(data) for _, data, _ in js.stored]
        assert all(verifies(e, (KEY.public_key(),)) for e in sent)
        assert [dataclasses.replace(e, sig=None) for e in sent] == \
            [e for e in ledger.log if e.origin == ME]
        # The progress is saved after the acks, in a thread: wait for it, do not race it.
        await eventually(lambda: progress.published.get(HUB) == 4, "the progress saved")
        assert progress.published[HUB] == 4  # the local seq of the last one acknowledged
        await stopped(task)
    run(main)


def test_a_timed_out_publish_is_retried_with_the_same_ids() -> None:
    async def main() -> None:
        js = FakeJetStream(timeouts=1)
        ledger = FakeLedger([event(ME, 1), event(ME, 2)])
        publisher, _, _, _ = _publisher(js, ledger)
        task = asyncio.create_task(publisher.run())
        await eventually(lambda: {m for _, _, m in js.stored} == {"me-1", "me-2"}, "a retry")
        # The first round's first publish timed out (perhaps stored after all): the whole
        # batch went again, under the same Nats-Msg-Id, for the stream to de-duplicate.
        assert js.attempts == ["me-1", "me-2", "me-1", "me-2"]
        await stopped(task)
    run(main)


def test_progress_is_checkpointed_at_most_once_per_interval_and_on_stop() -> None:
    async def main() -> None:
        js = FakeJetStream()
        ledger = FakeLedger([event(ME, 1)])
        publisher, waker, progress, mono = _publisher(js, ledger, checkpoint_interval_s=1.0,
                                                      publish_linger_s=0.0)
        task = asyncio.create_task(publisher.run())
        await eventually(lambda: progress.published.get(HUB) == 1, "the first event sent")
        ledger.log.append(event(ME, 2))
        waker.event.set()
        await eventually(lambda: progress.published.get(HUB) == 2, "the second event sent")
        assert ledger.checkpoints == []  # no time has passed: kept in memory only
        mono.advance(1.5)
        await publisher_woken(waker)
        await eventually(lambda: ledger.checkpoints == [(HUB, 2)], "one checkpoint")
        ledger.log.append(event(ME, 3))
        waker.event.set()
        await eventually(lambda: progress.published.get(HUB) == 3, "the third event sent")
        assert ledger.checkpoints == [(HUB, 2)]  # the interval has not passed again
        await stopped(task)
        assert ledger.checkpoints == [(HUB, 2), (HUB, 3)]  # stopping saves what was sent
    run(main)


async def publisher_woken(waker: Waker) -> None:
    waker.event.set()
    await asyncio.sleep(0)


class CountingLedger(FakeLedger):
    reads = 0

    def unsent(self, origins: Sequence[str], after_seq: int, limit: int = 500
               ) -> list[tuple[int, Event]]:
        self.reads += 1
        return super().unsent(origins, after_seq, limit)


def test_a_local_event_wakes_the_publisher() -> None:
    async def main() -> None:
        js = FakeJetStream()
        ledger = CountingLedger()
        publisher, waker, _, _ = _publisher(js, ledger, publish_linger_s=0.0)
        task = asyncio.create_task(publisher.run())
        # Read once and found nothing: without a wake-up it would read again in an hour.
        await eventually(lambda: ledger.reads == 1, "the first read")
        loop = asyncio.get_running_loop()

        def record() -> None:  # what a scanning thread does: commit, then ask for a wake-up
            ledger.log.append(event(ME, 1))
            waker.ask(loop.call_soon_threadsafe)
            waker.ask(loop.call_soon_threadsafe)  # a burst costs one wake-up
        thread = threading.Thread(target=record)
        thread.start()
        thread.join()
        await eventually(lambda: [m for _, _, m in js.stored] == ["me-1"], "the event sent")
        await stopped(task)
    run(main)


# --- follower -------------------------------------------------------------------------------------
class Applied:
    """The follower's injected `apply`: records each batch and stores its position, as the
    writer's one transaction does; `gate` holds a write back until the test opens it."""

    def __init__(self, ledger: FakeLedger) -> None:
        self.ledger = ledger
        self.batches: list[tuple[int, bool, list[str]]] = []  # stream seq, downloading, ids
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, batch: PreparedBatch, stream_seq: int, downloading: bool) -> None:
        await self.gate.wait()
        self.batches.append((stream_seq, downloading, [e.id for e in batch.events]))
        self.ledger.stream = stream_seq


def _follower(js: FakeJetStream, ledger: FakeLedger, **settings: Any
              ) -> tuple[Follower, Applied, SyncProgress, ManualTime, list[set[str]]]:
    clock, mono = manual_clock()
    progress = SyncProgress(clock)
    applied = Applied(ledger)
    met: list[set[str]] = []

    async def meet(origins: set[str]) -> None:
        met.append(origins)

    follower = Follower(
        js, SPACE, ME, position=lambda: ledger.stream, apply=applied, progress=progress,
        # quiet_caught_up_s: only the stream head says caught up here, not a quiet spell.
        settings=SyncSettings(**{"worker_min_batch": 10**9, "quiet_caught_up_s": 3600.0,
                                 **settings}),
        preparer=prepare.Preparer(), meet=meet, is_connected=lambda: True,
        trust=lambda: EventTrust({}, None))
    return follower, applied, progress, mono, met


async def deliver(js: FakeJetStream, *msgs: Any) -> None:
    for msg in msgs:
        await js.subscriptions[-1].cb(msg)


def test_the_follower_applies_in_order_and_is_caught_up_at_the_stream_head() -> None:
    async def main() -> None:
        js = FakeJetStream(head=6)
        ledger = FakeLedger(stream=0)
        follower, applied, progress, _, met = _follower(js, ledger, catch_up_batch=2)
        task = asyncio.create_task(follower.run())
        await eventually(lambda: len(js.subscriptions) == 1, "a subscription")
        assert js.subscriptions[0].start_seq == 1
        assert progress.remaining == 6 and not progress.caught_up
        for seq in range(1, 7):
            await deliver(js, message(OTHER, seq, seq, num_pending=6 - seq))
        await eventually(lambda: progress.caught_up, "caught up at the head")
        seqs = [seq for seq, _, _ in applied.batches]
        assert seqs == sorted(seqs) and seqs[-1] == 6 and ledger.stream == 6
        assert [i for _, _, ids in applied.batches for i in ids] == \
            [f"{OTHER}-{n}" for n in range(1, 7)]
        assert all(downloading for _, downloading, _ in applied.batches)  # the history
        assert progress.applied == 6 and progress.remaining == 0
        assert {OTHER} in met  # a newcomer's keys are fetched before its events are applied
        await stopped(task)
        assert js.subscriptions[0].unsubscribed
    run(main)


def test_no_full_collector_pass_while_the_history_downloads() -> None:
    """A download keeps tens of thousands of messages alive; a full pass of the cyclic
    collector walked them all with the GIL held while a door's scan waited (collector.py)."""
    async def main() -> None:
        before = gc.get_threshold()
        js = FakeJetStream(head=4)
        ledger = FakeLedger(stream=0)
        follower, applied, progress, _, _ = _follower(js, ledger, catch_up_batch=2)
        applied.gate.clear()
        task = asyncio.create_task(follower.run())
        await eventually(lambda: len(js.subscriptions) == 1, "a subscription")
        for seq in range(1, 5):
            await deliver(js, message(OTHER, seq, seq, num_pending=4 - seq))
        await eventually(lambda: follower.applying, "a history batch being written")
        assert gc.get_threshold() == (*before[:2], collector.PUT_OFF)
        applied.gate.set()
        await eventually(lambda: progress.caught_up, "caught up at the head")
        assert gc.get_threshold() == before  # in sync: full passes as before
        await stopped(task)
        assert gc.get_threshold() == before
    run(main)


def test_the_full_pass_pause_lasts_while_any_download_holds_it() -> None:
    before = gc.get_threshold()
    first, second = collector.FullPassesPause(), collector.FullPassesPause()
    first.hold()
    second.hold()
    first.hold()  # idempotent: one claim each
    first.release()
    assert gc.get_threshold()[2] == collector.PUT_OFF  # the second download goes on
    second.release()
    second.release()
    assert gc.get_threshold() == before


def test_follow_again_drops_the_buffer_and_resumes_from_the_stored_position() -> None:
    async def main() -> None:
        js = FakeJetStream(head=100)
        ledger = FakeLedger(stream=10)
        follower, applied, _, _, _ = _follower(js, ledger)
        task = asyncio.create_task(follower.run())
        await eventually(lambda: len(js.subscriptions) == 1, "a subscription")
        assert js.subscriptions[0].start_seq == 11
        applied.gate.clear()  # the first batch is being written...
        await deliver(js, message(OTHER, 1, 11))
        await eventually(lambda: follower.applying, "the first batch being applied")
        await deliver(js, message(OTHER, 2, 12), message(OTHER, 3, 13))  # ...these wait
        follower.follow_again("a delivery was dropped")
        applied.gate.set()
        await eventually(lambda: len(js.subscriptions) == 2, "a new subscription")
        assert js.subscriptions[0].unsubscribed
        assert js.subscriptions[1].start_seq == 12  # after what was stored, not what was buffered
        assert [seq for seq, _, _ in applied.batches] == [11]
        await stopped(task)
    run(main)


def test_own_echoes_are_skipped_and_move_the_position_once_per_checkpoint_interval() -> None:
    async def main() -> None:
        js = FakeJetStream(head=100)
        ledger = FakeLedger()
        follower, applied, progress, mono, _ = _follower(js, ledger, checkpoint_interval_s=1.0)
        task = asyncio.create_task(follower.run())
        await eventually(lambda: len(js.subscriptions) == 1, "a subscription")
        await deliver(js, message(ME, 1, 1), message(OTHER, 1, 2))
        await eventually(lambda: progress.applied == 2, "a mixed batch")
        assert applied.batches[-1][2] == [f"{OTHER}-1"]  # our own event left out
        for stream_seq in (3, 4):  # echoes only, with no time passing: no write
            await deliver(js, message(ME, stream_seq - 1, stream_seq))
            await eventually(lambda s=stream_seq: progress.applied == s, "an echo handled")
        assert [seq for seq, _, _ in applied.batches] == [2]
        mono.advance(1.5)
        await deliver(js, message(ME, 4, 5))
        await eventually(lambda: progress.applied == 5, "an echo after the interval")
        assert [seq for seq, _, _ in applied.batches] == [2, 5]
        assert applied.batches[-1][2] == [] and ledger.stream == 5
        await stopped(task)
    run(main)


# --- inbox ----------------------------------------------------------------------------------------
def test_the_inbox_holds_delivery_back_at_its_limit_and_resumes_on_take() -> None:
    async def main() -> None:
        inbox = Inbox(limit=2)
        await inbox.on_msg(message(OTHER, 1, 1))  # room left: returns at once
        second = asyncio.create_task(inbox.on_msg(message(OTHER, 2, 2)))
        await eventually(lambda: len(inbox.msgs) == 2, "the second message")
        await asyncio.sleep(0)
        assert not second.done()  # the delivery (and so the server's flow control) waits
        assert len(inbox.take(1)) == 1
        await eventually(second.done, "delivery resumed")
        inbox.follow_again("test")  # dropping the buffer never leaves a delivery waiting
        assert inbox.msgs == [] and inbox.refollow == "test"
    run(main)


# --- how a session ends ---------------------------------------------------------------------------
def test_errors_end_a_session_with_the_matching_type() -> None:
    other = OtherOrganisation("hub:4222", "org-b", "org-a")
    assert isinstance(classify(other), WrongOrganisation)
    assert str(classify(other)) == str(other)  # the status shows the same sentence
    assert isinstance(classify(nats.errors.AuthorizationError()), AuthRefused)
    assert isinstance(classify(nats.errors.Error("nats: 'Authorization Violation'")), AuthRefused)
    unsuitable = HubUnsuitable("The hub is too old.")
    assert classify(unsuitable) is unsuitable
    lost = classify(ConnectionResetError("reset by peer"))
    assert isinstance(lost, SessionLost) and str(lost) == "reset by peer"
    assert isinstance(classify(asyncio.TimeoutError()), SessionLost)


def test_the_parts_end_the_session_with_what_failed_not_the_cancelled_rest() -> None:
    async def fails(exc: Exception, after_s: float = 0.0) -> None:
        await asyncio.sleep(after_s)
        raise exc

    async def runs_on() -> None:
        await asyncio.Event().wait()

    async def returns() -> None:  # as sync-resign does once done
        await asyncio.sleep(0)

    async def ending(*parts: Callable[[], Coroutine[Any, Any, None]]) -> BaseException:
        tasks = [asyncio.create_task(make()) for make in parts]
        try:
            await session_module._together(tasks)
        except BaseExceptionGroup as eg:
            assert all(t.done() for t in tasks)  # nothing of the session outlives it
            return classify(first_cause(eg))
        raise AssertionError("the parts did not fail")

    async def main() -> None:
        ended = await ending(runs_on, lambda: fails(OSError("gone")), runs_on)
        assert isinstance(ended, SessionLost) and str(ended) == "gone"
        # A part that returns ends nothing: the session runs on until one fails.
        ended = await ending(returns, runs_on, lambda: fails(HubUnsuitable("too old"), 0.05))
        assert isinstance(ended, HubUnsuitable)
    run(main)
    # Two tasks failing at once: a typed ending wins over a plain error and the cancellations.
    group = BaseExceptionGroup("tasks", [OSError("first"), asyncio.CancelledError(),
                                         BaseExceptionGroup("inner", [HubUnsuitable("too old")])])
    assert isinstance(first_cause(group), HubUnsuitable)


class _TooOldServer:
    """What nats.connect returns for a hub running a nats-server older than stations support."""

    connected_server_version = "2.2.0"
    closed = False

    async def close(self) -> None:
        self.closed = True


def _session(progress: SyncProgress) -> HubSession:
    # Only what a session touches before it reaches the organisation's space.
    parts = SessionParts(ctx=SimpleNamespace(station_id=ME, store=None),  # type: ignore[arg-type]
                         remote=None, ledger=None, settings=SyncSettings(),  # type: ignore[arg-type]
                         progress=progress, claims=HubClaims(None, list),  # type: ignore[arg-type]
                         writer=None, preparer=None, waker=Waker(),  # type: ignore[arg-type]
                         known_origins=set(), origins=list)
    return HubSession(SyncTarget.parse("tls://station:pw@127.0.0.1:4222"), parts)


def test_a_session_ends_with_the_type_of_what_stopped_it(monkeypatch: pytest.MonkeyPatch) -> None:
    async def checked(target: SyncTarget) -> dict[str, Any]:
        return {}  # no hub here to look at: the certificate check is test_tls.py's

    async def ended_by(connect: Callable[..., Awaitable[Any]]) -> BaseException:
        monkeypatch.setattr(nats, "connect", connect)
        monkeypatch.setattr(session_module, "tls_options", checked)
        progress = SyncProgress()
        progress.set_connected(True)  # as after an earlier session
        try:
            await _session(progress).run()
        except Exception as exc:  # noqa: BLE001 - the test looks at what it is
            assert not progress.connected  # a session that ended never counts as connected
            return exc
        raise AssertionError("a session returned")

    server = _TooOldServer()

    async def too_old(**_: Any) -> _TooOldServer:
        return server

    async def refused(**_: Any) -> None:
        raise nats.errors.AuthorizationError

    async def unreachable(**_: Any) -> None:
        raise ConnectionRefusedError(111, "Connect call failed")

    async def main() -> None:
        ended = await ended_by(too_old)
        assert isinstance(ended, HubUnsuitable) and "2.2.0" in str(ended) and server.closed
        assert isinstance(await ended_by(refused), AuthRefused)
        lost = await ended_by(unreachable)
        assert isinstance(lost, SessionLost) and "Connect call failed" in str(lost)

        async def impostor(target: SyncTarget) -> dict[str, Any]:
            raise HubNotTrusted("certificate fingerprint differs")

        reached: list[object] = []

        async def connect_recorded(**options: Any) -> None:
            reached.append(options)

        monkeypatch.setattr(nats, "connect", connect_recorded)
        monkeypatch.setattr(session_module, "tls_options", impostor)
        with pytest.raises(HubNotTrusted):
            await _session(SyncProgress()).run()
        assert reached == []  # nats.connect, and so the password, never reached
    run(main)
