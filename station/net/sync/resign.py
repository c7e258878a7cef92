"""After an upgrade: publishing again, signed, what this station published unsigned too late.

Stations refuse an unsigned event the hub stored after the organisation switched to signed
events (services/event_trust.py). A station that was upgraded after another had made that switch
may have published events unsigned in between: the upgraded stations refused them. Once per hub
stream this station looks at its own subjects after the switch point and publishes those events
again, from its log, signed, under a message id of their own (the stream would take the original
id, seen minutes before, for a retry and drop it). Stations that applied an event already skip it
by its id, as for any redelivery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

import nats.errors
import nats.js.errors
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from station.domain.errors import InvalidInput
from station.domain.events import Event
from station.net.sync import wire
from station.net.sync.jetstream import OrgSpace

log = logging.getLogger(__name__)

FETCH = 500
RESIGNED_SUFFIX = ":signed"  # the message id of an event published again, signed


async def unsigned_after(js: JetStreamContext, space: OrgSpace, origin: str, after_seq: int,
                         timeout: float = 10.0) -> list[str]:
    """Ids of the unsigned events on `origin`'s subject after stream sequence `after_seq`."""
    sub = await js.pull_subscribe(
        space.events_of(origin), stream=space.stream,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                              opt_start_seq=after_seq + 1, ack_policy=AckPolicy.NONE))
    ids: list[str] = []
    try:
        left = int((await sub.consumer_info()).num_pending or 0)
        while left > 0:
            msgs = await sub.fetch(min(FETCH, left), timeout=timeout)
            left -= len(msgs)
            for msg in msgs:
                try:
                    event = wire.decode(msg.data)
                except InvalidInput:
                    continue
                if event.sig is None:
                    ids.append(event.id)
    finally:
        try:
            await sub.unsubscribe()
        except (nats.errors.Error, ValueError):
            pass
    return ids


async def resign_own(js: JetStreamContext, space: OrgSpace, origins: Sequence[str],
                     unsigned_until: int, events_by_ids: Callable[[list[str]], list[Event]],
                     sign: Callable[[Sequence[Event]], list[Event]]) -> int:
    """Publish again, signed, this station's events the hub holds unsigned after the switch
    point; how many. Raises what NATS raises (the caller tries again next session)."""
    ids: list[str] = []
    for origin in origins:
        ids += await unsigned_after(js, space, origin, unsigned_until)
    if not ids:
        return 0
    events = await asyncio.to_thread(lambda: sign(events_by_ids(ids)))
    for event in events:
        await js.publish(space.events_of(event.origin), wire.encode(event),
                         headers={"Nats-Msg-Id": event.id + RESIGNED_SUFFIX})
    log.info("published %d events again, signed (sent unsigned before this station was "
             "upgraded)", len(events))
    return len(events)


async def resign_once(js: JetStreamContext, space: OrgSpace, origins: Sequence[str],
                      unsigned_until: int, done: Callable[[], bool], mark_done: Callable[[], None],
                      events_by_ids: Callable[[list[str]], list[Event]],
                      sign: Callable[[Sequence[Event]], list[Event]]) -> None:
    """`resign_own` unless done for this stream already (`done`, `mark_done`: blocking reads
    and writes of the station's settings); a failure is tried again next session."""
    if await asyncio.to_thread(done):
        return
    try:
        await resign_own(js, space, origins, unsigned_until, events_by_ids, sign)
    except (nats.errors.Error, nats.js.errors.Error, asyncio.TimeoutError, OSError) as exc:
        log.info("publishing earlier unsigned events again failed (%s); next session", exc)
        return
    await asyncio.to_thread(mark_done)
