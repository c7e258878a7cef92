"""Test doubles for the sync parts' unit tests (tests/sync/test_parts.py): a JetStream that
records publishes and feeds deliveries by hand, a sync ledger in memory, a clock moved by hand.
They stand in for nats-py and the store only where a test must control timing or failures; the
end-to-end tests in tests/sync/ run the same parts against a real nats-server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import nats.js.errors

from station.domain.events import Event
from station.domain.remote import data_text
from station.net.sync import wire
from station.net.sync.jetstream import OrgSpace
from station.net.sync.progress import Clock
from tests.fakes import FakeClock

SPACE = OrgSpace("org")


class ManualTime:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def manual_clock() -> tuple[Clock, ManualTime]:
    mono = ManualTime()
    return Clock(monotonic=mono, now=FakeClock()), mono


def event(origin: str, seq: int) -> Event:
    return Event(id=f"{origin}-{seq}", type="test.event", timestamp="2026-06-01T18:00:00Z",
                 data={"n": seq}, origin=origin, origin_seq=seq, hlc=f"{seq:020d}")


@dataclass
class FakeMsg:
    subject: str
    data: bytes
    metadata: Any


def message(origin: str, seq: int, stream_seq: int, num_pending: int = 0) -> FakeMsg:
    meta = SimpleNamespace(sequence=SimpleNamespace(stream=stream_seq), num_pending=num_pending)
    return FakeMsg(SPACE.events_of(origin), wire.encode(event(origin, seq)), meta)


@dataclass
class FakeSubscription:
    cb: Callable[[Any], Awaitable[None]]
    start_seq: int
    unsubscribed: bool = False

    async def unsubscribe(self) -> None:
        self.unsubscribed = True


@dataclass
class FakeJetStream:
    """publish / subscribe / stream_info / delete_consumer, as the sync parts call them."""

    head: int = 0  # the stream's last sequence, as stream_info reports it
    timeouts: int = 0  # this many next publish calls time out (the message is not stored)
    attempts: list[str] = field(default_factory=list)  # Nats-Msg-Id of every publish call
    stored: list[tuple[str, bytes, str]] = field(default_factory=list)  # subject, body, msg id
    subscriptions: list[FakeSubscription] = field(default_factory=list)

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> None:
        msg_id = headers["Nats-Msg-Id"]
        self.attempts.append(msg_id)
        await asyncio.sleep(0)
        if self.timeouts > 0:
            self.timeouts -= 1
            raise asyncio.TimeoutError
        self.stored.append((subject, payload, msg_id))

    async def subscribe(self, subject: str, *, stream: str, cb: Callable[[Any], Awaitable[None]],
                        ordered_consumer: bool, idle_heartbeat: float, config: Any
                        ) -> FakeSubscription:
        assert ordered_consumer and stream == SPACE.stream and subject == SPACE.all_events
        sub = FakeSubscription(cb, int(config.opt_start_seq))
        self.subscriptions.append(sub)
        return sub

    async def stream_info(self, stream: str) -> Any:
        return SimpleNamespace(state=SimpleNamespace(last_seq=self.head))

    async def delete_consumer(self, stream: str, name: str) -> None:
        raise nats.js.errors.NotFoundError


@dataclass
class FakeLedger:
    """The sync ledger's reads and writes the publisher and the follower use, in memory."""

    log: list[Event] = field(default_factory=list)  # local seq = index + 1
    saved: dict[str, int] = field(default_factory=dict)  # checkpointed publish progress
    checkpoints: list[tuple[str, int]] = field(default_factory=list)
    stream: int = 0  # the stored stream position

    def unsent(self, origins: Sequence[str], after_seq: int, limit: int = 500
               ) -> list[tuple[int, Event]]:
        return [(i + 1, e) for i, e in enumerate(self.log)
                if i + 1 > after_seq and e.origin in origins][:limit]

    def unsent_texts(self, origins: Sequence[str], after_seq: int, limit: int = 500
                     ) -> list[tuple[int, Event, str]]:
        return [(seq, e, data_text(e.data)) for seq, e in self.unsent(origins, after_seq, limit)]

    def published_seq(self, hub: str) -> int:
        return self.saved.get(hub, 0)

    def mark_published(self, hub: str, seq: int, at: str) -> None:
        self.checkpoints.append((hub, seq))
        self.saved[hub] = max(self.saved.get(hub, 0), seq)


async def eventually(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Wait on the loop (letting the parts run) until `check()` holds; a generous bound."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)
