"""The sync URL, the wire format and the checks on a peer's events (no server needed)."""

from __future__ import annotations

import json

import pytest

from station.app import Core
from station.domain.errors import InvalidInput
from station.domain.events import Event, EventType
from station.net.sync import wire
from station.net.sync.binary import find_nats_server
from station.net.sync.url import SyncTarget
from station.services.sync_apply import RemoteEventService


def test_a_sync_url_keeps_its_password_out_of_what_is_shown() -> None:
    target = SyncTarget.parse("nats://station:s%3Acret@10.0.0.5:4333")
    assert (target.host, target.port, target.user, target.password) == ("10.0.0.5", 4333, "station", "s:cret")
    assert target.public_url() == "nats://station@10.0.0.5:4333"
    assert target.server_url() == "nats://10.0.0.5:4333"
    assert SyncTarget.parse(target.full_url()) == target
    assert SyncTarget.parse("hub.local").port == 4222


@pytest.mark.parametrize("bad", ["http://x:1", "nats://:4222", "nats://host:99999", "x" * 600])
def test_a_bad_sync_url_is_refused_clearly(bad: str) -> None:
    with pytest.raises(InvalidInput):
        SyncTarget.parse(bad)


def test_events_survive_the_wire(core: Core) -> None:
    p = core.passes.create(core.passes.validate("Ann"))
    for event in core.store.events_for_pass(p.id):
        assert wire.decode(wire.encode(event)) == event


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"id": "evt_1"}', b"{" + b" " * 300_000 + b"}",
                                 json.dumps({"id": 1, "type": "pass.created", "timestamp": "t",
                                             "data": {}, "origin": "o", "originSeq": 1,
                                             "hlc": "h"}).encode()])
def test_malformed_messages_are_refused(raw: bytes) -> None:
    with pytest.raises(InvalidInput):
        wire.decode(raw)


def _event(**changes: object) -> Event:
    base = dict(id="evt_" + "a" * 32, type=EventType.PASS_STATUS_CHANGED, timestamp="2026-06-01T18:00:00Z",
                data={"trigger": "revoke", "to": "revoked"}, origin="sta_x", origin_seq=1,
                hlc="000001780000000.000000", pass_id="pas_x")
    base.update(changes)
    return Event(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [
    _event(type="pass.deleted"), _event(id="drop table"), _event(origin=""), _event(origin_seq=0),
    _event(hlc="yesterday"), _event(pass_id=None),
])
def test_a_bad_remote_event_changes_nothing(core: Core, bad: Event) -> None:
    before = core.store.count_events()
    with pytest.raises(InvalidInput):
        RemoteEventService(core.ctx).apply([_event(id="evt_" + "b" * 32), bad])
    assert core.store.count_events() == before


def test_a_remote_event_moves_the_clock_past_its_stamp(core: Core) -> None:
    future = "999999999999000.000005"
    created = core.passes.create(core.passes.validate("Bea"))
    RemoteEventService(core.ctx).apply([_event(hlc=future, pass_id=created.id)])
    assert core.ctx.hlc.now().encode() > future
    assert core.store.pass_by_id(created.id).status == "revoked"  # type: ignore[union-attr]


def test_the_nats_server_binary_is_found() -> None:
    assert find_nats_server().is_file()
