"""Publish rounds over a real hub (docs/sync-trust.md, "Rounds"): a door publishes its history in
rounds whose last event alone is signed, another door applies all of it, and an unsigned event
that a client with hub access injects into the stream is refused, never applied on trust."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from station.domain import tokens
from station.domain.event_signature import UNCOVERED, EventTrust, ends_segment, link_only
from station.domain.events import Event, new_event_id
from station.net.sync import jetstream, wire
from station.net.sync.hub import HubServer
from station.net.sync.hub_tls import connect_hub
from station.domain.remote import data_text
from station.services.event_trust import EventTrustService
from station.services.passes import PassService
from station.store.sync import SyncLedger
from tests.sync.conftest import StationFactory, in_sync, wait_for


def _stream_sigs(hub: HubServer, org: str, origin: str) -> list[str | None]:
    """The `sig` of every message on `origin`'s subject, in stream order."""
    async def main() -> list[str | None]:
        nc = await connect_hub(hub.target)
        try:
            js = nc.jetstream()
            space = (await jetstream.open_space(js, org)).space
            sub = await js.pull_subscribe(
                space.events_of(origin), stream=space.stream,
                config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL,
                                      ack_policy=AckPolicy.NONE))
            left = int((await sub.consumer_info()).num_pending or 0)
            sigs: list[str | None] = []
            while left > 0:
                msgs = await sub.fetch(min(500, left), timeout=30)
                left -= len(msgs)
                sigs += [wire.decode(m.data).sig for m in msgs]
            await sub.unsubscribe()
            return sigs
        finally:
            await nc.close()
    return asyncio.run(main())


def _inject(hub: HubServer, org: str, subject_of: str, event: Event) -> None:
    async def main() -> None:
        nc = await connect_hub(hub.target)  # the hub's admin user: anyone who stole it
        try:
            js = nc.jetstream()
            space = (await jetstream.open_space(js, org)).space
            await js.publish(space.events_of(subject_of), wire.encode(event),
                             headers={"Nats-Msg-Id": event.id})
        finally:
            await nc.close()
    asyncio.run(main())


def _has_event(station: object, event_id: str) -> bool:
    return station.core.store.db().execute(  # type: ignore[attr-defined]
        "SELECT 1 FROM events WHERE id = ?", [event_id]).fetchone() is not None


@pytest.mark.allow_log("station.services.event_trust", UNCOVERED)
def test_a_history_published_in_rounds_is_applied_whole_and_an_injected_unsigned_event_is_not(
        hub: HubServer, make_station: StationFactory, caplog: pytest.LogCaptureFixture) -> None:
    url = hub.target.full_url()
    a, b = make_station("Door A", url), make_station("Door B", url)
    wait_for(in_sync(a, b), what="A and B in sync")
    org = a.sync.status().organisation  # type: ignore[union-attr]
    a_id = a.core.ctx.station_id
    made = a.core.passes.create_many(
        [PassService.validate(f"R{i}", "single") for i in range(2000)])
    wait_for(lambda: all(b.core.store.pass_by_id(p.id) is not None for p in made[::50])
             and b.core.store.pass_by_id(made[-1].id) is not None, timeout=180,
             what="A's 2,000 passes at B")
    wait_for(in_sync(a, b), what="A and B in sync again")
    assert all(b.core.store.pass_by_id(p.id) is not None for p in made)
    sigs = _stream_sigs(hub, org, a_id)
    signed = [s for s in sigs if s and not s.startswith(".")]
    # One signature per round (at most 500 events) and per 512-event chain segment.
    assert len(sigs) >= 2000 and 4 <= len(signed) <= len(sigs) // 100

    # A client with hub access injects, on A's subject, an event in A's name that carries a
    # link as if a later signature of A covered it; then A publishes a round of its own.
    template = next(e for _, e in SyncLedger(a.core.store).unsent([a_id], 0)
                    if e.type == "pass.created")
    forged = dataclasses.replace(
        template, id=new_event_id(), origin_seq=template.origin_seq + 100_000,
        data={**template.data, "name": "Mallory"}, sig=link_only("A" * 43))
    _inject(hub, org, a_id, forged)
    later = a.core.passes.create(PassService.validate("After the forgery", "single"))
    wait_for(lambda: b.core.store.pass_by_id(later.id) is not None, what="A's next pass at B")
    wait_for(in_sync(a, b), what="A and B in sync at the end")
    assert not _has_event(b, forged.id)
    said = [r.getMessage() for r in caplog.records if r.name == "station.services.event_trust"]
    assert f"refused 1 synced event claiming to come from station {a_id}: {UNCOVERED}" in said
    held = b.core.store.pass_by_id(template.pass_id or "")
    assert held is not None and held.name != "Mallory"


def test_a_round_published_again_after_a_restart_covers_what_the_hub_kept_of_it(
        make_station: StationFactory) -> None:
    # A door stopped in the middle of publishing a round: the hub kept its first 100 events,
    # link-only, without their top. Started again, it publishes the round again (the hub drops
    # the repeats inside its duplicate window) with the same links: the new top covers them.
    x = make_station("Door X", None)
    x_id = x.core.ctx.station_id
    x.core.passes.create_many([PassService.validate(f"X{i}", "single") for i in range(700)])
    log_x = [e for _, e in SyncLedger(x.core.store).unsent([x_id], 0, 10_000)]
    before = EventTrustService(x.core.ctx)
    first = before.sign(log_x[:500])
    kept = before.sign(log_x[500:])[:100]  # what reached the hub of the interrupted round
    again = EventTrustService(x.core.ctx).sign(log_x[500:])  # a new process: no memory
    assert again[:100] == kept  # byte for byte, links and all
    trust = EventTrust({x_id: (tokens.public_key_bytes(x.core.ctx.keys.private.public_key()),)},
                       None)
    stream = [*first, *kept, *again[100:]]  # the repeats dropped as duplicates
    texts = [data_text(e.data) for e in stream]
    n = len(stream)
    assert trust.refusals(stream, texts, [False] * n, [None] * n) == [None] * n
    # Without the rest of the round, what the hub kept is never applied on trust (but for what
    # the signed last event of a 512-event chain segment among them covers).
    ends = [e.origin_seq for e in kept if ends_segment(e.origin_seq)]
    assert trust.refusals(kept, texts[500:600], [False] * 100, [None] * 100) == [
        None if ends and e.origin_seq <= ends[-1] else UNCOVERED for e in kept]
    assert UNCOVERED in trust.refusals(kept, texts[500:600], [False] * 100, [None] * 100)
