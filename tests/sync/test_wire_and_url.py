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
from station.services.sync_apply import RemoteBatch, RemoteEventService


PIN = "Mat-jKRtTtggIBljrlTPy0tGynuxg5Zhz4N72IlcRGo"


def test_a_sync_url_keeps_its_password_out_of_what_is_shown() -> None:
    target = SyncTarget.parse(f"tls://station:s%3Acret@10.0.0.5:4333#sha256={PIN}")
    assert (target.host, target.port, target.user, target.password) == ("10.0.0.5", 4333, "station", "s:cret")
    assert target.fingerprint == PIN and not target.plaintext
    # The fingerprint is no secret: it stays in what is shown and saved.
    assert target.public_url() == f"tls://station@10.0.0.5:4333#sha256={PIN}"
    assert target.server_url() == "tls://10.0.0.5:4333"
    assert SyncTarget.parse(target.full_url()) == target
    assert SyncTarget.parse("hub.local").port == 4222
    assert SyncTarget.parse("hub.local").scheme == "tls"
    old = SyncTarget.parse("nats://station:pw@10.0.0.5:4333")  # from before TLS: recognised
    assert old.plaintext and old.fingerprint is None


@pytest.mark.parametrize("bad", ["http://x:1", "nats://:4222", "nats://host:99999", "x" * 600,
                                 "tls://h:1#sha256=short", f"tls://h:1#md5={PIN}",
                                 f"nats://h:1#sha256={PIN}", f"tls://h:1#sha256={PIN}x"])
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


@pytest.mark.allow_log("station.services.sync_apply", "refused synced event")
def test_one_bad_event_does_not_hold_back_the_rest_of_a_synced_batch(core: Core) -> None:
    created = core.passes.create(core.passes.validate("Bea"))
    good = _event(id="evt_" + "c" * 32, pass_id=created.id)
    positions: list[int] = []
    remote = RemoteEventService(core.ctx)
    try:
        applied = remote.apply_batch(
            RemoteBatch([_event(origin=""), good], signatures_checked=True),
            lambda tx: positions.append(int(tx.execute("SELECT count(*) FROM events").fetchone()[0])),
        ).result(timeout=60)
    finally:
        remote.close()
    assert applied.inserted == 1 and core.store.pass_by_id(created.id).status == "revoked"  # type: ignore[union-attr]
    assert positions == [core.store.count_events()]  # the position still moves past both


def test_a_remote_event_moves_the_clock_past_its_stamp(core: Core) -> None:
    future = "999999999999000.000005"
    created = core.passes.create(core.passes.validate("Bea"))
    RemoteEventService(core.ctx).apply([_event(hlc=future, pass_id=created.id)])
    assert core.ctx.hlc.now().encode() > future
    assert core.store.pass_by_id(created.id).status == "revoked"  # type: ignore[union-attr]


def test_the_nats_server_binary_is_found() -> None:
    assert find_nats_server().is_file()


def test_the_data_text_cut_from_the_wire_is_the_data_as_the_log_stores_it(core: Core) -> None:
    from station.store.sync import data_text
    p = core.passes.create(core.passes.validate("Ann", fields={"seat": "12 \u00e9"}))
    for event in core.store.events_for_pass(p.id):
        raw = wire.encode(event)
        decoded, text = wire.decode_with_text(raw)
        assert decoded == event and text == data_text(event.data)
        # Other spacing or key order: the general path, same result.
        body = json.loads(raw)
        for other in (json.dumps(body).encode(), json.dumps(dict(reversed(body.items()))).encode()):
            assert wire.decode_with_text(other) == (event, data_text(event.data))
        # A repeated "data" key: the parser keeps the last one, and the text must be that one.
        forged = raw.replace(b',"hlc":', b',"data":{"evil":1},"hlc":', 1)
        decoded, text = wire.decode_with_text(forged)
        assert decoded.data == {"evil": 1} and json.loads(text) == {"evil": 1}
    with pytest.raises(InvalidInput):
        wire.decode_with_text(b'{"data":{},"id":1}')
